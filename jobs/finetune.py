"""Instruction-tuning data for LoRA fine-tuning elsewhere: ``recbot export-finetune``.

Two formats, both Alpaca-style ``{"instruction", "input", "output"}`` JSON lines:

* **TallRec** (Bao et al. 2023): the liked and disliked movies of a user's history and a target
  movie; the answer is ``"Yes."`` or ``"No."`` from the user's rating of the target.
* **LlamaRec** (Yue et al. 2023): the user's history, newest last, and a pool of candidates
  labelled with letters (the true next movie and popularity-sampled movies the user never rated);
  the answer is the true movie's letter. The record is the verbalizer prompt recbot itself sends
  (:func:`agent.prompts.verbalizer_prompt`, labels from :data:`tools.rerank_modes.LABELS`), with
  the history as the preferences summary, so a model tuned on it is tuned for that prompt.

Examples come only from the ranker's training split (:func:`ranker.protocol.leave_last_out`): a
window slides over each user's training sequence, the items before position ``i`` are the
history and item ``i`` is the target. A user's held-out validation and test items are never a
target, in a history or a candidate, so a model tuned on this data can still be judged by
``recbot eval`` on the same split. Users are split into a train and a valid file; everything
is seeded per user, so a seed gives the same files byte for byte, and records are written one
line at a time.

TallRec's wording is theirs and lives here, since recbot never sends it;
``tests/unit/jobs/test_finetune.py`` pins both formats.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict
from tqdm import tqdm

from agent.prompts import history_summary, verbalizer_prompt
from catalog.build import BuildConfig
from catalog.domain import Catalog, Interaction, Item
from ranker.pipeline import read_inputs
from ranker.protocol import Split, leave_last_out
from tools.rerank_modes import LABELS

Format = Literal["tallrec", "llamarec"]
FORMATS: tuple[Format, ...] = ("tallrec", "llamarec")
PARTS = ("train", "valid")
FINETUNE_VERSION = "finetune-1"  # bump when the wording or the sampling changes
K_CORE = 5  # the ranker's protocol (ranker.pipeline.RankerData.prepare)
Log = Callable[[str], None]

TALLREC_INSTRUCTION = (
    "Given the user's preference and unpreference, identify whether the user will like the "
    'target movie by answering "Yes." or "No.".'
)


class FinetuneExample(BaseModel):
    """One instruction-tuning record, one line of a JSONL file."""

    model_config = ConfigDict(frozen=True)

    instruction: str
    input: str
    output: str


@dataclass(frozen=True)
class FinetuneConfig:
    """What to export. ``like_threshold``: a rating at or above it is a like (TallRec's ``> 3``
    on a 1–5 integer scale; on half stars 3.5 counts as a dislike)."""

    formats: tuple[Format, ...] = FORMATS
    max_history: int = 10  # newest history items in a prompt
    min_history: int = 1  # history items before the first target
    candidates: int = 20  # LlamaRec pool size, true item included
    negatives: int = 0  # extra TallRec "No." records per target, from unrated items
    like_threshold: float = 4.0
    seed: int = 0
    limit_users: int | None = None  # a seeded sample of this many users
    valid_share: float = 0.1  # share of users whose records go to the valid files

    def __post_init__(self) -> None:
        if not self.formats or any(f not in FORMATS for f in self.formats):
            raise ValueError(f"formats must be some of {FORMATS}, not {self.formats!r}")
        if self.max_history < 1 or self.min_history < 1:
            raise ValueError("max_history and min_history must be at least 1")
        if not 2 <= self.candidates <= len(LABELS):
            raise ValueError(f"candidates must be between 2 and {len(LABELS)} (one letter each)")
        if self.negatives < 0 or self.seed < 0:
            raise ValueError("negatives and seed must not be negative")
        if self.limit_users is not None and self.limit_users < 1:
            raise ValueError("limit_users must be at least 1")
        if not 0.0 <= self.valid_share < 1.0:
            raise ValueError("valid_share must be in [0, 1)")


# --- the two record formats ----------------------------------------------------------------------


def tallrec_example(
    liked: Sequence[str], disliked: Sequence[str], target: str, yes: bool
) -> FinetuneExample:
    """A TallRec record: titles quoted and comma-separated; an empty side stays empty."""
    text = "\n".join(
        [
            f"User Preference: {_quoted(liked)}",
            f"User Unpreference: {_quoted(disliked)}",
            f'Whether the user will like the target movie "{target}"?',
        ]
    )
    return FinetuneExample(
        instruction=TALLREC_INSTRUCTION, input=text, output="Yes." if yes else "No."
    )


def llamarec_example(
    history: Sequence[str], candidates: Sequence[Item], answer: int
) -> FinetuneExample:
    """A LlamaRec record: the verbalizer prompt over ``candidates`` with the history titles,
    oldest first, as the summary; ``answer`` is the true item's position in ``candidates``."""
    prompt = verbalizer_prompt(history_summary(history), candidates, LABELS[: len(candidates)])
    return FinetuneExample(instruction=prompt.system, input=prompt.user, output=LABELS[answer])


