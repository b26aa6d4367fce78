"""Read a catalog directory in passes that keep numbers, not rows: how ``recbot build`` loads a
catalog too large to hold in memory.

:func:`scan_catalog` reads every file once and keeps O(items) numbers: the sorted item ids (the
vocabulary order, and the order of the FAISS index), each item's popularity and rating sum, and
for MovieLens each item's most frequent tags as arrays of vocabulary ids. The
:class:`CatalogSource` it returns then gives items, interactions and overviews again in chunks,
to be written to the store and dropped. Rows are checked by the loaders' own parsers
(``catalog.loaders``), so a streamed build accepts, rejects and reports exactly the rows
:func:`catalog.loaders.load_directory` does.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TypeVar

import numpy as np

from catalog.domain import Interaction, Item
from catalog.loaders import (
    _GENERIC_INTERACTIONS,
    _MOVIELENS_RATINGS,
    ITEM_COLUMNS,
    MOVIE_COLUMNS,
    CatalogFiles,
    LoadReport,
    _Input,
    _InteractionColumns,
    _iter_interactions,
    _iter_items,
    _iter_overviews,
    _iter_tags,
    _parse_generic_item,
    _parse_movie,
    locate_catalog,
)

CHUNK_ROWS = 20_000
T = TypeVar("T")


def chunked(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of at most ``size`` consecutive rows."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class TopTags:
    """Each item's most frequent tags (ties alphabetical), as arrays sorted by item position."""

    positions: np.ndarray  # (m,) int64, item positions, ascending
    tag_ids: np.ndarray  # (m,) int64, into vocabulary, most frequent first per item
    vocabulary: list[str]

    def of(self, position: int) -> tuple[str, ...]:
        start, end = np.searchsorted(self.positions, [position, position + 1])
        return tuple(self.vocabulary[t] for t in self.tag_ids[start:end])


