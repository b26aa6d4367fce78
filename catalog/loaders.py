"""Read a catalog and its interactions from MovieLens CSVs or recbot's generic CSV/JSONL format.

Input is never silently wrong. A malformed row is skipped and counted by reason in the
:class:`LoadReport`, or with ``strict=True`` raised as :class:`MalformedRowError` naming the file
and the 1-based line where the row starts (the header is line 1). Problems with a whole file
(missing, unreadable, missing columns, no usable rows) always raise :class:`DataError`.
The formats are documented in ``docs/catalog-format.md``.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from catalog.domain import Catalog, Interaction, Item
from catalog.errors import DataError, MalformedRowError
from catalog.titles import split_title_year

CatalogFormat = Literal["movielens", "generic"]
MAX_PROBLEMS = 20
NO_GENRES = "(no genres listed)"
_MAX_ID = 2**63 - 1  # FAISS and numpy store ids as int64; -1 is FAISS's "no result"
_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_Record = Mapping[str, Any]
MOVIE_COLUMNS = ("movieId", "title")  # required in movies.csv
ITEM_COLUMNS = ("id", "title")  # required in the generic items file


@dataclass
class LoadReport:
    """What a load read and skipped, per file name, for the build report."""

    rows_read: dict[str, int] = field(default_factory=dict)  # data rows seen, skipped ones included
    rows_skipped: dict[str, Counter[str]] = field(default_factory=dict)  # file -> reason -> count
    problems: list[str] = field(default_factory=list)  # the first MAX_PROBLEMS, "file, line N: why"

    @property
    def skipped_total(self) -> int:
        """Rows skipped across every file."""
        return sum(sum(reasons.values()) for reasons in self.rows_skipped.values())

    def record_read(self, file: str) -> None:
        self.rows_read[file] = self.rows_read.get(file, 0) + 1

    def record_skip(self, file: str, line: int, reason: str, message: str) -> None:
        self.rows_skipped.setdefault(file, Counter())[reason] += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{file}, line {line}: {message}")

    def summary(self) -> str:
        """One line per file with its counts, then the first problems."""
        lines = []
        for file, read in self.rows_read.items():
            reasons = self.rows_skipped.get(file, Counter())
            text = f"{file}: {read} rows read, {sum(reasons.values())} skipped"
            if reasons:
                text += " (" + ", ".join(f"{r}: {n}" for r, n in sorted(reasons.items())) + ")"
            lines.append(text)
        if self.problems:
            lines.append("problems:")
            lines.extend(f"  {problem}" for problem in self.problems)
            if self.skipped_total > len(self.problems):
                lines.append(f"  ... and {self.skipped_total - len(self.problems)} more")
        return "\n".join(lines)


@dataclass
class CatalogData:
    """A loaded catalog, its interactions, how loading went, and the files it came from."""

    catalog: Catalog
    interactions: list[Interaction]
    report: LoadReport
    source_files: list[Path]  # every file read, in reading order, for hashing
    format: CatalogFormat


@dataclass(frozen=True)
class CatalogFiles:
    """The files of a catalog directory, by role (None when absent or not of the format)."""

    format: CatalogFormat
    items: Path  # movies.csv, items.csv or items.jsonl
    interactions: Path | None  # ratings.csv (required for MovieLens), interactions.csv/.jsonl
    tags: Path | None = None  # MovieLens tags.csv
    overviews: Path | None = None  # MovieLens overviews.csv


def locate_catalog(directory: str | Path) -> CatalogFiles:
    """Tell MovieLens (``movies.csv``) from the generic format (``items.csv`` or ``items.jsonl``,
    with optional ``interactions.csv``/``.jsonl``) and find the files; DataError when neither."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"catalog directory {directory} does not exist or is not a directory")
    items = _present(directory, "items.csv", "items.jsonl")
    if (directory / "movies.csv").is_file():
        if items:
            raise DataError(f"{directory} holds both movies.csv and {items[0].name}: keep one")
        return _movielens_files(directory)
    if not items:
        raise DataError(
            f"no catalog found in {directory}: looked for movies.csv (MovieLens) or "
            "items.csv / items.jsonl (generic format, see docs/catalog-format.md)"
        )
    interactions = _present(directory, "interactions.csv", "interactions.jsonl")
    for found in (items, interactions):
        if len(found) > 1:
            raise DataError(f"{directory} holds both {found[0].name} and {found[1].name}: keep one")
    return _generic_files(items[0], interactions[0] if interactions else None)


