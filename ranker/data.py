"""From recbot's data to the model's tensors: vocabulary, item inputs, rating tokens, batches.

The only module that knows both sides: :mod:`ranker.model` sees tensors, :mod:`ranker.train`
sees batches, and this module turns item ids, ratings and session signals into them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ranker.features import ItemFeatures
from ranker.model import N_SPECIAL_ITEMS, UNK
from ranker.protocol import PairSequence

# Rating tokens: 0 pads; 1..10 are half-star buckets; the rest mark where a signal came from.
N_STARS = 10
LIKED = 11
DISLIKED = 12
START = 13  # "the history begins here": lets an empty or short history be encoded
UNRATED = 14
N_RATING_TOKENS = 15


def rating_token(rating: float | None) -> int:
    """Half-star bucket of a rating on the 0.5-5 scale; ``UNRATED`` when there is none."""
    if rating is None or not np.isfinite(rating):
        return UNRATED
    return int(np.clip(round(rating * 2), 1, N_STARS))


def rating_tokens(ratings: np.ndarray) -> np.ndarray:
    """:func:`rating_token` of every rating at once (NaN and infinities are ``UNRATED``)."""
    ratings = np.asarray(ratings, dtype=np.float64)
    finite = np.isfinite(ratings)
    stars = np.clip(np.rint(np.where(finite, ratings, 0.0) * 2), 1, N_STARS)
    return np.where(finite, stars, UNRATED).astype(np.int64)


def pair_columns(pairs: Sequence[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Item ids (int64) and ratings (float64) of (item, rating) pairs; arrays pass through."""
    if isinstance(pairs, PairSequence):
        return pairs.items, pairs.ratings
    items = np.array([item for item, _ in pairs], dtype=np.int64)
    return items, np.array([rating for _, rating in pairs], dtype=np.float64)


