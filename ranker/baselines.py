"""Baseline scorers the DNN has to beat: popularity, item-kNN, content similarity and implicit ALS.

Each is a :class:`ranker.types.Scorer` fitted from training interactions (every rating counts as
one implicit interaction) and, where useful, :class:`ranker.features.ItemFeatures`. They read only
the :class:`UserContext`, never a user id, so known users, new users and the validation item
seen at test time are all handled the same way. Unknown candidates get the lowest finite score;
an empty context falls back to popularity. Nothing here raises for unknown ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from catalog.domain import Interaction
from ranker.features import ItemFeatures
from ranker.types import UserContext


def lookup(vocabulary: np.ndarray, item_ids: Sequence[int]) -> np.ndarray:
    """Row of each id in the ascending ``vocabulary``, -1 where it is absent."""
    ids = np.asarray(item_ids, dtype=np.int64)
    if not len(vocabulary):
        return np.full(len(ids), -1, dtype=np.int64)
    pos = np.clip(np.searchsorted(vocabulary, ids), 0, len(vocabulary) - 1)
    return np.where(vocabulary[pos] == ids, pos, -1)


def recency_weights(n: int, decay: float) -> np.ndarray:
    """Weights ``decay ** position`` for a history stored newest first (1.0 = all equal)."""
    return np.power(decay, np.arange(n, dtype=np.float64))


def place(known_scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """float32 scores for candidates with ``rows``; unknown ones (-1) score below every known."""
    out = np.zeros(len(rows), dtype=np.float64)
    known = rows >= 0
    out[known] = known_scores[rows[known]]
    floor = out[known].min() if known.any() else 0.0
    out[~known] = floor - 1.0
    return out.astype(np.float32)


def _interaction_matrix(
    interactions: Iterable[Interaction],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (user row, item row) pairs and the ascending item vocabulary."""
    pairs = {(i.user_id, i.item_id) for i in interactions}
    users = np.array(sorted({u for u, _ in pairs}), dtype=np.int64)
    items = np.array(sorted({i for _, i in pairs}), dtype=np.int64)
    ordered = sorted(pairs)
    user_rows = lookup(users, [u for u, _ in ordered])
    item_rows = lookup(items, [i for _, i in ordered])
    return user_rows, item_rows, items


@dataclass
class PopularityScorer:
    """Scores an item by how many training interactions it has: the non-personal floor."""

    item_ids: np.ndarray  # (I,) int64 ascending
    counts: np.ndarray  # (I,) float64
    name: str = "popularity"

    @classmethod
    def fit(
        cls, interactions: Iterable[Interaction], features: ItemFeatures | None = None
    ) -> PopularityScorer:
        """Count training interactions per item (``features`` is unused; kept for symmetry)."""
        _, item_rows, items = _interaction_matrix(interactions)
        counts = np.bincount(item_rows, minlength=len(items)).astype(np.float64)
        return cls(items, counts)

    def score(self, context: UserContext, candidates: Sequence[int]) -> np.ndarray:
        """Training counts; unseen items score 0, the lowest count."""
        rows = lookup(self.item_ids, candidates)
        return np.where(rows >= 0, self.counts[rows], 0.0).astype(np.float32)


@dataclass
class ItemKNNScorer:
    """Item-item cosine kNN on the binary user-item matrix (Sarwar et al. 2001; Deshpande 2004).

    A candidate's score is the sum of its similarities to the history items, among each history
    item's ``neighbours`` most similar items, weighted by ``recency ** position`` (newest first).
    Candidates with no evidence rank below those with some, ordered by popularity.
    """

    item_ids: np.ndarray  # (I,) int64 ascending: items seen in training
    neighbour_rows: np.ndarray  # (I, K) int64
    neighbour_sims: np.ndarray  # (I, K) float32
    popularity: np.ndarray  # (I,) float64 in [0, 1]
    recency: float = 0.85
    name: str = "itemknn"

    @classmethod
    def fit(
        cls,
        interactions: Iterable[Interaction],
        features: ItemFeatures | None = None,
        *,
        neighbours: int = 5,
        shrink: float = 0.0,
        recency: float = 0.85,
        block: int = 1024,
    ) -> ItemKNNScorer:
        """Similarities ``|U_i ∩ U_j| / (sqrt(|U_i| |U_j|) + shrink)`` among training items.

        Only each item's top ``neighbours`` are kept; rows are computed ``block`` items at a time,
        so memory is (users x items) + (block x items), never items x items. The defaults were
        tuned on the ml-latest-small validation stage (NDCG@10; 5-20 neighbours and recency
        0.6-0.85 are within noise of each other).
        """
        user_rows, item_rows, items = _interaction_matrix(interactions)
        matrix = np.zeros((int(user_rows.max(initial=-1)) + 1, len(items)), dtype=np.float32)
        matrix[user_rows, item_rows] = 1.0
        counts = matrix.sum(axis=0, dtype=np.float64)
        k = max(0, min(neighbours, len(items) - 1))
        top_rows = np.zeros((len(items), k), dtype=np.int64)
        top_sims = np.zeros((len(items), k), dtype=np.float32)
        for start in range(0, len(items) if k else 0, block):
            stop = min(start + block, len(items))
            sims = (matrix[:, start:stop].T @ matrix).astype(np.float64)  # (B, I) co-counts
            sims /= np.sqrt(np.outer(counts[start:stop], counts)) + shrink
            sims[np.arange(stop - start), np.arange(start, stop)] = 0.0
            best = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            top_rows[start:stop] = best
            top_sims[start:stop] = np.take_along_axis(sims, best, axis=1)
        popularity = counts / max(counts.max(initial=0.0), 1.0)
        return cls(items, top_rows, top_sims, popularity, recency)

    def score(self, context: UserContext, candidates: Sequence[int]) -> np.ndarray:
        """Summed neighbour similarity to the history; popularity orders the rest."""
        history = lookup(self.item_ids, context.history)
        weights = recency_weights(len(history), self.recency)[history >= 0]
        history = history[history >= 0]
        evidence = np.zeros(len(self.item_ids), dtype=np.float64)
        contributions = weights[:, None] * self.neighbour_sims[history]  # (H, K)
        np.add.at(evidence, self.neighbour_rows[history].ravel(), contributions.ravel())
        known = np.where(evidence > 0, evidence, -1.0 + 0.5 * self.popularity)
        return place(known, lookup(self.item_ids, candidates))


