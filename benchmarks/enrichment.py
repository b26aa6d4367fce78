"""Enrichment benchmark: do richer item texts make better content embeddings?

Embeds every catalog item five ways and measures each embedding space as the literature on
LLM-enhanced recommenders does (genre cluster quality, cold-item retrieval):

  title          the title alone ("The Matrix")
  title+genres   the title and the genre list
  full           the text `recbot build` embeds without enrichment (catalog.text.item_text:
                 title, year, genres, tags, overview) — the baseline of every ratio
  rules          full + the rule-based description (jobs.enrich.rules_enrichment)
  llm            full + the LLM's description from `recbot enrich`, where one is stored (other
                 items keep the full text); left out when no item has one

Genre silhouette: items with exactly one genre, a seeded sample of --sample of them, labelled by
that genre; the mean silhouette coefficient under cosine distance (numpy, same definition as
sklearn's). Higher means genres form tighter, better separated clusters. Texts that name the
genre get part of it for free, so compare full, rules and llm with each other, not with title.

Cold-item recall@K: cold items have 1 to --cold-max ratings. For each of a seeded sample of
--cold-items of them, one seeded user who rated it >= 4 and rated >= --min-liked other items
>= 4 stands in for a person whose taste we know. Query: the normalised mean vector of that
user's --history other liked items rated closest in time to the cold item. Search: the whole
catalog minus the user's other rated items (seen). Hit: the cold item is among the top K.
Content only, no collaborative signal — exactly what a cold item has to rely on. "random" is
the recall of a random ranking (K / candidates), for scale.

Needs a finished `recbot build` (RECBOT_HOME / RECBOT_DATA_DIR); reads it, writes nothing there.
Vectors are cached by text hash per variant under --cache-dir (seeded from the build's own
cache): the first run on ml-latest-small embeds about 3 × 9.7k texts (some 15 minutes on two
busy cores), a second run embeds nothing. Prints absolute numbers against `full` from the same
run — silhouette as a difference, recall as a ratio, and the queries won / lost against `full`
at the largest K (discordant pairs: few of them means noise); nothing here is asserted anywhere.

With a slow LLM (a local CPU model) describing the whole catalog is out of reach, so
``--describe-cold N`` first has the configured LLM (RECBOT_LLM / RECBOT_LLM_BASE_URL) describe
the first N cold items of this run's own seeded sample (the ones the recall queries ask for),
through `recbot enrich`'s code path, into the home's database (use a copy of a home you care
about). The table then gains a paired comparison on just the queries whose cold item has an LLM
description: full vs llm on the same queries, since the other items' texts are identical.

    python benchmarks/enrichment.py [--sample 2000] [--cold-items 1000] [--cache-dir DIR]
                                    [--describe-cold N]
"""

# ruff: noqa: E402  (the path fix below must run before the project imports)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and benchmarks/ranker.py would
# shadow the `ranker` package; drop that entry.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import shutil
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from catalog.domain import Catalog, Interaction, Item
from catalog.text import item_text, natural_title
from jobs.enrich import rules_enrichment

Embed = Callable[[str, list[str]], np.ndarray]  # (variant name, texts) -> (N, d) unit vectors
LIKED = 4.0
KS = (10, 100)


# --- texts ---------------------------------------------------------------------------------------


def variant_texts(catalog: Catalog, llm: Mapping[int, str]) -> dict[str, list[str]]:
    """Each variant's text for every item, in catalog order; ``llm`` only when not empty."""
    items = list(catalog)
    texts = {
        "title": [natural_title(item.title) for item in items],
        "title+genres": [_title_and_genres(item) for item in items],
        "full": [item_text(item) for item in items],
        "rules": [item_text(item, enrichment=rules_enrichment(item)) for item in items],
    }
    if llm:
        texts["llm"] = [item_text(item, enrichment=llm.get(item.id, "")) for item in items]
    return texts


def _title_and_genres(item: Item) -> str:
    genres = [genre for genre in item.genres if not genre.startswith("(")]
    return natural_title(item.title) + (". Genres: " + ", ".join(genres) if genres else "")


# --- genre silhouette ----------------------------------------------------------------------------