@dataclass(frozen=True)
class Vocabulary:
    """Item ids that have a learned ID embedding; vocabulary item ``k`` is model index ``2 + k``."""

    item_ids: np.ndarray  # (V,) int64 ascending

    @classmethod
    def from_sequences(cls, sequences: Mapping[int, Sequence[tuple[int, float]]]) -> Vocabulary:
        columns = [pair_columns(sequence)[0] for sequence in sequences.values()]
        return cls(np.unique(np.concatenate([np.zeros(0, np.int64), *columns])))

    def __len__(self) -> int:
        return len(self.item_ids)

    def classes(self, item_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Vocabulary position of each id, -1 when it has none."""
        ids = np.asarray(item_ids, dtype=np.int64)
        if not len(self.item_ids):
            return np.full(len(ids), -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.item_ids, ids), 0, len(self.item_ids) - 1)
        return np.where(self.item_ids[pos] == ids, pos, -1)

    def model_index(self, item_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Model item index of each id: ``2 + k`` for vocabulary items, ``UNK`` otherwise."""
        k = self.classes(item_ids)
        return np.where(k >= 0, k + N_SPECIAL_ITEMS, UNK)


@dataclass(frozen=True)
class ItemInputs:
    """The item tower's inputs for a list of items (one row each)."""

    index: torch.Tensor  # (N,) long
    content: torch.Tensor  # (N, C)
    genres: torch.Tensor  # (N, G)
    dense: torch.Tensor  # (N, 3)

    def as_args(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.index, self.content, self.genres, self.dense


def item_inputs(
    item_ids: Sequence[int] | np.ndarray,
    features: ItemFeatures,
    vocabulary: Vocabulary,
    genre_names: Sequence[str],
) -> ItemInputs:
    """Item tower inputs; ids missing from ``features`` get zero features (ID embedding only).

    ``genre_names`` is the model's genre order; feature genres it does not know are dropped.
    """
    index = torch.from_numpy(vocabulary.model_index(item_ids))
    n, dim = len(index), features.content.shape[1]
    if not len(features):
        zeros = torch.zeros
        return ItemInputs(index, zeros(n, dim), zeros(n, len(genre_names)), zeros(n, 3))
    rows = features.rows(item_ids)
    found = (rows >= 0)[:, None].astype(np.float32)  # (N, 1): zero features for unknown ids
    safe = np.where(rows >= 0, rows, 0)
    column = {name: j for j, name in enumerate(features.genre_names)}
    genres = np.zeros((n, len(genre_names)), dtype=np.float32)
    for j, name in enumerate(genre_names):
        if name in column:
            genres[:, j] = features.genres[safe, column[name]]
    dense = np.stack([features.year, features.has_year, features.log_popularity], axis=1)
    content = features.content[safe]  # (N, C), a copy: zeroed in place, not copied twice more
    np.multiply(content, found, out=content)
    return ItemInputs(
        index=index,
        content=torch.from_numpy(content.astype(np.float32, copy=False)),
        genres=torch.from_numpy(genres * found),
        dense=torch.from_numpy((dense[safe] * found).astype(np.float32)),
    )


def left_pad(rows: Sequence[np.ndarray], length: int) -> torch.Tensor:
    """Stack 1-D int arrays right-aligned in a (B, length) zero tensor, keeping the newest."""
    out = np.zeros((len(rows), length), dtype=np.int64)
    for b, row in enumerate(rows):
        row = row[-length:]
        if len(row):
            out[b, length - len(row) :] = row
    return torch.from_numpy(out)


def with_start(items: np.ndarray, tokens: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Prefix the START token (no item) when the whole history fits in ``length``."""
    if len(items) >= length:
        return items, tokens
    return np.concatenate([[0], items]), np.concatenate([[START], tokens])


@dataclass
class Sequences:
    """Training sequences in model terms: per user, vocabulary classes and rating tokens."""

    classes: list[np.ndarray]  # each (n,) int64 in [0, V)
    tokens: list[np.ndarray]  # each (n,) int64 rating tokens

    @classmethod
    def build(
        cls, sequences: Mapping[int, Sequence[tuple[int, float]]], vocabulary: Vocabulary
    ) -> Sequences:
        classes, tokens = [], []
        for user in sorted(sequences):
            items, ratings = pair_columns(sequences[user])
            if not len(items):
                continue
            classes.append(vocabulary.classes(items))
            tokens.append(rating_tokens(ratings))
        return cls(classes, tokens)


@dataclass(frozen=True)
class SessionSimulation:
    """How often training pretends a conversation happened, so the session inputs learn weights.

    ``liked``: share of windows where some history ratings become "liked"/"disliked" tokens;
    ``unrated``: share of windows with no ratings at all; ``signals``: share of positions that
    get a wanted genre, an unwanted genre or a noisy query vector pointing at the next item.
    """

    liked: float = 0.2
    unrated: float = 0.05
    signals: float = 0.1
    query_noise: float = 1.0  # noise norm relative to the unit-norm content vector


@dataclass(frozen=True)
class Batch:
    history: torch.Tensor  # (B, T) 1 + vocabulary class, 0 = none
    ratings: torch.Tensor  # (B, T) rating tokens
    wanted: torch.Tensor  # (B, T, G)
    unwanted: torch.Tensor  # (B, T, G)
    query: torch.Tensor  # (B, T, C)
    targets: torch.Tensor  # (B, T) class of the next item, -1 = none


class WindowSampler:
    """Cuts each user's sequence into windows of ``length`` next-item predictions per epoch.

    The first window of every user ends at the newest item; earlier windows start from a random
    offset each epoch, so the model sees every position with varying context.
    """

    def __init__(
        self,
        sequences: Sequences,
        items: ItemInputs,
        length: int,
        simulation: SessionSimulation,
        seed: int,
        max_positions: int = 0,
    ) -> None:
        self.sequences = sequences
        self.max_positions = max_positions  # newest positions trained per user; 0 = all
        self.items = items  # rows are vocabulary classes
        self.length = length
        self.simulation = simulation
        self.rng = np.random.default_rng(seed)

    def windows(self) -> list[tuple[int, int]]:
        """(user, end) pairs for one epoch; a window predicts positions [end - length, end)."""
        out = []
        for user, classes in enumerate(self.sequences.classes):
            n = len(classes)
            first = max(0, n - self.max_positions) if self.max_positions else 0
            out.append((user, n))
            end = n - int(self.rng.integers(1, self.length + 1))
            while end > first:
                out.append((user, end))
                end -= self.length
        return out

    def epoch(self, batch_size: int) -> tuple[int, Iterator[Batch]]:
        """How many batches one epoch has, and the batches, each made only when it is taken.

        The windows and their order are drawn at once; an epoch's batches together hold a
        (T, content) query per window, so they are never all in memory (~1.5 GB at 10^4 users).
        """
        windows = self.windows()
        order = self.rng.permutation(len(windows))
        starts = range(0, len(order), batch_size)
        batches = (self.batch([windows[i] for i in order[s : s + batch_size]]) for s in starts)
        return len(starts), batches

    def batch(self, windows: Sequence[tuple[int, int]]) -> Batch:
        histories, ratings, targets = [], [], []
        for user, end in windows:
            classes = self.sequences.classes[user]
            tokens = self.sequences.tokens[user].copy()
            self._simulate_ratings(tokens)
            # inputs are [START, x0, ..., x_{n-2}] and targets [x0, ..., x_{n-1}]
            history = np.concatenate([[0], classes[:-1] + 1])
            token_in = np.concatenate([[START], tokens[:-1]])
            lo = max(0, end - self.length)
            histories.append(history[lo:end])
            ratings.append(token_in[lo:end])
            targets.append(classes[lo:end] + 1)
        target = left_pad(targets, self.length) - 1  # (B, T), -1 = padding
        wanted, unwanted, query = self._simulate_signals(target)
        return Batch(
            left_pad(histories, self.length),
            left_pad(ratings, self.length),
            wanted,
            unwanted,
            query,
            target,
        )

    def _simulate_ratings(self, tokens: np.ndarray) -> None:
        sim = self.simulation
        if self.rng.random() < sim.unrated:
            tokens[:] = UNRATED
        elif self.rng.random() < sim.liked:
            pick = self.rng.random(len(tokens)) < 0.3
            tokens[pick & (tokens >= 8)] = LIKED
            tokens[pick & (tokens <= 4)] = DISLIKED

    def _simulate_signals(
        self, target: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per position, maybe one signal about the next item: a genre it has, a genre it
        lacks, or its content vector blurred by noise (a stand-in for the chat's query)."""
        B, T = target.shape
        G, C = self.items.genres.shape[1], self.items.content.shape[1]
        wanted, unwanted = torch.zeros(B, T, G), torch.zeros(B, T, G)
        query = torch.zeros(B, T, C)
        on = (self.rng.random((B, T)) < self.simulation.signals) & (target.numpy() >= 0)
        kind = self.rng.integers(0, 3, size=(B, T))
        for k, out in enumerate((wanted, unwanted)):
            pick = torch.from_numpy(on & (kind == k))
            if not pick.any():
                continue
            genres = self.items.genres[target[pick]]  # (P, G)
            allowed = genres > 0 if k == 0 else genres == 0
            r = torch.from_numpy(self.rng.random(tuple(genres.shape))).float()
            r = torch.where(allowed, r + 1.0, 0.0)  # any allowed genre beats every other one
            onehot = torch.zeros_like(genres).scatter_(1, r.argmax(1, keepdim=True), 1.0)
            out[pick] = onehot * allowed.any(1, keepdim=True)
        pick = torch.from_numpy(on & (kind == 2))
        if pick.any():
            content = self.items.content[target[pick]]  # (P, C)
            noise = torch.from_numpy(self.rng.standard_normal(tuple(content.shape))).float()
            noise = noise * self.simulation.query_noise / noise.norm(dim=1, keepdim=True)
            blurred = content + noise
            query[pick] = blurred / blurred.norm(dim=1, keepdim=True).clamp(min=1e-6)
        return wanted, unwanted, query


@dataclass(frozen=True)
class RankingTask:
    """Held-out next items to rank over a universe of items, excluding each user's history."""

    items: ItemInputs  # rows of the universe
    history: torch.Tensor  # (U, T) 1 + universe row, 0 = none
    ratings: torch.Tensor  # (U, T) rating tokens
    targets: torch.Tensor  # (U,) universe row of the held-out item
    seen: list[np.ndarray]  # per user, universe rows to exclude from the ranking

    @classmethod
    def build(
        cls,
        sequences: Mapping[int, Sequence[tuple[int, float]]],
        targets: Mapping[int, int],
        features: ItemFeatures,
        vocabulary: Vocabulary,
        genre_names: Sequence[str],
        length: int,
    ) -> RankingTask:
        """Universe: the vocabulary plus every target (targets outside it are scored by content)."""
        users = [u for u in sorted(targets) if sequences.get(u)]
        universe = np.union1d(vocabulary.item_ids, np.array([targets[u] for u in users]))
        histories, ratings, seen = [], [], []
        for user in users:
            item_ids, item_ratings = pair_columns(sequences[user])
            rows = np.searchsorted(universe, item_ids)
            tokens = rating_tokens(item_ratings)
            items, tokens = with_start(rows[-length:] + 1, tokens[-length:], length)
            histories.append(items)
            ratings.append(tokens)
            seen.append(rows)
        return cls(
            items=item_inputs(universe, features, vocabulary, genre_names),
            history=left_pad(histories, length),
            ratings=left_pad(ratings, length),
            targets=torch.from_numpy(np.searchsorted(universe, [targets[u] for u in users])),
            seen=seen,
        )

    def __len__(self) -> int:
        return len(self.targets)