@dataclass
class ContentScorer:
    """Cosine between candidate item text embeddings and a profile of the user's context.

    The profile is the recency-weighted mean of the history vectors, plus the query vector and
    the liked items, minus the disliked items, each with its weight. ``popularity_weight`` adds
    a prior on ``features.log_popularity`` (pure similarity ignores that people mostly watch
    popular films). Needs no training, so it also scores items nobody has interacted with yet.
    """

    features: ItemFeatures
    recency: float = 0.5
    query_weight: float = 1.0
    liked_weight: float = 1.0
    disliked_weight: float = 0.5
    popularity_weight: float = 0.5
    name: str = "content"

    @classmethod
    def fit(
        cls,
        interactions: Iterable[Interaction],
        features: ItemFeatures,
        *,
        recency: float = 0.5,
        query_weight: float = 1.0,
        liked_weight: float = 1.0,
        disliked_weight: float = 0.5,
        popularity_weight: float = 0.5,
    ) -> ContentScorer:
        """Same shape as the other ``fit`` methods; only ``features`` and the weights matter.

        ``recency`` and ``popularity_weight`` were tuned on the ml-latest-small validation
        stage; the session weights (query, liked, disliked) are not measured by that protocol.
        """
        weights = (query_weight, liked_weight, disliked_weight, popularity_weight)
        return cls(features, recency, *weights)

    def _mean(self, item_ids: Sequence[int], weights: np.ndarray | None = None) -> np.ndarray:
        """Weighted mean content vector of the known items among ``item_ids`` (zeros if none)."""
        rows = self.features.rows(item_ids)
        weights = np.ones(len(rows)) if weights is None else weights
        known = rows >= 0
        if not known.any():
            return np.zeros(self.features.content.shape[1], dtype=np.float64)
        vectors = self.features.content[rows[known]].astype(np.float64)
        mean = weights[known] @ vectors / weights[known].sum()
        return mean / max(float(np.linalg.norm(mean)), 1e-12)

    def profile(self, context: UserContext) -> np.ndarray:
        """The direction the candidates are compared with; zeros when the context is empty."""
        decay = recency_weights(len(context.history), self.recency)
        profile = self._mean(context.history, decay)
        if context.query_vector is not None:
            profile = profile + self.query_weight * np.asarray(context.query_vector, np.float64)
        profile = profile + self.liked_weight * self._mean(context.liked)
        return profile - self.disliked_weight * self._mean(context.disliked)

    def score(self, context: UserContext, candidates: Sequence[int]) -> np.ndarray:
        """Content similarity plus the popularity prior; popularity alone for an empty context."""
        rows = self.features.rows(candidates)
        profile = self.profile(context)
        popularity = self.features.log_popularity.astype(np.float64)
        if not np.any(profile):
            return place(popularity, rows)
        needed = np.unique(rows[rows >= 0])  # the candidates' rows only, not the whole catalog
        known = self.popularity_weight * popularity
        known[needed] += self.features.content[needed] @ profile.astype(np.float32)
        return place(known, rows)


