"""An epoch's batches are made one at a time, and are the same batches whenever they are taken."""

from __future__ import annotations

import numpy as np
import torch

from ranker.data import ItemInputs, Sequences, SessionSimulation, WindowSampler

LENGTHS = (3, 60, 120, 7)


def sampler() -> WindowSampler:
    sequences = Sequences(
        [np.arange(n, dtype=np.int64) % 5 for n in LENGTHS],
        [np.full(n, 8, dtype=np.int64) for n in LENGTHS],
    )
    items = ItemInputs(
        torch.arange(5), torch.randn(5, 4, generator=torch.Generator().manual_seed(0)),
        torch.eye(5, 2), torch.zeros(5, 3),
    )  # fmt: skip
    return WindowSampler(sequences, items, 8, SessionSimulation(signals=0.5), seed=3)


def test_an_epoch_counts_its_batches_and_makes_them_when_taken() -> None:
    eager, lazy = sampler(), sampler()
    count, batches = eager.epoch(4)
    taken = list(batches)
    assert count == len(taken) > 1
    count, batches = lazy.epoch(4)
    state = lazy.rng.bit_generator.state
    first = next(batches)  # only now does the first batch draw its simulated signals
    assert lazy.rng.bit_generator.state != state
    for want, got in zip(taken, [first, *batches], strict=True):
        for name in ("history", "ratings", "wanted", "unwanted", "query", "targets"):
            assert torch.equal(getattr(want, name), getattr(got, name)), name
