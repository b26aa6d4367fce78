"""Retrieval: item filters, their vectorised evaluation, and the Retriever over the vector index.

A filter becomes an array of allowed ids (numpy masks over the whole catalog, so it stays fast on
10^5+ items) that :class:`~catalog.index.VectorIndex` applies inside the FAISS search.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from catalog.domain import Catalog
from catalog.echo import ECHO_PENALTY, TitleEcho, request_words
from catalog.embeddings import Embedder
from catalog.errors import ArtifactError, IndexMismatchError, UnknownItemError
from catalog.index import Candidate, VectorIndex
from catalog.sequences import dedupe

MISSING_YEAR = np.iinfo(np.int32).min  # fails every year bound
# Excluding at most this many ids (and nothing else) is done by fetching k + len(excluded) and
# dropping them: cheaper than an id filter that allows nearly the whole catalog.
OVERFETCH_MAX_EXCLUDED = 256
# "More like this" blends cosine with genre overlap: embeddings alone let shared title words win
# ("Toy Story" → "Toy Soldiers", "Child's Play"). Measured on ml-latest-small, the mean genre
# Jaccard of the top 10 neighbours of the 300 most-rated films goes 0.39 → 0.75 at weight 0.3.
GENRE_WEIGHT = 0.3
GENRE_POOL = 200  # nearest items re-scored with the genre overlap


def _casefolded(genres: Iterable[str]) -> frozenset[str]:
    return frozenset(genre.casefold() for genre in genres)


@dataclass(frozen=True)
class ItemFilter:
    """Which items a search may return. The default filter allows every item.

    ``include_genres``: the item has ANY of them; ``require_genres``: ALL of them (a named
    combination: "romantic comedy" is Romance and Comedy); ``exclude_genres``: NONE of them
    (all compared case-insensitively, unknown genres match nothing); ``min_year``/``max_year``:
    inclusive, an item without a year fails any bound; ``exclude_years``: inclusive (first,
    last) spans no item may be from ("not from the 90s"), an item without a year fails them
    too (it cannot be shown to lie outside); ``exclude_ids``: never these items.
    """

    include_genres: frozenset[str] = field(default_factory=frozenset)
    exclude_genres: frozenset[str] = field(default_factory=frozenset)
    min_year: int | None = None
    max_year: int | None = None
    exclude_ids: frozenset[int] = field(default_factory=frozenset)
    require_genres: frozenset[str] = field(default_factory=frozenset)
    exclude_years: frozenset[tuple[int, int]] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        # Accept any iterable and store casefolded frozensets, so equal filters compare equal.
        object.__setattr__(self, "include_genres", _casefolded(self.include_genres))
        object.__setattr__(self, "require_genres", _casefolded(self.require_genres))
        object.__setattr__(self, "exclude_genres", _casefolded(self.exclude_genres))
        object.__setattr__(self, "exclude_ids", frozenset(int(i) for i in self.exclude_ids))
        object.__setattr__(
            self,
            "exclude_years",
            frozenset((int(first), int(last)) for first, last in self.exclude_years),
        )

    def is_empty(self) -> bool:
        """True when the filter allows every item."""
        return not self.exclude_ids and self.only_excludes_ids()

    def only_excludes_ids(self) -> bool:
        """True when only ``exclude_ids`` restricts the items (no genre or year bounds)."""
        return (
            not self.include_genres
            and not self.require_genres
            and not self.exclude_genres
            and self.min_year is None
            and self.max_year is None
            and not self.exclude_years
        )

    def excluding(self, item_ids: Iterable[int]) -> ItemFilter:
        """This filter, also excluding ``item_ids``."""
        return replace(self, exclude_ids=self.exclude_ids | frozenset(item_ids))


NO_FILTER = ItemFilter()


class ItemMetadata:
    """The catalog's filterable fields as numpy arrays, one row per item in id order."""

    def __init__(
        self, ids: np.ndarray, years: np.ndarray, genre_matrix: np.ndarray, genres: Sequence[str]
    ) -> None:
        self.ids = ids  # (N,) int64, ascending
        self.years = years  # (N,) int32, MISSING_YEAR where unknown
        self.genre_matrix = genre_matrix  # (N, G) bool
        self.genre_column = {genre: col for col, genre in enumerate(genres)}  # casefolded names

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> ItemMetadata:
        genres = sorted({genre.casefold() for genre in catalog.genres})
        column = {genre: col for col, genre in enumerate(genres)}
        n = len(catalog)
        ids = np.fromiter((item.id for item in catalog), dtype=np.int64, count=n)
        years = np.fromiter(
            (MISSING_YEAR if item.year is None else item.year for item in catalog),
            dtype=np.int32,
            count=n,
        )
        rows = [row for row, item in enumerate(catalog) for _ in item.genres]
        cols = [column[genre.casefold()] for item in catalog for genre in item.genres]
        genre_matrix = np.zeros((n, len(genres)), dtype=bool)
        genre_matrix[rows, cols] = True
        return cls(ids, years, genre_matrix, genres)

    def allowed_ids(self, item_filter: ItemFilter) -> np.ndarray | None:
        """Ascending int64 ids of the items the filter allows; ``None`` when it allows all."""
        if item_filter.is_empty():
            return None
        mask = np.ones(len(self.ids), dtype=bool)
        if item_filter.include_genres:
            mask &= self._has_any(item_filter.include_genres)
        for genre in item_filter.require_genres:
            mask &= self._has_any(frozenset({genre}))
        if item_filter.exclude_genres:
            mask &= ~self._has_any(item_filter.exclude_genres)
        if item_filter.min_year is not None:
            mask &= (self.years != MISSING_YEAR) & (self.years >= item_filter.min_year)
        if item_filter.max_year is not None:
            mask &= (self.years != MISSING_YEAR) & (self.years <= item_filter.max_year)
        for first, last in item_filter.exclude_years:
            mask &= (self.years != MISSING_YEAR) & ((self.years < first) | (self.years > last))
        allowed = self.ids[mask]
        if item_filter.exclude_ids:
            excluded = np.fromiter(item_filter.exclude_ids, dtype=np.int64)
            allowed = allowed[~np.isin(allowed, excluded)]
        return allowed

    def _has_any(self, genres: frozenset[str]) -> np.ndarray:
        cols = [self.genre_column[g] for g in genres if g in self.genre_column]
        if not cols:
            return np.zeros(len(self.ids), dtype=bool)
        return np.any(self.genre_matrix[:, cols], axis=1)