def load_directory(directory: str | Path, *, strict: bool = False) -> CatalogData:
    """Load the catalog in ``directory`` (see :func:`locate_catalog`), all of it in memory;
    ``catalog.stream`` reads one too large for that in passes."""
    files = locate_catalog(directory)
    if files.format == "movielens":
        return load_movielens(files.items.parent, strict=strict)
    return load_generic(files.items, files.interactions, strict=strict)


def _movielens_files(directory: Path) -> CatalogFiles:
    for name in ("movies.csv", "ratings.csv"):
        if not (directory / name).is_file():
            raise DataError(f"{directory} is not a MovieLens folder: {name} is missing")
    tags, overviews = directory / "tags.csv", directory / "overviews.csv"
    return CatalogFiles(
        "movielens",
        directory / "movies.csv",
        directory / "ratings.csv",
        tags if tags.is_file() else None,
        overviews if overviews.is_file() else None,
    )


def _generic_files(items_path: Path, interactions_path: Path | None) -> CatalogFiles:
    for path in [items_path] + ([interactions_path] if interactions_path else []):
        if path.suffix.lower() not in (".csv", *_JSONL_SUFFIXES):
            raise DataError(f"{path}: unsupported file type; use .csv or .jsonl")
        if not path.is_file():
            raise DataError(f"{path} does not exist")
    return CatalogFiles("generic", items_path, interactions_path)


def load_movielens(
    directory: str | Path, *, strict: bool = False, max_tags: int = 10
) -> CatalogData:
    """Load a MovieLens folder: ``movies.csv`` and ``ratings.csv``, optional ``tags.csv`` and
    ``overviews.csv``. Popularity and mean rating come from the ratings; an item's tags are its
    most frequent user tags (case-folded, ties alphabetical), at most ``max_tags``."""
    if max_tags < 0:
        raise ValueError("max_tags must be >= 0")
    files = _movielens_files(Path(directory))
    assert files.interactions is not None  # ratings.csv, checked above
    report = LoadReport()
    movies = _Input(files.items, report, strict)
    drafts = _load_items(movies, MOVIE_COLUMNS, _parse_movie)
    ratings = _Input(files.interactions, report, strict)
    interactions, stats = _load_interactions(ratings, _MOVIELENS_RATINGS, drafts)
    inputs = [movies, ratings]
    if files.tags:
        inputs.append(_Input(files.tags, report, strict))
        _load_tags(inputs[-1], drafts, max_tags)
    if files.overviews:
        inputs.append(_Input(files.overviews, report, strict))
        _load_overviews(inputs[-1], drafts)
    catalog = _build_catalog(drafts, stats)
    return CatalogData(catalog, interactions, report, [i.path for i in inputs], "movielens")


def load_generic(
    items_path: str | Path,
    interactions_path: str | Path | None = None,
    *,
    strict: bool = False,
) -> CatalogData:
    """Load a catalog in the generic format from an items file and optional interactions file,
    each ``.csv`` or ``.jsonl`` (see ``docs/catalog-format.md``)."""
    files = _generic_files(Path(items_path), Path(interactions_path) if interactions_path else None)
    paths = [files.items] + ([files.interactions] if files.interactions else [])
    report = LoadReport()
    items = _Input(paths[0], report, strict)
    drafts = _load_items(items, ITEM_COLUMNS, _parse_generic_item)
    interactions: list[Interaction] = []
    stats = _ItemStats()
    if len(paths) > 1:
        source = _Input(paths[1], report, strict)
        interactions, stats = _load_interactions(source, _GENERIC_INTERACTIONS, drafts)
    return CatalogData(_build_catalog(drafts, stats), interactions, report, paths, "generic")


# --- reading rows ---------------------------------------------------------------------------