@dataclass
class CatalogSource:
    """A scanned catalog directory: its ids and per-item numbers, and its rows again on demand."""

    files: CatalogFiles
    report: LoadReport  # of the scan: every row read and skipped, once
    ids: np.ndarray  # (n,) int64, sorted
    known: set[int]  # the same ids, for row checks at set speed
    popularity: np.ndarray  # (n,) int64
    rating_sum: np.ndarray  # (n,) float64, over explicit ratings in file order
    rated: np.ndarray  # (n,) int64, explicit ratings
    interaction_count: int = 0
    tags: TopTags | None = None
    source_files: list[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def items(self, chunk: int = CHUNK_ROWS) -> Iterator[list[Item]]:
        """Items in file order with their numbers and tags; a MovieLens overview is left empty
        (:meth:`overviews` gives them)."""
        generic = self.files.format == "generic"
        parse = _parse_generic_item if generic else _parse_movie
        rows = _iter_items(self._again(self.files.items), _item_columns(self.files), parse)
        for drafts in chunked(rows, chunk):
            positions = np.searchsorted(self.ids, [item_id for item_id, _ in drafts])
            yield [
                Item(
                    id=item_id,
                    title=draft.title,
                    year=draft.year,
                    genres=draft.genres,
                    tags=draft.tags if generic or self.tags is None else self.tags.of(pos),
                    overview=draft.overview,
                    popularity=int(self.popularity[pos]),
                    mean_rating=self.mean_rating(pos),
                )
                for (item_id, draft), pos in zip(drafts, positions.tolist(), strict=True)
            ]

    def mean_rating(self, position: int) -> float | None:
        count = int(self.rated[position])
        return float(self.rating_sum[position]) / count if count else None

    def interactions(self, chunk: int = CHUNK_ROWS) -> Iterator[list[Interaction]]:
        if self.files.interactions is None:
            return
        rows = _iter_interactions(self._again(self.files.interactions), self._columns, self.known)
        for parsed in chunked(rows, chunk):
            yield [interaction for interaction, _explicit in parsed]

    def overviews(self, chunk: int = CHUNK_ROWS) -> Iterator[list[tuple[int, str]]]:
        """(item id, overview) from a MovieLens ``overviews.csv``; nothing without one."""
        if self.files.overviews is not None:
            yield from chunked(
                _iter_overviews(self._again(self.files.overviews), self.known), chunk
            )

    @property
    def _columns(self) -> _InteractionColumns:
        return _MOVIELENS_RATINGS if self.files.format == "movielens" else _GENERIC_INTERACTIONS

    def _again(self, path: Path) -> _Input:
        """A second reading of a file: its problems were reported (or raised) by the scan."""
        return _Input(path, LoadReport(), strict=False)


def scan_catalog(
    directory: str | Path, *, strict: bool = False, max_tags: int = 10
) -> CatalogSource:
    """Read the catalog in ``directory`` once, keeping only ids and per-item numbers."""
    files = locate_catalog(directory)
    report = LoadReport()
    parse = _parse_movie if files.format == "movielens" else _parse_generic_item
    items = _Input(files.items, report, strict)
    known = {item_id for item_id, _draft in _iter_items(items, _item_columns(files), parse)}
    ids = np.array(sorted(known), dtype=np.int64)
    source = CatalogSource(
        files=files,
        report=report,
        ids=ids,
        known=known,
        popularity=np.zeros(len(ids), dtype=np.int64),
        rating_sum=np.zeros(len(ids), dtype=np.float64),
        rated=np.zeros(len(ids), dtype=np.int64),
        source_files=[files.items],
    )
    if files.interactions is not None:
        _count_interactions(source, _Input(files.interactions, report, strict))
        source.source_files.append(files.interactions)
    if files.tags is not None:
        source.tags = _top_tags(_Input(files.tags, report, strict), source, max_tags)
        source.source_files.append(files.tags)
    if files.overviews is not None:  # checked now, so the report is complete before writing
        for _row in _iter_overviews(_Input(files.overviews, report, strict), known):
            pass
        source.source_files.append(files.overviews)
    return source


def _item_columns(files: CatalogFiles) -> tuple[str, ...]:
    return MOVIE_COLUMNS if files.format == "movielens" else ITEM_COLUMNS


def _count_interactions(source: CatalogSource, reading: _Input) -> None:
    """Popularity and rating sums per item position, a chunk at a time."""
    rows = _iter_interactions(reading, source._columns, source.known)
    for chunk in chunked(rows, CHUNK_ROWS):
        items = np.fromiter((i.item_id for i, _ in chunk), dtype=np.int64, count=len(chunk))
        explicit = np.fromiter((e for _, e in chunk), dtype=bool, count=len(chunk))
        ratings = np.fromiter((i.rating for i, _ in chunk), dtype=np.float64, count=len(chunk))
        positions = np.searchsorted(source.ids, items)
        np.add.at(source.popularity, positions, 1)
        # unbuffered and in row order: the same float sums as the in-memory loader's
        np.add.at(source.rating_sum, positions[explicit], ratings[explicit])
        np.add.at(source.rated, positions[explicit], 1)
        source.interaction_count += len(chunk)


def _top_tags(reading: _Input, source: CatalogSource, max_tags: int) -> TopTags:
    """Each item's ``max_tags`` most frequent tags, ties alphabetical, as the loaders rank them."""
    vocabulary: dict[str, int] = {}
    items, tags = array("q"), array("q")
    for item_id, tag in _iter_tags(reading, source.known):
        items.append(item_id)
        tags.append(vocabulary.setdefault(tag, len(vocabulary)))
    words = list(vocabulary)
    size = max(len(words), 1)
    positions = np.searchsorted(source.ids, np.frombuffer(items, dtype=np.int64))
    pairs, counts = np.unique(
        positions * size + np.frombuffer(tags, dtype=np.int64), return_counts=True
    )
    pair_positions, pair_tags = np.divmod(pairs, size)
    alphabetical = np.empty(len(words), dtype=np.int64)
    alphabetical[sorted(range(len(words)), key=words.__getitem__)] = np.arange(len(words))
    order = np.lexsort((alphabetical[pair_tags], -counts, pair_positions))
    pair_positions, pair_tags = pair_positions[order], pair_tags[order]
    rank = np.arange(len(order)) - np.searchsorted(pair_positions, pair_positions)
    keep = rank < max_tags
    return TopTags(pair_positions[keep], pair_tags[keep], words)
