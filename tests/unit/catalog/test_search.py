"""ItemFilter, ItemMetadata and the Retriever, on a generated catalog and a scripted embedder."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from catalog.domain import Catalog, Item
from catalog.errors import ArtifactError, IndexMismatchError, UnknownItemError
from catalog.index import Candidate, VectorIndex
from catalog.search import OVERFETCH_MAX_EXCLUDED, ItemFilter, ItemMetadata, Retriever

DIM = 16
MODEL = "fake-minilm"
GENRES = ("Action", "Comedy", "Drama", "Horror", "Sci-Fi")
HNSW = {"hnsw_threshold": 100, "hnsw_m": 16, "ef_construction": 64, "ef_search": 64}


class FakeEmbedder:
    """Maps known texts to fixed unit vectors and records every call."""

    def __init__(
        self, vectors: dict[str, np.ndarray], model_name: str = MODEL, dim: int = DIM
    ) -> None:
        self.model_name = model_name
        self.dim = dim
        self._vectors = vectors
        self.history: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.history.append(list(texts))
        return np.stack([self._vectors[text] for text in texts]).astype(np.float32)


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def make_catalog(rng: np.random.Generator, n: int) -> Catalog:
    items = []
    for item_id in rng.choice(10 * n, size=n, replace=False) + 1:
        picked = rng.choice(len(GENRES), size=rng.integers(0, 3), replace=False)
        year = None if rng.random() < 0.1 else int(rng.integers(1950, 2025))
        genres = tuple(GENRES[g] for g in sorted(picked))
        items.append(Item(id=int(item_id), title=f"Movie {item_id}", year=year, genres=genres))
    return Catalog(items)


class World:
    """A catalog, its vectors (rows in catalog order), an index over them and a retriever."""

    def __init__(self, n: int, kind: str = "flat", seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.catalog = make_catalog(rng, n)
        self.ids = np.array(self.catalog.ids, dtype=np.int64)
        self.vectors = unit_vectors(rng, n)
        params = HNSW if kind == "hnsw" else {}
        self.index = VectorIndex.build(self.ids, self.vectors, model_name=MODEL, **params)
        assert self.index.info["kind"] == kind
        self.queries = {f"query {i}": v for i, v in enumerate(unit_vectors(rng, 5))}
        self.embedder = FakeEmbedder(self.queries)
        self.retriever = Retriever(self.catalog, self.index, self.embedder, genre_weight=0.0)

    def brute_force(self, query: np.ndarray, k: int, keep: Callable[[Item], bool]) -> list[int]:
        scores = self.vectors @ query
        order = np.argsort(-scores, kind="stable")
        return [int(self.ids[i]) for i in order if keep(self.catalog.get(int(self.ids[i])))][:k]


def allows(item_filter: ItemFilter, item: Item) -> bool:
    """Reference semantics of ItemFilter, one item at a time."""
    genres = {g.casefold() for g in item.genres}
    year_ok = item.year is not None or (item_filter.min_year, item_filter.max_year) == (None, None)
    return (
        (not item_filter.include_genres or bool(genres & item_filter.include_genres))
        and item_filter.require_genres <= genres
        and not genres & item_filter.exclude_genres
        and year_ok
        and (item_filter.min_year is None or (item.year or 0) >= item_filter.min_year)
        and (item_filter.max_year is None or (item.year or 0) <= item_filter.max_year)
        and (not item_filter.exclude_years or item.year is not None)
        and not any(first <= (item.year or 0) <= last for first, last in item_filter.exclude_years)
        and item.id not in item_filter.exclude_ids
    )


FILTERS = {
    "include": ItemFilter(include_genres=frozenset({"comedy", "HORROR"})),
    "exclude": ItemFilter(exclude_genres=frozenset({"Drama"})),
    "years": ItemFilter(min_year=1980, max_year=1999),
    "min_year": ItemFilter(min_year=2010),
    "max_year": ItemFilter(max_year=1960),
    "exclude_years": ItemFilter(exclude_years=frozenset({(1990, 1999), (2005, 2005)})),
    "window_and_hole": ItemFilter(min_year=1970, exclude_years=frozenset({(1980, 1989)})),
    "unknown_genre": ItemFilter(include_genres=frozenset({"Western"})),
    "require_all": ItemFilter(require_genres=frozenset({"Action", "comedy"})),
    "require_unknown": ItemFilter(require_genres=frozenset({"Action", "Western"})),
    "combined": ItemFilter(
        include_genres=frozenset({"Action", "Sci-Fi"}),
        exclude_genres=frozenset({"comedy"}),
        min_year=1970,
        max_year=2015,
    ),
}


def test_item_filter_normalises_and_reports_emptiness() -> None:
    item_filter = ItemFilter(include_genres=frozenset({"Sci-Fi"}), exclude_ids=frozenset({3}))
    assert item_filter.include_genres == frozenset({"sci-fi"})
    assert item_filter == ItemFilter(
        include_genres=frozenset({"SCI-FI"}), exclude_ids=frozenset({3})
    )
    assert ItemFilter().is_empty() and not item_filter.is_empty()
    assert not ItemFilter(max_year=2000).is_empty()
    assert not ItemFilter(exclude_years=frozenset({(1990, 1999)})).is_empty()
    assert not ItemFilter(exclude_years=[(1990, 1999)]).only_excludes_ids()
    assert ItemFilter(exclude_ids=frozenset({1})).only_excludes_ids()
    assert ItemFilter().excluding([5, 6]).exclude_ids == frozenset({5, 6})


@pytest.mark.parametrize("name", [*FILTERS, "exclude_ids"])
def test_allowed_ids_match_reference_semantics(name: str) -> None:
    catalog = make_catalog(np.random.default_rng(1), 400)
    item_filter = FILTERS.get(name) or ItemFilter(exclude_ids=frozenset(catalog.ids[:7]))
    allowed = ItemMetadata.from_catalog(catalog).allowed_ids(item_filter)
    assert allowed is not None and allowed.dtype == np.int64
    assert allowed.tolist() == [item.id for item in catalog if allows(item_filter, item)]


def test_allowed_ids_none_for_empty_filter_and_year_bounds_drop_unknown_years() -> None:
    catalog = Catalog([Item(1, "A", year=None), Item(2, "B", year=1990, genres=("Drama",))])
    metadata = ItemMetadata.from_catalog(catalog)
    assert metadata.allowed_ids(ItemFilter()) is None
    bounded = metadata.allowed_ids(ItemFilter(max_year=3000))
    assert bounded is not None and bounded.tolist() == [2]
    no_drama = metadata.allowed_ids(ItemFilter(exclude_genres=frozenset({"drama"})))
    assert no_drama is not None and no_drama.tolist() == [1]


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_by_text_embeds_the_text_and_ranks_like_brute_force(kind: str) -> None:
    world = World(300, kind)
    found = world.retriever.by_text("query 0", 10)
    assert world.embedder.history == [["query 0"]]
    truth = world.brute_force(world.queries["query 0"], 10, lambda _: True)
    if kind == "flat":
        assert [c.item_id for c in found] == truth
    else:
        assert len({c.item_id for c in found} & set(truth)) >= 8


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
@pytest.mark.parametrize("name", FILTERS)
def test_filters_hold_for_every_result(kind: str, name: str) -> None:
    world = World(600, kind)
    item_filter = FILTERS[name]
    for text, query in world.queries.items():
        found = world.retriever.by_text(text, 10, item_filter)
        assert all(allows(item_filter, world.catalog.get(c.item_id)) for c in found)
        truth = world.brute_force(query, 10, lambda item: allows(item_filter, item))
        assert [c.item_id for c in found] == truth  # selective on 600 items: exact


def test_blank_text_is_rejected() -> None:
    with pytest.raises(ValueError, match="non-blank"):
        World(20).retriever.by_text("  ", 5)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_by_item_never_returns_the_item(kind: str) -> None:
    world = World(300, kind)
    for item_id in world.catalog.ids[:10]:
        found = world.retriever.by_item(item_id, 10)
        assert len(found) == 10 and item_id not in {c.item_id for c in found}
    flat = World(300)
    item_id = flat.catalog.ids[0]
    truth = flat.brute_force(flat.index.vector(item_id), 10, lambda item: item.id != item_id)
    assert [c.item_id for c in flat.retriever.by_item(item_id, 10)] == truth


def test_by_item_with_filter_and_unknown_ids() -> None:
    world = World(300)
    item_filter = FILTERS["combined"]
    item_id = world.catalog.ids[5]
    found = world.retriever.by_item(item_id, 10, item_filter)
    assert found and all(
        allows(item_filter.excluding([item_id]), world.catalog.get(c.item_id)) for c in found
    )
    with pytest.raises(UnknownItemError):
        world.retriever.by_item(-1, 5)


def test_by_items_uses_the_centroid_and_excludes_inputs() -> None:
    world = World(300)
    seeds = world.catalog.ids[:3]
    centroid = world.vectors[:3].mean(axis=0)
    centroid /= np.linalg.norm(centroid)
    found = world.retriever.by_items([*seeds, -99], 10)  # the unknown id is ignored
    truth = world.brute_force(centroid, 10, lambda item: item.id not in seeds)
    assert [c.item_id for c in found] == truth
    assert not set(seeds) & {c.item_id for c in found}
    with pytest.raises(UnknownItemError):
        world.retriever.by_items([-1, -2], 5)
    with pytest.raises(ValueError):
        world.retriever.by_items([], 5)


@pytest.mark.parametrize("n_excluded", [3, OVERFETCH_MAX_EXCLUDED + 1])
def test_excluded_ids_by_overfetch_or_filter_agree_with_brute_force(n_excluded: int) -> None:
    world = World(600)
    excluded = frozenset(world.catalog.ids[:n_excluded])
    query = world.queries["query 1"]
    found = world.retriever.by_text("query 1", 10, ItemFilter(exclude_ids=excluded))
    assert [c.item_id for c in found] == world.brute_force(
        query, 10, lambda i: i.id not in excluded
    )


def test_zero_k_returns_nothing() -> None:
    world = World(30)
    assert world.retriever.by_text("query 0", 0) == []
    assert world.retriever.by_item(world.catalog.ids[0], 0) == []


def test_retriever_refuses_another_model_or_a_stale_index() -> None:
    world = World(30)
    with pytest.raises(IndexMismatchError):
        Retriever(world.catalog, world.index, FakeEmbedder({}, model_name="other"))
    smaller = Catalog(list(world.catalog)[:-1])
    with pytest.raises(ArtifactError, match="lacks"):
        Retriever(smaller, world.index, world.embedder)


def test_items_missing_from_the_index() -> None:
    world = World(30)
    extra = Item(id=10**6, title="Not indexed", genres=("Drama",))
    retriever = Retriever(Catalog([*world.catalog, extra]), world.index, world.embedder)
    with pytest.raises(ArtifactError, match="not in the vector index"):
        retriever.by_item(extra.id, 5)
    with pytest.raises(ArtifactError):
        retriever.by_items([extra.id], 5)
    found: list[Candidate] = retriever.by_items([extra.id, world.catalog.ids[0]], 5)
    assert len(found) == 5 and extra.id not in {c.item_id for c in found}


def test_more_like_this_prefers_items_sharing_the_seed_genres() -> None:
    # Two neighbours equally close in embedding space; only one shares the seed's genres.
    seed = np.eye(3, dtype=np.float32)[0]
    twin_genre = np.array([0.8, 0.6, 0.0], dtype=np.float32)
    twin_title = np.array([0.8, 0.0, 0.6], dtype=np.float32)
    catalog = Catalog(
        [
            Item(1, "Toy Story", genres=("Animation", "Children")),
            Item(2, "Finding Nemo", genres=("Animation", "Children")),
            Item(3, "Toy Soldiers", genres=("Action",)),
        ]
    )
    index = VectorIndex.build(
        np.array([1, 2, 3]), np.stack([seed, twin_genre, twin_title]), model_name="fake"
    )
    embedder = FakeEmbedder({}, model_name="fake", dim=3)
    blended = Retriever(catalog, index, embedder).by_item(1, 2)
    assert [c.item_id for c in blended] == [2, 3]
    assert blended[0].score > blended[1].score
    plain = Retriever(catalog, index, embedder, genre_weight=0.0).by_item(1, 2)
    assert {c.item_id for c in plain} == {2, 3}
    assert plain[0].score == pytest.approx(plain[1].score)


def test_text_search_ranks_by_what_films_are_not_what_they_are_called() -> None:
    """Item vectors embed the title: "a real tearjerker" found *The Man Who Cried* by its title's
    meaning. With description vectors (the texts without titles) the hits are ranked by them."""
    axes = np.eye(DIM, dtype=np.float32)
    catalog = Catalog([Item(1, "Man Who Cried, The"), Item(2, "Elephant Man, The")])
    # item vectors: the first close to the query through its title, the second further away
    vectors = np.stack([0.9 * axes[0] + 0.436 * axes[1], 0.6 * axes[0] + 0.8 * axes[2]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex.build(np.array(catalog.ids), vectors, model_name=MODEL)
    # descriptions: only the second film is sad
    descriptions = np.stack([axes[1], 0.8 * axes[0] + 0.6 * axes[2]]).astype(np.float32)
    embedder = FakeEmbedder({"a real tearjerker": axes[0]})
    plain = Retriever(catalog, index, embedder, genre_weight=0.0)
    assert [hit.item_id for hit in plain.by_text("a real tearjerker", 2)] == [1, 2]
    described = Retriever(catalog, index, embedder, genre_weight=0.0, descriptions=descriptions)
    hits = described.by_text("a real tearjerker", 2)
    assert [hit.item_id for hit in hits] == [2, 1]
    assert [round(hit.score, 6) for hit in hits] == [0.8, 0.0]
    assert np.allclose(described.description_vectors([2, 1]), descriptions[[1, 0]])
    assert np.allclose(plain.description_vectors([1]), vectors[:1], atol=1e-6)
    with pytest.raises(ArtifactError, match="recbot build"):
        Retriever(catalog, index, embedder, descriptions=descriptions[:1])