def single_genre_sample(
    catalog: Catalog, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of up to ``size`` items with exactly one genre, and that genre's label index."""
    chosen = [
        (pos, item.genres[0])
        for pos, item in enumerate(catalog)
        if len(item.genres) == 1 and not item.genres[0].startswith("(")
    ]
    if len(chosen) > size:
        keep = rng.choice(len(chosen), size=size, replace=False)
        chosen = [chosen[i] for i in sorted(keep)]
    names = sorted({genre for _pos, genre in chosen})
    labels = np.array([names.index(genre) for _pos, genre in chosen], dtype=np.int64)
    return np.array([pos for pos, _genre in chosen], dtype=np.int64), labels


def silhouette(vectors: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette coefficient under cosine distance; 0 for points alone in their cluster
    (sklearn's convention). ``vectors`` (n, d) need not be normalised."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    distances = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)  # (n, n)
    np.fill_diagonal(distances, 0.0)
    onehot = np.eye(int(labels.max()) + 1)[labels]  # (n, L)
    sizes = onehot.sum(axis=0)  # (L,)
    sums = distances @ onehot  # (n, L): distance to every cluster, summed
    rows = np.arange(len(labels))
    own = sizes[labels]
    a = sums[rows, labels] / np.maximum(own - 1, 1)
    means = np.where(sizes > 0, sums / np.maximum(sizes, 1), np.inf)
    means[rows, labels] = np.inf
    means[:, sizes == 0] = np.inf
    b = means.min(axis=1)
    score = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(score.mean())


# --- cold-item recall ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ColdQuery:
    """One cold item, the liked items standing for its fan's taste, and what that fan has seen."""

    target: int  # catalog position of the cold item
    history: tuple[int, ...]  # positions of the fan's other liked items
    seen: tuple[int, ...]  # positions of everything else the fan rated (excluded from search)


def cold_queries(
    catalog: Catalog,
    interactions: Sequence[Interaction],
    rng: np.random.Generator,
    *,
    cold_max: int = 5,
    count: int = 1000,
    history: int = 20,
    min_liked: int = 5,
) -> list[ColdQuery]:
    """The protocol of the module docstring: one seeded fan per sampled cold item."""
    by_user: dict[int, list[Interaction]] = defaultdict(list)
    ratings: dict[int, int] = defaultdict(int)
    for interaction in interactions:
        if interaction.item_id in catalog:
            by_user[interaction.user_id].append(interaction)
            ratings[interaction.item_id] += 1
    fans: dict[int, list[int]] = defaultdict(list)
    for user, rows in by_user.items():
        others_liked = sum(1 for r in rows if r.rating >= LIKED) - 1  # besides the cold one
        for r in rows:
            is_cold = 1 <= ratings[r.item_id] <= cold_max
            if r.rating >= LIKED and is_cold and others_liked >= min_liked:
                fans[r.item_id].append(user)
    cold = sorted(fans)
    picked = rng.permutation(len(cold))[:count]
    queries = []
    for index in sorted(picked):
        item_id = cold[index]
        user = fans[item_id][int(rng.integers(len(fans[item_id])))]
        queries.append(_query(catalog, by_user[user], item_id, history))
    return queries


def _query(catalog: Catalog, rows: Sequence[Interaction], item_id: int, history: int) -> ColdQuery:
    when = next(r.timestamp for r in rows if r.item_id == item_id)
    others = [r for r in rows if r.item_id != item_id]
    liked = sorted((r for r in others if r.rating >= LIKED), key=lambda r: abs(r.timestamp - when))
    return ColdQuery(
        catalog.position(item_id),
        tuple(catalog.position(r.item_id) for r in liked[:history]),
        tuple(sorted({catalog.position(r.item_id) for r in others})),
    )


def cold_ranks(vectors: np.ndarray, queries: Sequence[ColdQuery]) -> np.ndarray:
    """Per query, how many unseen items score above its cold item (0 = retrieved first)."""
    if not queries:
        return np.zeros(0, dtype=np.int64)
    centroids = np.stack([vectors[list(q.history)].mean(axis=0) for q in queries])  # (Q, d)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    scores = centroids @ vectors.T  # (Q, N)
    ranks = np.zeros(len(queries), dtype=np.int64)
    for row, (scored, query) in enumerate(zip(scores, queries, strict=True)):
        scored[list(query.seen)] = -np.inf
        ranks[row] = int((scored > scored[query.target]).sum())
    return ranks


def random_recall(
    n_items: int, queries: Sequence[ColdQuery], ks: Sequence[int] = KS
) -> dict[int, float]:
    """What a random ranking would score: K over the number of candidates, per query."""
    if not queries:
        return dict.fromkeys(ks, 0.0)
    sizes = [n_items - len(q.seen) for q in queries]
    return {k: float(np.mean([min(1.0, k / size) for size in sizes])) for k in ks}


# --- the run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    variant: str
    enriched: int  # items whose text differs from `full`
    silhouette: float
    ranks: np.ndarray  # (Q,) cold_ranks of the variant

    def recall(self, k: int) -> float:
        """Recall@K of the cold items."""
        return float((self.ranks < k).mean()) if len(self.ranks) else 0.0

    def wins(self, base: Result, k: int) -> tuple[int, int]:
        """Queries this variant hits at K and ``base`` misses, and the other way round: the
        discordant pairs that tell a real difference from noise (McNemar)."""
        mine, theirs = self.ranks < k, base.ranks < k
        return int((mine & ~theirs).sum()), int((theirs & ~mine).sum())


def draws(
    catalog: Catalog,
    interactions: Sequence[Interaction],
    *,
    sample: int,
    cold_items: int,
    cold_max: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, list[ColdQuery]]:
    """The run's seeded draws, in order: the silhouette sample, then the cold queries."""
    rng = np.random.default_rng(seed)
    positions, labels = single_genre_sample(catalog, sample, rng)
    queries = cold_queries(catalog, interactions, rng, cold_max=cold_max, count=cold_items)
    return positions, labels, queries


def measure(
    catalog: Catalog,
    interactions: Sequence[Interaction],
    embed: Embed,
    llm: Mapping[int, str],
    *,
    sample: int = 2000,
    cold_items: int = 1000,
    cold_max: int = 5,
    seed: int = 0,
    ks: Sequence[int] = KS,
) -> tuple[list[Result], dict[int, float], list[ColdQuery]]:
    """Every variant's silhouette and cold recall; also random recall and the cold queries."""
    positions, labels, queries = draws(
        catalog, interactions, sample=sample, cold_items=cold_items, cold_max=cold_max, seed=seed
    )
    texts = variant_texts(catalog, llm)
    results = []
    for name, variant in texts.items():
        vectors = embed(name, variant)
        changed = sum(a != b for a, b in zip(variant, texts["full"], strict=True))
        enriched = changed if name in ("rules", "llm") else 0
        score = silhouette(vectors[positions], labels) if len(positions) > 1 else 0.0
        results.append(Result(name, enriched, score, cold_ranks(vectors, queries)))
    return results, random_recall(len(catalog), queries, ks), queries


def described_table(
    results: Sequence[Result], queries: Sequence[ColdQuery], described: set[int]
) -> str:
    """Cold recall of `full` and `llm` on the queries whose cold item (a catalog position) has
    an LLM description: the paired comparison that a few described items can still move."""
    by_name = {r.variant: r for r in results}
    if "llm" not in by_name:
        return ""
    mask = np.array([q.target in described for q in queries], dtype=bool)
    if not mask.any():
        return "no queried cold item has an LLM description"
    lines = [f"queries whose cold item has an LLM description: {int(mask.sum())}"]
    for k in KS:
        full, llm = (by_name[n].ranks[mask] < k for n in ("full", "llm"))
        won, lost = int((llm & ~full).sum()), int((full & ~llm).sum())
        lines.append(
            f"  recall@{k}: full {full.mean():.4f}, llm {llm.mean():.4f} (won +{won} / lost -{lost})"
        )
    return "\n".join(lines)


def describe_cold(
    settings: Any, catalog: Catalog, interactions: Sequence[Interaction], args: Any
) -> None:
    """Have the configured LLM describe the first ``args.describe_cold`` cold items of this
    run's seeded sample (same draw as :func:`measure`), as `recbot enrich` would."""
    from agent.wiring import chat_model
    from catalog.enrichment import EnrichmentStore
    from catalog.store import Store
    from jobs.enrich import enrich_with_llm

    if not settings.llm_configured:
        raise SystemExit("--describe-cold needs an LLM: RECBOT_LLM=local or RECBOT_LLM_BASE_URL")
    queries = draws(  # the cold queries measure() will draw with these arguments
        catalog, interactions,
        sample=args.sample, cold_items=args.cold_items, cold_max=args.cold_max, seed=args.seed,
    )[2]  # fmt: skip
    items = [catalog.items[q.target] for q in queries[: args.describe_cold]]
    store = Store(settings.build_config().database_url, create=False)
    try:
        report = enrich_with_llm(
            chat_model(settings),
            items,
            EnrichmentStore(store),
            concurrency=settings.enrich_concurrency,
        )
    finally:
        store.close()
    usage = report.usage
    print(
        f"described {report.enriched} of {len(items)} cold items with the LLM "
        f"({len(report.failed)} refused or failed; {usage.input_tokens} input + "
        f"{usage.output_tokens} output tokens)",
        flush=True,
    )
    for item_id, reason in list(report.failed.items())[:5]:
        print(f"  refused {item_id}: {reason[:120]}")


def table(results: Sequence[Result], chance: Mapping[int, float]) -> str:
    """The results against `full`: silhouette as a difference (it can be negative), recall as a
    ratio, and at the largest K the queries won / lost against `full`."""
    base = next(r for r in results if r.variant == "full")
    ks = sorted(chance)
    head = f"{'variant':<14}{'enriched':>9}{'silhouette':>12}{'Δfull':>8}"
    head += "".join(f"{f'recall@{k}':>11}{'×full':>7}" for k in ks) + f"{'won/lost':>10}"
    lines = [head]
    for r in results:
        line = f"{r.variant:<14}{r.enriched:>9}{r.silhouette:>12.4f}"
        line += f"{r.silhouette - base.silhouette:>+8.4f}"
        line += "".join(f"{r.recall(k):>11.4f}{_ratio(r.recall(k), base.recall(k)):>7}" for k in ks)
        won, lost = r.wins(base, ks[-1])
        lines.append(line + f"{f'+{won}/-{lost}':>10}")
    lines.append(f"{'random':<14}{'':>9}{'':>12}{'':>8}" + "".join(
        f"{chance[k]:>11.4f}{_ratio(chance[k], base.recall(k)):>7}" for k in ks
    ))  # fmt: skip
    return "\n".join(lines)


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}" if base > 0 else "-"


def _cached_embedder(cache_dir: Path, seed_cache: Path, batch_size: int) -> Embed:
    from catalog.embeddings import SentenceTransformerEmbedder, embed_with_cache

    embedder = SentenceTransformerEmbedder(batch_size=batch_size, progress=True)

    def embed(name: str, texts: list[str]) -> np.ndarray:
        path = cache_dir / f"{name.replace('+', '-')}.npz"
        if not path.exists() and seed_cache.exists():
            cache_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(seed_cache, path)  # the build's vectors; never written back
        result = embed_with_cache(embedder, texts, path)
        print(f"  {name}: reused {result.reused}, embedded {result.embedded}", flush=True)
        return result.vectors

    return embed


def main() -> None:
    from agent.settings import Settings
    from catalog.enrichment import preferred, read_enrichments
    from catalog.store import Store

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sample", type=int, default=2000, help="items for the silhouette")
    parser.add_argument("--cold-items", type=int, default=1000, help="cold items queried")
    parser.add_argument("--cold-max", type=int, default=5, help="most ratings of a cold item")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, help="default RESULTS_DIR/enrichment-benchmark")
    parser.add_argument(
        "--describe-cold",
        type=int,
        default=0,
        metavar="N",
        help="first have the configured LLM describe N of the sampled cold items",
    )
    args = parser.parse_args()
    settings = Settings()
    config = settings.build_config()
    store = Store(config.database_url, create=False)
    try:
        catalog, interactions = store.load_catalog(), store.interactions()
    finally:
        store.close()
    if args.describe_cold:
        describe_cold(settings, catalog, interactions, args)
    llm_rows = [e for e in read_enrichments(config.database_url) if e.source == "llm"]
    llm = {item_id: e.text for item_id, e in preferred(llm_rows).items() if item_id in catalog}
    cache_dir = args.cache_dir or settings.results_dir / "enrichment-benchmark"
    embed = _cached_embedder(cache_dir, config.embeddings_path, settings.embedding_batch_size)
    print(f"{len(catalog)} items, {len(llm)} with an LLM description; embedding …", flush=True)
    results, chance, queries = measure(
        catalog, interactions, embed, llm,
        sample=args.sample, cold_items=args.cold_items, cold_max=args.cold_max, seed=args.seed,
    )  # fmt: skip
    print(
        f"\nsilhouette: {min(args.sample, _single_genre_count(catalog))} single-genre items; "
        f"cold recall: {len(queries)} cold items (<= {args.cold_max} ratings), one fan each"
    )
    print(table(results, chance))
    described = {catalog.position(item_id) for item_id in llm}
    print(described_table(results, queries, described))
    if not llm:
        print("llm: no LLM descriptions stored; run `recbot enrich` with an LLM configured")


def _single_genre_count(catalog: Catalog) -> int:
    return sum(1 for i in catalog if len(i.genres) == 1 and not i.genres[0].startswith("("))


if __name__ == "__main__":
    main()
