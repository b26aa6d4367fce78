"""The signals a candidate is ranked by, and the weighted blend that orders a list.

Every candidate of a turn gets one row of named signals, each standardised over the turn's
candidates so that weights compare across turns:

| signal | what it measures |
| --- | --- |
| ``relevance`` | the retrieval score that found it (text cosine, or liked-item cosine plus genre overlap) |
| ``text`` | cosine of the item to the request's words (the vibe, moods, genres) |
| ``items`` | cosine of the item to the centroid of the movies the person liked or named |
| ``ranker`` | the DNN ranker's score for this person (history and session signals) |
| ``quality`` | Bayesian-average rating plus log popularity (MovieLens) |
| ``cooccurrence`` | "people who liked what you named also watched this" (item-kNN on ratings) |
| ``trending`` | log ratings in the catalog's last years: what people watch lately |
| ``year`` | release year (decades from 2000) |
| ``conversation`` | log times recommended in real conversations |
| ``follows`` | how often it was recommended after the movies this conversation named |
| ``together`` | how often it was talked about in the same conversations as each named movie |
| ``genre`` | the share of the genres the person said they like ("I love horror") it has |

The weights are data: hand-set defaults below, or weights learned from real conversations by
``recbot train`` (:func:`ranker.conversation.fit_weights`, measured by cross-validation in the
dialogue benchmark).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from catalog.domain import Item
from ranker.neighbours import evidence
from ranker.types import UserContext
from tools.deps import ToolDeps

SIGNALS = (
    "relevance",
    "text",
    "items",
    "ranker",
    "quality",
    "cooccurrence",
    "trending",
    "year",
    "conversation",
    "follows",
    "together",
    "genre",
)
PRIOR_RATINGS = 10  # the Bayesian average's pseudo-count

# Without learned weights: what was asked for leads, the ranker and quality temper it (cold);
# the collaborative signal leads for known users (warm). Conversation signals need training.
COLD_WEIGHTS: dict[str, float] = {
    "relevance": 1.0,
    "ranker": 0.5,
    "quality": 0.8,
    "cooccurrence": 0.2,
    "trending": 0.2,
    # a genre liked as a taste counts as much as what was asked for (relevance), on each path
    "genre": 1.0,
}
WARM_WEIGHTS: dict[str, float] = {"relevance": 0.5, "ranker": 1.0, "genre": 0.5}


@dataclass(frozen=True)
class Request:
    """What a turn asks for, in the terms the signals need."""

    context: UserContext  # the ranker's view: history, session likes and dislikes, genres
    query_vector: np.ndarray | None = None  # (d,) unit-norm embedding of the request's words
    seeds: tuple[int, ...] = ()  # movies liked or asked to be like
    mentioned: tuple[int, ...] = ()  # every movie the conversation named (either side)
    preferred_genres: frozenset[str] = frozenset()  # liked as a taste: ranked, not filtered


def standardise(values: np.ndarray) -> np.ndarray:
    """Zero mean, unit spread; all zeros when the values do not vary (or there are none)."""
    if values.size < 2:
        return np.zeros_like(values, dtype=np.float64)
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


def raw_signals(
    deps: ToolDeps,
    candidates: Sequence[int],
    request: Request,
    relevance: Sequence[float] | None = None,
) -> np.ndarray:
    """(n, len(SIGNALS)) raw signal values for catalog ``candidates`` (``relevance``: their
    retrieval scores, 0 for candidates no similarity search found)."""
    n = len(candidates)
    out = np.zeros((n, len(SIGNALS)), dtype=np.float64)
    if not n:
        return out
    column = {name: j for j, name in enumerate(SIGNALS)}
    if relevance is not None:
        out[:, column["relevance"]] = relevance
    index = deps.retriever.index
    vectors = index.vectors(list(candidates)).astype(np.float64)  # (n, d)
    if request.query_vector is not None:  # what the films are, not what they are called
        described = deps.retriever.description_vectors(candidates).astype(np.float64)
        out[:, column["text"]] = described @ request.query_vector
    seeds = [i for i in request.seeds if i in index]
    if seeds:
        centroid = index.vectors(seeds).astype(np.float64).mean(axis=0)
        norm = float(np.linalg.norm(centroid))
        if norm > 1e-6:
            out[:, column["items"]] = vectors @ (centroid / norm)
    out[:, column["ranker"]] = np.asarray(deps.scorer.score(request.context, candidates))
    items = [deps.catalog.get(i) for i in candidates]
    counts = np.array([item.popularity for item in items], dtype=np.float64)
    means = np.array([item.mean_rating or 0.0 for item in items], dtype=np.float64)
    overall = float((means * counts).sum() / max(counts.sum(), 1.0))
    bayes = (means * counts + overall * PRIOR_RATINGS) / (counts + PRIOR_RATINGS)
    out[:, column["quality"]] = standardise(bayes) + standardise(np.log1p(counts))
    if deps.neighbours is not None and request.seeds:
        out[:, column["cooccurrence"]] = evidence(deps.neighbours, request.seeds, candidates)
    out[:, column["trending"]] = np.log1p([deps.trending.get(i, 0) for i in candidates])
    out[:, column["year"]] = [((item.year or 1990) - 2000) / 10 for item in items]
    out[:, column["genre"]] = genre_share(items, request.preferred_genres)
    conversation = deps.conversation
    if conversation:
        out[:, column["conversation"]] = conversation.popularity(candidates)
        out[:, column["follows"]] = conversation.follow_scores(request.mentioned, candidates)
        out[:, column["together"]] = conversation.together_scores(request.mentioned, candidates)
    return out


def genre_share(items: Sequence[Item], genres: frozenset[str]) -> list[float]:
    """Per item, the share of ``genres`` it has (compared case-insensitively; 0 without any)."""
    wanted = {g.casefold() for g in genres}
    if not wanted:
        return [0.0] * len(items)
    return [len(wanted & {g.casefold() for g in item.genres}) / len(wanted) for item in items]


def standardised_signals(raw: np.ndarray) -> np.ndarray:
    """Each signal standardised over the turn's candidates."""
    return (
        np.column_stack([standardise(raw[:, j]) for j in range(raw.shape[1])]) if len(raw) else raw
    )


def weight_vector(weights: Mapping[str, float]) -> np.ndarray:
    return np.array([weights.get(name, 0.0) for name in SIGNALS], dtype=np.float64)


def blend(signals: np.ndarray, weights: Mapping[str, float]) -> np.ndarray:
    """The weighted sum of standardised signals: one score per candidate."""
    if not len(signals):
        return np.zeros(0)
    return standardised_signals(signals) @ weight_vector(weights)