class _Rejected(Exception):
    """A malformed row; ``reason`` is the category counted in the report."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = f"{reason}: {detail}" if detail else reason


@dataclass
class _Input:
    """One input file being read, with where its rejected rows go."""

    path: Path
    report: LoadReport
    strict: bool

    def __post_init__(self) -> None:
        self.report.rows_read.setdefault(self.path.name, 0)

    def reject(self, line: int, problem: _Rejected) -> None:
        if self.strict:
            raise MalformedRowError(str(self.path), line, problem.message)
        self.report.record_skip(self.path.name, line, problem.reason, problem.message)

    def rows(self, required: Sequence[str]) -> Iterator[tuple[int, _Record]]:
        """(line, record) for each well-formed row; CSV or JSONL by the file's suffix."""
        reader = _jsonl_rows if self.path.suffix.lower() in _JSONL_SUFFIXES else _csv_rows
        try:
            yield from reader(self, required)
        except UnicodeDecodeError as exc:
            raise DataError(f"{self.path} is not UTF-8 text ({exc.reason})") from None

    def require_some(self, loaded: int) -> None:
        """A file with rows of which none loaded is the wrong file, not a few bad rows."""
        name = self.path.name
        read = self.report.rows_read.get(name, 0)
        if read and not loaded:
            reasons = self.report.rows_skipped.get(name, Counter()).most_common()
            example = next((p for p in self.report.problems if p.startswith(f"{name}, ")), "")
            raise DataError(
                f"none of the {read} rows of {self.path} could be used ("
                + ", ".join(f"{reason}: {count}" for reason, count in reasons)
                + (f"; first: {example}" if example else "")
                + ")"
            )


def _open(path: Path) -> IO[str]:
    try:
        return path.open(encoding="utf-8-sig", newline="")  # utf-8-sig drops a BOM
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def _csv_rows(source: _Input, required: Sequence[str]) -> Iterator[tuple[int, _Record]]:
    header: list[str] | None = None
    with _open(source.path) as handle:
        reader = csv.reader(handle)
        end = 0  # line_num is where the last record ended; a quoted field may span lines
        try:
            for row in reader:
                line, end = end + 1, reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if header is None:
                    header = _check_header(source.path, row, required)
                    continue
                source.report.record_read(source.path.name)
                if len(row) != len(header):
                    detail = f"expected {len(header)}, found {len(row)}"
                    source.reject(line, _Rejected("wrong number of fields", detail))
                    continue
                yield line, dict(zip(header, row, strict=True))
        except csv.Error as exc:
            raise MalformedRowError(str(source.path), end, f"unreadable CSV ({exc})") from None
    if header is None:
        raise DataError(f"{source.path} is empty: expected a header with {', '.join(required)}")


