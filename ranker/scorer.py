"""The trained ranker behind the :class:`ranker.types.Scorer` interface.

The checkpoint is read once; every item the features or the vocabulary know is encoded once
into a table of item vectors, so scoring a batch of contexts is one transformer pass plus dot
products. Items outside the vocabulary use the shared "unknown" ID row and their content
features; items unknown to both get :data:`UNKNOWN_SCORE`. The user id is not an input: a known
user is known through the history the caller puts in the context.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from catalog.errors import ArtifactError
from ranker.data import (
    DISLIKED,
    LIKED,
    Vocabulary,
    item_inputs,
    left_pad,
    rating_token,
    with_start,
)
from ranker.features import ItemFeatures
from ranker.model import Ranker
from ranker.train import Checkpoint, load_checkpoint, torch_threads
from ranker.types import UserContext

UNKNOWN_SCORE = np.float32(-1e9)  # finite, below any real score


class DNNScorer:
    """Scores candidates for a user context with the trained :class:`ranker.model.Ranker`."""

    name = "dnn"

    def __init__(self, checkpoint: Checkpoint, features: ItemFeatures, *, threads: int = 1) -> None:
        self.model: Ranker = checkpoint.model.eval()
        self.threads = threads  # torch threads while scoring; see TrainConfig.threads
        config = self.model.config
        if len(features) and features.content.shape[1] != config.content_dim:
            raise ArtifactError(
                f"the ranker was trained on {config.content_dim}-dim content vectors, "
                f"the catalog has {features.content.shape[1]}: rebuild the ranker"
            )
        self.genre_column = {name.lower(): j for j, name in enumerate(checkpoint.genre_names)}
        self.ids = np.union1d(features.ids, checkpoint.item_ids)  # (M,) every scorable item
        vocabulary = Vocabulary(checkpoint.item_ids)
        inputs = item_inputs(self.ids, features, vocabulary, checkpoint.genre_names)
        with torch_threads(threads), torch.inference_mode():
            self.table = self.model.item_vectors(*inputs.as_args())  # (M, d)

    @classmethod
    def load(cls, path: str | Path, features: ItemFeatures, *, threads: int = 1) -> DNNScorer:
        """Read the checkpoint at ``path`` and encode the items of ``features``."""
        return cls(load_checkpoint(path), features, threads=threads)

    def score(self, context: UserContext, candidates: Sequence[int]) -> np.ndarray:
        """Float32 scores aligned with ``candidates``."""
        return self.score_batch([context], [candidates])[0]

    def score_batch(
        self, contexts: Sequence[UserContext], candidates: Sequence[Sequence[int]]
    ) -> list[np.ndarray]:
        """Scores for many contexts in one model call; one float32 array per context."""
        if len(contexts) != len(candidates):
            raise ValueError("one candidate list per context")
        if not contexts:
            return []
        with torch_threads(self.threads), torch.inference_mode():
            users = self._user_vectors(contexts)  # (B, d)
            rows = [self._rows(c) for c in candidates]
            width = max(1, *(len(r) for r in rows))
            padded = left_pad([np.where(r >= 0, r, 0) for r in rows], width)  # (B, K)
            items = self.table[padded]  # (B, K, d)
            scores = torch.einsum("bd,bkd->bk", users, items).numpy()  # (B, K)
        out = []
        for b, r in enumerate(rows):
            row = scores[b, width - len(r) :] if len(r) else scores[b, :0]
            out.append(np.where(r >= 0, row, UNKNOWN_SCORE).astype(np.float32))
        return out

    def _rows(self, item_ids: Sequence[int]) -> np.ndarray:
        ids = np.asarray(list(item_ids), dtype=np.int64)
        if not len(ids) or not len(self.ids):
            return np.full(len(ids), -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.ids, ids), 0, len(self.ids) - 1)
        return np.where(self.ids[pos] == ids, pos, -1)

    def _user_vectors(self, contexts: Sequence[UserContext]) -> torch.Tensor:
        config = self.model.config
        histories, ratings = [], []
        for context in contexts:
            items, tokens = self._tokens(context)
            items, tokens = items[-config.max_history :], tokens[-config.max_history :]
            items, tokens = with_start(items, tokens, config.max_history)
            histories.append(items)
            ratings.append(tokens)
        B = len(contexts)
        wanted = torch.zeros(B, config.n_genres)
        unwanted = torch.zeros(B, config.n_genres)
        query = torch.zeros(B, config.content_dim)
        for b, context in enumerate(contexts):
            wanted[b, self._genre_columns(context.wanted_genres)] = 1.0
            unwanted[b, self._genre_columns(context.unwanted_genres)] = 1.0
            vector = context.query_vector
            if vector is not None and np.shape(vector) == (config.content_dim,):
                query[b] = torch.from_numpy(np.nan_to_num(np.asarray(vector, dtype=np.float32)))
        return self.model.user_vectors(
            self.table,
            left_pad(histories, config.max_history),
            left_pad(ratings, config.max_history),
            wanted,
            unwanted,
            query,
        )

    def _tokens(self, context: UserContext) -> tuple[np.ndarray, np.ndarray]:
        """Table rows + 1 and rating tokens, oldest first; chat signals come last (newest)."""
        ratings = context.ratings or (None,) * len(context.history)
        pairs = [(i, rating_token(r)) for i, r in zip(context.history, ratings, strict=True)][::-1]
        pairs += [(i, LIKED) for i in context.liked] + [(i, DISLIKED) for i in context.disliked]
        rows = self._rows([i for i, _ in pairs])
        keep = rows >= 0
        tokens = np.array([t for _, t in pairs], dtype=np.int64)
        return rows[keep] + 1, tokens[keep]

    def _genre_columns(self, names: frozenset[str]) -> list[int]:
        return [self.genre_column[n.lower()] for n in names if n.lower() in self.genre_column]
