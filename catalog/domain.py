"""Domain types: Item, Interaction and the Catalog that owns the ID vocabulary.

Plain dataclasses: they cross no process boundary. Persistence rows live in ``catalog.store`` and
are converted at its edge, so the rest of the code never sees SQLAlchemy objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from catalog.errors import UnknownItemError
from catalog.titles import TitleIndex, TitleMatch, natural_order

# Catalog labels that are no genre: a screen format, and MovieLens' placeholder for none.
PSEUDO_GENRES = frozenset({"IMAX", "(no genres listed)"})


@dataclass(frozen=True, slots=True)
class Item:
    """One catalog item. ``title`` is the catalog's title without the year (``"Matrix, The"``);
    people read :attr:`display_title`."""

    id: int
    title: str
    year: int | None = None
    genres: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # most frequent user tags first
    overview: str = ""
    popularity: int = 0  # number of interactions
    mean_rating: float | None = None

    @property
    def name(self) -> str:
        """The title as people write it, without the year: ``"The Matrix"``."""
        return natural_order(self.title)

    @property
    def display_title(self) -> str:
        """Title with the year, as people read it: ``"The Matrix (1999)"`` (title search takes
        this and the catalog's ``"Matrix, The (1999)"`` alike)."""
        return f"{self.name} ({self.year})" if self.year else self.name

    @property
    def display_genres(self) -> tuple[str, ...]:
        """The genres worth showing a person: not the catalog's labels that are no genre
        ("IMAX", "(no genres listed)"), which stay in ``genres`` for search and filters."""
        return tuple(genre for genre in self.genres if genre not in PSEUDO_GENRES)


@dataclass(frozen=True, slots=True)
class Interaction:
    """A user's rating of an item at a time (unix seconds). Ratings are on the catalog's scale."""

    user_id: int
    item_id: int
    rating: float
    timestamp: int


EXACT_LOOKAHEAD = 10  # fuzzy matches searched for the query's own display title


@dataclass(eq=False)
class Catalog:
    """The items of a catalog, looked up by id, by dense position, or by a fuzzy title.

    The ID vocabulary maps external item ids to dense positions ``0..n-1`` in id order, which
    models and arrays use; FAISS stores the external ids themselves so they stay stable.
    """

    items: Sequence[Item]
    _by_id: dict[int, Item] = field(init=False, repr=False)
    _position: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ordered = sorted(self.items, key=lambda item: item.id)
        self.items = tuple(ordered)
        self._by_id = {item.id: item for item in ordered}
        if len(self._by_id) != len(ordered):
            raise ValueError("catalog item ids must be unique")
        self._position = {item.id: pos for pos, item in enumerate(ordered)}

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._by_id

    @property
    def ids(self) -> list[int]:
        """Item ids in vocabulary order."""
        return [item.id for item in self.items]

    def get(self, item_id: int) -> Item:
        """The item with this id; raises :class:`UnknownItemError` when there is none."""
        try:
            return self._by_id[item_id]
        except KeyError:
            raise UnknownItemError(item_id) from None

    def position(self, item_id: int) -> int:
        """Dense position of an item in the ID vocabulary."""
        try:
            return self._position[item_id]
        except KeyError:
            raise UnknownItemError(item_id) from None

    def known(self, item_ids: Iterable[int]) -> list[int]:
        """The ids that are in the catalog, in the given order (unknown ids are data, not errors)."""
        return [item_id for item_id in item_ids if item_id in self._by_id]

    @cached_property
    def genres(self) -> tuple[str, ...]:
        """Every genre used by some item, sorted."""
        return tuple(sorted({genre for item in self.items for genre in item.genres}))

    @cached_property
    def _titles(self) -> TitleIndex[Item]:
        return TitleIndex(self.items)

    def search_titles(self, query: str, limit: int = 5) -> list[TitleMatch[Item]]:
        """Ranked fuzzy title matches with scores; see :mod:`catalog.titles`.

        An item's own display title ("The Cup (Phörpa) (1999)", what the planners write for a
        title they recognised) always finds it, first and sure: the fuzzy keys read the
        alternative name in parentheses as part of the title and scored it 79, not usable."""
        matches = self._titles.search(query, limit=max(limit, EXACT_LOOKAHEAD))
        wanted = " ".join(query.split()).casefold()
        exact = next((m for m in matches if m.item.display_title.casefold() == wanted), None)
        if exact is not None:
            others = [replace(m, sure=False) for m in matches if m is not exact]
            matches = [replace(exact, score=100.0, sure=True), *others]
        return matches[:limit]