def _check_header(path: Path, row: list[str], required: Sequence[str]) -> list[str]:
    header = [name.strip() for name in row]
    missing = [name for name in required if name not in header]
    if missing:
        raise DataError(
            f"{path} is missing required column(s) {', '.join(missing)}; "
            f"its header has: {', '.join(header)}"
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise DataError(f"{path} has duplicated column(s) {', '.join(duplicated)}")
    return header


def _jsonl_rows(source: _Input, required: Sequence[str]) -> Iterator[tuple[int, _Record]]:
    checked = False
    with _open(source.path) as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            source.report.record_read(source.path.name)
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                source.reject(line, _Rejected("invalid JSON", f"{exc.msg} at column {exc.colno}"))
                continue
            if not isinstance(record, dict):
                source.reject(line, _Rejected("invalid JSON", "expected an object"))
                continue
            if not checked:  # the first object stands in for a header
                missing = [name for name in required if name not in record]
                if missing:
                    raise DataError(
                        f"{source.path}, line {line}: missing required field(s) "
                        f"{', '.join(missing)}; every line needs {', '.join(required)}"
                    )
                checked = True
            yield line, record


# --- values ---------------------------------------------------------------------------------


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _describe(value: object) -> str:
    return "missing" if _is_empty(value) else repr(value)[:60]


def _as_int(value: object) -> int | None:
    if isinstance(value, str):  # the common case first: every CSV value
        try:
            return None if "_" in value else int(value)  # int() would accept "1_000"
        except ValueError:
            return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    return None


def _as_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _required_int(record: _Record, key: str, reason: str) -> int:
    value = record.get(key)
    number = _as_int(value)
    if number is None:
        raise _Rejected(reason, _describe(value))
    return number


def _labels(value: object, reason: str) -> tuple[str, ...]:
    """Genres or tags from a "|"-separated string or a list, stripped and deduplicated."""
    if _is_empty(value):
        return ()
    if isinstance(value, str):
        parts: list[Any] = value.split("|")
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        parts = value
    else:
        raise _Rejected(reason, repr(value)[:60])
    kept: dict[str, str] = {}  # case-folded -> first spelling
    for part in parts:
        label = " ".join(part.split())
        if label and label.casefold() != NO_GENRES:
            kept.setdefault(label.casefold(), label)
    return tuple(kept.values())


def _text(value: object, reason: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Rejected(reason, repr(value)[:60])
    return value.strip()


# --- items ----------------------------------------------------------------------------------


@dataclass
class _Draft:
    title: str
    year: int | None
    genres: tuple[str, ...]
    tags: tuple[str, ...] = ()
    overview: str = ""


def _item_id(record: _Record, key: str) -> int:
    item_id = _required_int(record, key, "non-integer id")
    if not 0 <= item_id <= _MAX_ID:
        raise _Rejected("id out of range", f"{item_id} (ids must be 0 .. 2**63-1)")
    return item_id


def _title(value: object) -> str:
    if not isinstance(value, str | None):
        raise _Rejected("bad title", repr(value)[:60])
    if _is_empty(value):
        raise _Rejected("empty title")
    return str(value).strip()


def _parse_movie(record: _Record) -> tuple[int, _Draft]:
    item_id = _item_id(record, "movieId")
    title, year = split_title_year(_title(record.get("title")))
    return item_id, _Draft(title, year, _labels(record.get("genres"), "bad genres"))


def _parse_generic_item(record: _Record) -> tuple[int, _Draft]:
    item_id = _item_id(record, "id")
    raw_title, raw_year = _title(record.get("title")), record.get("year")
    if _is_empty(raw_year):
        title, year = split_title_year(raw_title)
    else:
        year = _as_int(raw_year)
        if year is None or not 1000 <= year <= 9999:
            raise _Rejected("bad year", repr(raw_year)[:60])
        split_title, split_year = split_title_year(raw_title)
        title = split_title if split_year == year else raw_title  # no "Heat (1995) (1995)"
    draft = _Draft(
        title,
        year,
        genres=_labels(record.get("genres"), "bad genres"),
        tags=_labels(record.get("tags"), "bad tags"),
        overview=_text(record.get("overview"), "bad overview"),
    )
    return item_id, draft


def _load_items(
    source: _Input,
    required: Sequence[str],
    parse: Callable[[_Record], tuple[int, _Draft]],
) -> dict[int, _Draft]:
    return dict(_iter_items(source, required, parse))


def _iter_items(
    source: _Input,
    required: Sequence[str],
    parse: Callable[[_Record], tuple[int, _Draft]],
) -> Iterator[tuple[int, _Draft]]:
    """(id, draft) of each usable item row, in file order, the first of a duplicated id only;
    the whole-file checks run when the file is exhausted."""
    seen: set[int] = set()
    for line, record in source.rows(required):
        try:
            item_id, draft = parse(record)
            if item_id in seen:
                raise _Rejected("duplicate item id", f"{item_id} (the first one is kept)")
        except _Rejected as problem:
            source.reject(line, problem)
            continue
        seen.add(item_id)
        yield item_id, draft
    if not source.report.rows_read.get(source.path.name):
        raise DataError(f"{source.path} has no items")
    source.require_some(len(seen))


# --- interactions, tags, overviews ----------------------------------------------------------


@dataclass(frozen=True)
class _InteractionColumns:
    user: str
    item: str
    optional_values: bool  # rating defaults to 1.0 and timestamp to 0 when absent


_MOVIELENS_RATINGS = _InteractionColumns("userId", "movieId", optional_values=False)
_GENERIC_INTERACTIONS = _InteractionColumns("user_id", "item_id", optional_values=True)


@dataclass
class _ItemStats:
    popularity: Counter[int] = field(default_factory=Counter)
    rating_sum: defaultdict[int, float] = field(default_factory=lambda: defaultdict(float))
    rated: Counter[int] = field(default_factory=Counter)  # interactions with an explicit rating

    def mean_rating(self, item_id: int) -> float | None:
        count = self.rated[item_id]
        return self.rating_sum[item_id] / count if count else None


def _known_item(record: _Record, key: str, known: Container[int]) -> int:
    item_id = _required_int(record, key, "non-integer item id")
    if item_id not in known:
        raise _Rejected("unknown item", str(item_id))
    return item_id


def _parse_interaction(
    record: _Record, columns: _InteractionColumns, known: Container[int]
) -> tuple[Interaction, bool]:
    user_id = _required_int(record, columns.user, "non-integer user id")
    item_id = _known_item(record, columns.item, known)
    raw_rating, raw_time = record.get("rating"), record.get("timestamp")
    explicit = not (columns.optional_values and _is_empty(raw_rating))
    rating = _as_float(raw_rating) if explicit else 1.0
    if rating is None:
        raise _Rejected("non-numeric rating", _describe(raw_rating))
    timestamp = 0 if columns.optional_values and _is_empty(raw_time) else _as_int(raw_time)
    if timestamp is None:
        raise _Rejected("non-integer timestamp", _describe(raw_time))
    return Interaction(user_id, item_id, rating, timestamp), explicit


def _load_interactions(
    source: _Input, columns: _InteractionColumns, drafts: Mapping[int, _Draft]
) -> tuple[list[Interaction], _ItemStats]:
    interactions: list[Interaction] = []
    stats = _ItemStats()
    for interaction, explicit in _iter_interactions(source, columns, drafts):
        interactions.append(interaction)
        stats.popularity[interaction.item_id] += 1
        if explicit:
            stats.rating_sum[interaction.item_id] += interaction.rating
            stats.rated[interaction.item_id] += 1
    return interactions, stats


def _iter_interactions(
    source: _Input, columns: _InteractionColumns, known: Container[int]
) -> Iterator[tuple[Interaction, bool]]:
    """Each usable interaction and whether its rating is explicit (it counts in the mean)."""
    required: tuple[str, ...] = (columns.user, columns.item)
    if not columns.optional_values:
        required += ("rating", "timestamp")
    loaded = 0
    for line, record in source.rows(required):
        try:
            parsed = _parse_interaction(record, columns, known)
        except _Rejected as problem:
            source.reject(line, problem)
            continue
        loaded += 1
        yield parsed
    source.require_some(loaded)


def _load_tags(source: _Input, drafts: dict[int, _Draft], max_tags: int) -> None:
    counts: dict[int, Counter[str]] = {}
    for item_id, tag in _iter_tags(source, drafts):
        counts.setdefault(item_id, Counter())[tag] += 1
    for item_id, tags in counts.items():
        ranked = sorted(tags.items(), key=lambda pair: (-pair[1], pair[0]))
        drafts[item_id].tags = tuple(tag for tag, _ in ranked[:max_tags])


def _iter_tags(source: _Input, known: Container[int]) -> Iterator[tuple[int, str]]:
    """(item id, case-folded tag) of each usable row of a MovieLens ``tags.csv``."""
    loaded = 0
    for line, record in source.rows(("movieId", "tag")):
        try:
            item_id = _known_item(record, "movieId", known)
            tag = " ".join(str(record["tag"]).split()).casefold()
            if not tag:
                raise _Rejected("empty tag")
        except _Rejected as problem:
            source.reject(line, problem)
            continue
        loaded += 1
        yield item_id, tag
    source.require_some(loaded)


def _load_overviews(source: _Input, drafts: dict[int, _Draft]) -> None:
    for item_id, overview in _iter_overviews(source, drafts):
        drafts[item_id].overview = overview


def _iter_overviews(source: _Input, known: Container[int]) -> Iterator[tuple[int, str]]:
    """(item id, overview) of each usable row of ``overviews.csv``, the first per item only."""
    seen: set[int] = set()
    for line, record in source.rows(("movieId", "overview")):
        try:
            item_id = _known_item(record, "movieId", known)
            if item_id in seen:
                raise _Rejected("duplicate overview", f"{item_id} (the first one is kept)")
        except _Rejected as problem:
            source.reject(line, problem)
            continue
        seen.add(item_id)
        yield item_id, str(record["overview"]).strip()
    source.require_some(len(seen))


def _build_catalog(drafts: Mapping[int, _Draft], stats: _ItemStats) -> Catalog:
    items = [
        Item(
            id=item_id,
            title=draft.title,
            year=draft.year,
            genres=draft.genres,
            tags=draft.tags,
            overview=draft.overview,
            popularity=stats.popularity[item_id],
            mean_rating=stats.mean_rating(item_id),
        )
        for item_id, draft in drafts.items()
    ]
    return Catalog(items)


def _present(directory: Path, *names: str) -> list[Path]:
    return [directory / name for name in names if (directory / name).is_file()]