QUERY_CACHE = 256  # request embeddings kept (about 1.5 KB each)


class Retriever:
    """Candidate generation: nearest items to a text, an item, or a set of items, under a filter.

    Checks at construction that the index was built with the embedder's model and dimension and
    holds no item the catalog lacks (a stale index), so searches never meet those surprises.
    """

    def __init__(
        self,
        catalog: Catalog,
        index: VectorIndex,
        embedder: Embedder,
        *,
        genre_weight: float = GENRE_WEIGHT,
        descriptions: np.ndarray | None = None,
    ) -> None:
        info = index.info
        if info["model_name"] != embedder.model_name or info["dim"] != embedder.dim:
            raise IndexMismatchError(
                f"the vector index was built with {info['model_name']} ({info['dim']}-d) but the "
                f"embedder is {embedder.model_name} ({embedder.dim}-d); run `recbot build`"
            )
        metadata = ItemMetadata.from_catalog(catalog)
        indexed = index.ids
        stale = indexed[~np.isin(indexed, metadata.ids)]
        if len(stale):
            raise ArtifactError(
                f"the vector index holds {len(stale)} items the catalog lacks "
                f"(e.g. {int(stale[0])}); run `recbot build`"
            )
        self.catalog = catalog
        self.index = index
        self.embedder = embedder
        self.metadata = metadata
        self.genre_weight = genre_weight
        self.echo = TitleEcho(catalog)
        # (N, d) vectors of the items' texts without titles, rows in catalog order (``recbot
        # build``); None for a home built before them
        if descriptions is not None and descriptions.shape != (len(catalog), info["dim"]):
            raise ArtifactError(
                "the description vectors do not match the catalog; run `recbot build`"
            )
        self.descriptions = descriptions
        self._queries: dict[str, np.ndarray] = {}  # oldest first; see query_vector
        self._queries_lock = threading.Lock()

    def by_text(self, text: str, k: int, filter: ItemFilter = NO_FILTER) -> list[Candidate]:
        """Items closest to a free-text description. The index finds them by the item vectors
        (title and all); they are ranked by their descriptions' vectors, the texts without
        titles (:func:`catalog.text.description_text`), so a title that means the request's
        words is no reason to show a film ("a real tearjerker": *The Man Who Cried*). A home
        built before description vectors ranks by the item vectors less their title echo
        (:mod:`catalog.echo`: "space movies" is no reason for *Office Space*). Blank text
        raises ``ValueError``.

        Raising rather than returning ``[]``: a blank query is a caller bug (the planner should
        have asked the person what they want), and an empty list would look like "no matches".
        """
        if not text.strip():
            raise ValueError("by_text needs a non-blank query text")
        query = self.query_vector(text)
        hits = self._search(query, k, filter)
        if self.descriptions is not None and hits:
            scores = self.description_vectors([hit.item_id for hit in hits]) @ query
            described = [
                Candidate(hit.item_id, float(s)) for hit, s in zip(hits, scores, strict=True)
            ]
            return sorted(described, key=lambda hit: -hit.score)
        words = request_words(text)
        rescored = [
            Candidate(hit.item_id, hit.score - ECHO_PENALTY * self.echo.share(hit.item_id, words))
            for hit in hits
        ]
        return sorted(rescored, key=lambda hit: -hit.score)

    def description_vectors(self, item_ids: Sequence[int]) -> np.ndarray:
        """The (m, d) description vectors of catalog items (the item vectors when this home
        has none), in the given order."""
        if self.descriptions is None:
            return self.index.vectors(list(item_ids))
        rows = [self.catalog.position(int(item_id)) for item_id in item_ids]
        return np.asarray(self.descriptions[rows], dtype=np.float32)

    def query_vector(self, text: str) -> np.ndarray:
        """The (d,) embedding of a request's words, computed once per text: a turn's retrieval
        and its ranking signals embed the same words, and embedding is a turn's costliest step."""
        vector = self._queries.get(text)
        if vector is None:
            vector = self.embedder.embed([text])[0]
            with self._queries_lock:  # turns may run in parallel (simulate --workers, the app)
                while len(self._queries) >= QUERY_CACHE:
                    self._queries.pop(next(iter(self._queries)))
                self._queries[text] = vector
        return vector

    def by_item(self, item_id: int, k: int, filter: ItemFilter = NO_FILTER) -> list[Candidate]:
        """More like this: the items closest to ``item_id``'s vector, never the item itself.

        :class:`UnknownItemError` when the catalog lacks the item; :class:`ArtifactError` when
        the catalog has it but the index does not (the index predates the item).
        """
        self.catalog.get(item_id)
        if item_id not in self.index:
            raise ArtifactError(f"item {item_id} is not in the vector index; run `recbot build`")
        hits = self._search(
            self.index.vector(item_id), max(k, GENRE_POOL), filter.excluding([item_id])
        )
        return self._blend_genres([item_id], hits)[:k]

    def by_items(
        self,
        item_ids: Iterable[int],
        k: int,
        filter: ItemFilter = NO_FILTER,
    ) -> list[Candidate]:
        """Items closest to the centroid of several items' vectors, excluding those items.

        Ids the catalog or the index lacks are ignored (unknown ids are data). When the catalog
        knows none of them, raises :class:`UnknownItemError` for the first; when it knows some but
        the index has none, :class:`ArtifactError`; no ids at all, ``ValueError``.
        """
        given = dedupe(item_ids)
        if not given:
            raise ValueError("by_items needs at least one item id")
        known = self.catalog.known(given)
        if not known:
            raise UnknownItemError(given[0])
        usable = [i for i in known if i in self.index]
        if not usable:
            raise ArtifactError(f"none of items {known} is in the vector index; run `recbot build`")
        vectors = self.index.vectors(usable)  # (m, d)
        centroid = vectors.mean(axis=0)  # (d,)
        norm = float(np.linalg.norm(centroid))
        # Opposite vectors can cancel out; the first item is then the best remaining anchor.
        query = centroid / norm if norm > 1e-6 else vectors[0]
        hits = self._search(query, max(k, GENRE_POOL), filter.excluding(given))
        return self._blend_genres(usable, hits)[:k]

    def _blend_genres(self, seeds: list[int], hits: list[Candidate]) -> list[Candidate]:
        """Re-score item-to-item hits by ``cosine + genre_weight × genre overlap``.

        The overlap is the weighted Jaccard between a hit's genres and the seeds' mean genre
        profile, so items sharing the seeds' genres win over items that only share title words.
        """
        if not hits or self.genre_weight == 0:
            return hits
        metadata = self.metadata
        profile = metadata.genre_matrix[np.searchsorted(metadata.ids, seeds)].mean(axis=0)  # (G,)
        hit_ids = np.array([hit.item_id for hit in hits], dtype=np.int64)
        rows = metadata.genre_matrix[np.searchsorted(metadata.ids, hit_ids)].astype(np.float32)
        union = np.maximum(rows, profile).sum(axis=1)  # (m,)
        overlap = np.minimum(rows, profile).sum(axis=1) / np.maximum(union, 1e-9)
        scores = np.array([hit.score for hit in hits]) + self.genre_weight * overlap
        order = np.argsort(-scores, kind="stable")
        return [Candidate(int(hit_ids[i]), float(scores[i])) for i in order]

    def _search(self, query: np.ndarray, k: int, item_filter: ItemFilter) -> list[Candidate]:
        if k <= 0:
            return []
        excluded = item_filter.exclude_ids
        if item_filter.only_excludes_ids() and len(excluded) <= OVERFETCH_MAX_EXCLUDED:
            hits = self.index.search(query, k + len(excluded))
            return [hit for hit in hits if hit.item_id not in excluded][:k]
        allowed = self.metadata.allowed_ids(item_filter)
        return self.index.search(query, k, allowed=allowed)
