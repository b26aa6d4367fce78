"""benchmarks/enrichment.py's measures on a tiny generated catalog with the fake embedder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from catalog.domain import Catalog, Interaction, Item
from tests.fakes import BagOfWordsEmbedder

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "enrichment.py"
GENRES = {
    "Horror": "ghost haunted scream blood night curse",
    "Comedy": "jokes wedding party silly road trip",
    "Western": "cowboy sheriff desert horse outlaw saloon",
}


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("enrichment_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def tiny() -> tuple[Catalog, list[Interaction]]:
    """12 single-genre items per genre, whose overviews share their genre's words; 9 users,
    3 per genre, each liking every item of their genre but the last (rated by one fan only:
    cold) and disliking one item of the next genre."""
    rng = np.random.default_rng(1)
    items, interactions = [], []
    for g, (genre, words) in enumerate(GENRES.items()):
        vocabulary = words.split()
        for n in range(12):
            overview = " ".join(rng.choice(vocabulary, size=4))
            items.append(Item(100 * g + n, f"Film {g}{n}", 2000 + n, (genre,), overview=overview))
    for user in range(9):
        g = user // 3
        for n in range(11 if user % 3 else 12):
            interactions.append(Interaction(user, 100 * g + n, 5.0, 1000 + n))
        interactions.append(Interaction(user, 100 * ((g + 1) % 3), 1.0, 999))
    return Catalog(items), interactions


def test_silhouette_matches_sklearn(bench: ModuleType) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((60, 8)) + np.repeat(np.eye(3, 8) * 2, 20, axis=0)
    labels = np.repeat([0, 1, 2], 20)
    labels[0] = 2
    expected = metrics.silhouette_score(vectors, labels, metric="cosine")
    assert bench.silhouette(vectors, labels) == pytest.approx(expected, abs=1e-6)


def test_silhouette_of_a_lone_point_is_zero(bench: ModuleType) -> None:
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    labels = np.array([0, 0, 1])  # label 1 has one member
    assert bench.silhouette(vectors, labels) == pytest.approx((0.0 + 2 * 0.99) / 3, abs=0.02)


def test_cold_queries_follow_the_protocol(bench: ModuleType) -> None:
    catalog, interactions = tiny()
    queries = bench.cold_queries(
        catalog, interactions, np.random.default_rng(0), cold_max=1, count=10, history=5
    )
    targets = sorted(catalog.items[q.target].id for q in queries)
    assert targets == [11, 111, 211]  # rated by one fan each
    for query in queries:
        assert len(query.history) == 5 and query.target not in query.seen
        assert set(query.history) <= set(query.seen)
        genre = catalog.items[query.target].genres
        assert all(catalog.items[p].genres == genre for p in query.history)


def test_measure_runs_every_variant(bench: ModuleType) -> None:
    catalog, interactions = tiny()
    embedder = BagOfWordsEmbedder(dim=64)
    llm = {11: "Tone: eerie. Themes: ghost, curse.", 111: "Tone: silly. Themes: party."}
    results, chance, queries = bench.measure(
        catalog, interactions, lambda _name, texts: embedder.embed(texts), llm,
        sample=30, cold_items=10, cold_max=1, ks=(1, 5),
    )  # fmt: skip
    by_name = {r.variant: r for r in results}
    assert list(by_name) == ["title", "title+genres", "full", "rules", "llm"]
    # the fan saw 11 liked items and 1 disliked one besides the target
    assert len(queries) == 3 and chance[5] == pytest.approx(5 / (36 - 12))
    assert by_name["llm"].enriched == 2 and by_name["full"].enriched == 0
    assert by_name["rules"].enriched > 0
    for result in results:
        assert -1.0 <= result.silhouette <= 1.0
        assert 0.0 <= result.recall(1) <= result.recall(5) <= 1.0
    # bands, not exact values: naming the genre and its words separates the genres
    assert by_name["title"].silhouette < 0.1 < by_name["title+genres"].silhouette
    assert by_name["full"].recall(5) > chance[5]
    assert by_name["full"].wins(by_name["full"], 5) == (0, 0)
    text = bench.table(results, chance)
    assert text.splitlines()[0].startswith("variant") and "random" in text


def test_without_llm_descriptions_the_variant_is_left_out(bench: ModuleType) -> None:
    catalog, _interactions = tiny()
    assert list(bench.variant_texts(catalog, {})) == ["title", "title+genres", "full", "rules"]


def test_described_table_compares_full_and_llm_on_the_described_queries_only(
    bench: ModuleType,
) -> None:
    """Three queries; only the cold items at positions 7 and 9 have an LLM description. Query 2
    (position 8, not described) is hit by llm alone and must not count."""
    queries = [bench.ColdQuery(t, (0,), ()) for t in (7, 9, 8)]
    full = bench.Result("full", 0, 0.0, np.array([500, 5, 500]))
    llm = bench.Result("llm", 2, 0.0, np.array([3, 200, 1]))
    text = bench.described_table([full, llm], queries, {7, 9})
    assert "LLM description: 2" in text
    assert "recall@10: full 0.5000, llm 0.5000 (won +1 / lost -1)" in text
    queries_hit_at_100 = bench.Result("llm", 2, 0.0, np.array([3, 50, 1]))
    assert "recall@100: full 0.5000, llm 1.0000 (won +1 / lost -0)" in bench.described_table(
        [full, queries_hit_at_100], queries, {7, 9}
    )
    assert bench.described_table([full], queries, {7}) == ""
    assert "no queried cold item" in bench.described_table([full, llm], queries, {1})