def _title(catalog: Catalog, item_id: int) -> str:
    return catalog.get(item_id).display_title


def _quoted(titles: Sequence[str]) -> str:
    return ", ".join(f'"{title}"' for title in titles)


# --- negatives -----------------------------------------------------------------------------------


class NegativeSampler:
    """Items drawn in proportion to their training popularity, never one the user rated.

    Popularity is counted on the training split only, so held-out items weigh nothing they
    did not earn before the split; items never seen in training are never drawn.
    """

    def __init__(self, item_ids: np.ndarray, counts: np.ndarray) -> None:
        self.item_ids = item_ids  # (N,) int64
        self._cumulative = np.cumsum(counts)  # (N,) int64, integer so no draw falls off the end
        self._drawable = [int(item) for item in item_ids[counts > 0]]
        self._total = int(self._cumulative[-1]) if len(item_ids) else 0

    @classmethod
    def from_split(cls, split: Split) -> NegativeSampler:
        counts = Counter(i.item_id for sequence in split.train.values() for i in sequence)
        weights = np.array([counts.get(int(item), 0) for item in split.item_ids], dtype=np.int64)
        return cls(split.item_ids, weights)

    def sample(self, rng: np.random.Generator, k: int, exclude: set[int]) -> list[int]:
        """Up to ``k`` distinct items outside ``exclude``; fewer only when too few are left."""
        chosen: dict[int, None] = {}  # insertion-ordered, so the draw order is kept
        for _attempt in range(8):  # rejection sampling; heavy raters fall through to the rest
            if len(chosen) >= k or self._total == 0:
                break
            draws = rng.integers(0, self._total, size=2 * k + 8)
            positions = np.searchsorted(self._cumulative, draws, side="right")
            for item in self.item_ids[positions].tolist():
                if item not in exclude and item not in chosen:
                    chosen[item] = None
                    if len(chosen) == k:
                        break
        if len(chosen) < k:
            rest = [item for item in self._drawable if item not in exclude and item not in chosen]
            picks = rng.permutation(len(rest))[: k - len(chosen)]
            chosen.update((rest[p], None) for p in picks.tolist())
        return list(chosen)


# --- examples of one user ------------------------------------------------------------------------


@dataclass(frozen=True)
class UserSequence:
    """One user's training sequence without any held-out item, and every item they rated."""

    user: int
    sequence: list[Interaction]
    rated: set[int]

    @classmethod
    def of(cls, split: Split, user: int) -> UserSequence:
        held_out = {split.valid[user], split.test[user]}
        # an item rated twice could sit in training too: held out means held out everywhere
        sequence = [i for i in split.train.get(user, []) if i.item_id not in held_out]
        return cls(user, sequence, {i.item_id for i in sequence} | held_out)

    def windows(self, config: FinetuneConfig) -> Iterator[tuple[list[Interaction], Interaction]]:
        """(history, target) pairs; a target the user rated before is skipped, it would
        give its own answer away."""
        seen = {i.item_id for i in self.sequence[: config.min_history]}
        for position in range(config.min_history, len(self.sequence)):
            target = self.sequence[position]
            if target.item_id not in seen:
                yield self.sequence[max(0, position - config.max_history) : position], target
            seen.add(target.item_id)


def tallrec_examples(
    data: UserSequence,
    catalog: Catalog,
    config: FinetuneConfig,
    sampler: NegativeSampler,
    rng: np.random.Generator,
) -> Iterator[FinetuneExample]:
    """Every window as a yes/no record, plus ``config.negatives`` unrated targets as "No."."""
    for history, target in data.windows(config):
        like = config.like_threshold
        liked = [_title(catalog, i.item_id) for i in history if i.rating >= like]
        disliked = [_title(catalog, i.item_id) for i in history if i.rating < like]
        yes = target.rating >= like
        yield tallrec_example(liked, disliked, _title(catalog, target.item_id), yes)
        for item in sampler.sample(rng, config.negatives, data.rated):
            yield tallrec_example(liked, disliked, _title(catalog, item), False)


def llamarec_examples(
    data: UserSequence,
    catalog: Catalog,
    config: FinetuneConfig,
    sampler: NegativeSampler,
    rng: np.random.Generator,
) -> Iterator[FinetuneExample]:
    """Every window as a lettered pool: the true item at a seeded random position among
    ``config.candidates - 1`` unrated negatives (windows with no negative left are skipped)."""
    for history, target in data.windows(config):
        negatives = sampler.sample(rng, config.candidates - 1, data.rated)
        if not negatives:
            continue
        pool = [target.item_id, *negatives]
        order = rng.permutation(len(pool)).tolist()
        candidates = [catalog.get(pool[n]) for n in order]
        titles = [_title(catalog, i.item_id) for i in history]
        yield llamarec_example(titles, candidates, order.index(0))