@dataclass
class MFScorer:
    """Implicit-feedback ALS matrix factorisation (Hu, Koren & Volinsky 2008), in numpy.

    Training alternates least-squares solves (a few conjugate-gradient steps each) for user and
    item factors, with confidence ``1 + alpha`` on observed pairs and 1 on all others. At
    scoring time the user's factors are solved exactly from the context history with the same
    user step ("fold-in"), so known and new users are alike and the validation item counts at
    test time; ``recency`` multiplies ``alpha`` by ``recency ** position`` (newest first).
    """

    item_ids: np.ndarray  # (I,) int64 ascending
    item_factors: np.ndarray  # (I, F) float64
    gram: np.ndarray  # (F, F) item_factors.T @ item_factors
    popularity: np.ndarray  # (I,) float64, fallback for an empty history
    alpha: float
    regularization: float
    recency: float = 0.7
    name: str = "als"

    @classmethod
    def fit(
        cls,
        interactions: Iterable[Interaction],
        features: ItemFeatures | None = None,
        *,
        factors: int = 64,
        regularization: float = 10.0,
        alpha: float = 10.0,
        iterations: int = 15,
        cg_steps: int = 3,
        recency: float = 0.7,
        seed: int = 0,
    ) -> MFScorer:
        """Fit on distinct (user, item) pairs; ``features`` is unused. Deterministic per seed.

        The defaults were tuned on the ml-latest-small validation stage (NDCG@10); 32-96
        factors, regularization 1-10 and alpha 5-20 are within noise of each other there.
        """
        user_rows, item_rows, items = _interaction_matrix(interactions)
        n_users = int(user_rows.max(initial=-1)) + 1
        rng = np.random.default_rng(seed)
        users_f = rng.normal(0.0, 0.01, (n_users, factors))
        items_f = rng.normal(0.0, 0.01, (len(items), factors))
        observed = np.zeros((n_users, len(items)))  # (U, I) binary; small for MovieLens
        observed[user_rows, item_rows] = 1.0
        for _ in range(iterations):
            users_f = _als_step(users_f, items_f, observed, alpha, regularization, cg_steps)
            items_f = _als_step(items_f, users_f, observed.T, alpha, regularization, cg_steps)
        counts = np.bincount(item_rows, minlength=len(items)).astype(np.float64)
        popularity = counts / max(counts.max(initial=0.0), 1.0)
        gram = items_f.T @ items_f
        return cls(items, items_f, gram, popularity, alpha, regularization, recency)

    def user_factors(self, context: UserContext) -> np.ndarray | None:
        """Factors solved from the context history; None when no history item is known."""
        rows = lookup(self.item_ids, context.history)
        confidence = self.alpha * recency_weights(len(rows), self.recency)[rows >= 0]
        rows = rows[rows >= 0]
        if not len(rows):
            return None
        return _solve_one(self.item_factors, self.gram, rows, confidence, self.regularization)

    def score(self, context: UserContext, candidates: Sequence[int]) -> np.ndarray:
        """Dot product of item factors with the folded-in user; popularity without history."""
        user = self.user_factors(context)
        known = self.popularity if user is None else self.item_factors @ user
        return place(known, lookup(self.item_ids, candidates))


def _solve_one(
    fixed: np.ndarray, gram: np.ndarray, rows: np.ndarray, confidence: np.ndarray, reg: float
) -> np.ndarray:
    """One exact ALS solve: ``(G + Y_r^T (C-1) Y_r + reg I) x = Y_r^T C 1``."""
    factors = fixed[rows]  # (n, F)
    lhs = gram + (factors.T * confidence) @ factors + reg * np.eye(gram.shape[0])
    rhs = (1.0 + confidence) @ factors
    return np.linalg.solve(lhs, rhs)


def _als_step(
    solved: np.ndarray,
    fixed: np.ndarray,
    observed: np.ndarray,
    alpha: float,
    reg: float,
    steps: int,
) -> np.ndarray:
    """Every row's ALS solve at once, by a few warm-started conjugate-gradient steps.

    Row ``r`` solves ``(F^T F + alpha F^T diag(P_r) F + reg I) x = (1 + alpha) F^T P_r`` where
    ``P`` is the dense binary ``observed`` matrix (rows x fixed rows). Thousands of tiny exact
    solves are dominated by BLAS call overhead; these are a few large matrix products
    (Takács et al. 2011, as in the ``implicit`` library).
    """
    lhs_base = fixed.T @ fixed + reg * np.eye(fixed.shape[1])

    def times_lhs(x: np.ndarray) -> np.ndarray:  # (rows, F) -> (rows, F)
        return x @ lhs_base + alpha * (((x @ fixed.T) * observed) @ fixed)

    x = solved.copy()
    residual = (1.0 + alpha) * (observed @ fixed) - times_lhs(x)
    direction = residual.copy()
    norm = np.einsum("rf,rf->r", residual, residual)
    for _ in range(steps):
        product = times_lhs(direction)
        curvature = np.einsum("rf,rf->r", direction, product)
        step = np.divide(norm, curvature, out=np.zeros_like(norm), where=curvature > 0)
        x += step[:, None] * direction
        residual -= step[:, None] * product
        new_norm = np.einsum("rf,rf->r", residual, residual)
        ratio = np.divide(new_norm, norm, out=np.zeros_like(norm), where=norm > 0)
        direction = residual + ratio[:, None] * direction
        norm = new_norm
    return x