_BUILDERS = {"tallrec": tallrec_examples, "llamarec": llamarec_examples}
# each format draws from its own stream, so exporting one format alone gives the same file
_STREAMS = {"tallrec": 1, "llamarec": 2}


def user_examples(
    split: Split,
    user: int,
    fmt: Format,
    catalog: Catalog,
    config: FinetuneConfig,
    sampler: NegativeSampler,
) -> Iterator[FinetuneExample]:
    """One user's records in one format, seeded by (seed, user, format) alone."""
    rng = np.random.default_rng([config.seed, user % 2**63, _STREAMS[fmt]])
    return _BUILDERS[fmt](UserSequence.of(split, user), catalog, config, sampler, rng)


def assign_users(users: Sequence[int], config: FinetuneConfig) -> tuple[list[int], list[int]]:
    """(train users, valid users), ascending: a seeded sample (``limit_users``) cut by share."""
    order = np.random.default_rng(config.seed).permutation(np.asarray(users, dtype=np.int64))
    if config.limit_users is not None:
        order = order[: config.limit_users]
    n_valid = round(config.valid_share * len(order))
    if config.valid_share > 0 and len(order) >= 2:
        n_valid = max(n_valid, 1)  # a valid file with something in it
    return sorted(order[n_valid:].tolist()), sorted(order[:n_valid].tolist())


# --- files ---------------------------------------------------------------------------------------


class _JsonlFile:
    """A JSONL file written line by line to a temporary name, moved in place on commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp = path.with_name(path.name + ".tmp")
        self._handle = self._tmp.open("w", encoding="utf-8")
        self._digest = hashlib.sha256()
        self.outputs: Counter[str] = Counter()

    def write(self, example: FinetuneExample) -> None:
        line = example.model_dump_json() + "\n"
        self._handle.write(line)
        self._digest.update(line.encode())
        self.outputs[example.output] += 1

    def commit(self) -> dict[str, Any]:
        self._handle.close()
        os.replace(self._tmp, self.path)
        records = sum(self.outputs.values())
        return {
            "records": records,
            "outputs": dict(sorted(self.outputs.items())),
            "sha256": self._digest.hexdigest(),
        }

    def abort(self) -> None:
        self._handle.close()
        self._tmp.unlink(missing_ok=True)


def export_finetune(
    split: Split,
    catalog: Catalog,
    out: Path,
    config: FinetuneConfig | None = None,
    *,
    data_hash: str = "",
    progress: bool = False,
    log: Log = print,
) -> dict[str, Any]:
    """Write ``{format}_{train,valid}.jsonl`` and ``manifest.json`` to ``out``; return the manifest."""
    config = config or FinetuneConfig()
    out.mkdir(parents=True, exist_ok=True)
    train_users, valid_users = assign_users(split.users, config)
    formats = " and ".join(config.formats)
    log(f"Writing {formats} records of {len(train_users)} + {len(valid_users)} users to {out} …")
    sampler = NegativeSampler.from_split(split)
    files = {
        (fmt, part): _JsonlFile(out / f"{fmt}_{part}.jsonl")
        for fmt in config.formats
        for part in PARTS
    }
    try:
        for part, users in zip(PARTS, (train_users, valid_users), strict=True):
            for user in tqdm(users, disable=not progress, unit="user", desc=part):
                for fmt in config.formats:
                    for example in user_examples(split, user, fmt, catalog, config, sampler):
                        files[fmt, part].write(example)
    except BaseException:
        for file in files.values():
            file.abort()
        raise
    written = {file.path.name: file.commit() for file in files.values()}
    manifest = _manifest(
        split, config, written, data_hash, users=(len(train_users), len(valid_users))
    )
    _write_json(out / "manifest.json", manifest)
    return manifest


def export_from_build(
    build_config: BuildConfig,
    out: Path,
    config: FinetuneConfig | None = None,
    *,
    progress: bool = False,
    log: Log = print,
) -> dict[str, Any]:
    """:func:`export_finetune` over the last ``recbot build`` (ArtifactError before one)."""
    inputs = read_inputs(build_config)
    split = leave_last_out(inputs.interactions, k=K_CORE)
    return export_finetune(
        split, inputs.catalog, out, config, data_hash=inputs.data_hash, progress=progress, log=log
    )


def _manifest(
    split: Split,
    config: FinetuneConfig,
    files: dict[str, Any],
    data_hash: str,
    *,
    users: tuple[int, int],
) -> dict[str, Any]:
    return {
        "version": FINETUNE_VERSION,
        "data_hash": data_hash,
        "protocol": {
            "split": "ranker.protocol.leave_last_out",
            "k_core": K_CORE,
            "held_out": "each user's last two interactions (validation, test): never a target, "
            "in a history or a candidate",
            "examples": "sliding window over each user's training sequence: target = item i "
            "(i >= min_history), history = up to max_history items before it",
        },
        "split": split.stats(),
        "users": {"train": users[0], "valid": users[1]},
        "options": asdict(config),
        "files": files,
    }


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
