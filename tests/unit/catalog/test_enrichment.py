"""The enrichments table, the preference between sources, and `recbot build` embedding the text."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalog.build import BuildConfig, Manifest, build
from catalog.domain import Item
from catalog.enrichment import (
    Enrichment,
    EnrichmentStore,
    enrichment_fingerprint,
    preferred,
    read_enriched_texts,
)
from catalog.store import Store
from catalog.text import item_text
from tests.fakes import BagOfWordsEmbedder


@pytest.fixture
def store(tmp_path: Path) -> EnrichmentStore:
    return EnrichmentStore(Store(f"sqlite:///{tmp_path / 'app.db'}"))


def _at(minute: int) -> datetime:
    return datetime(2026, 1, 1, 12, minute, tzinfo=UTC)


def test_rows_round_trip(store: EnrichmentStore) -> None:
    saved = Enrichment(3, "enrich-1", "llm", "Tone: tense. Pace: fast.", 120, 40)
    assert store.save([saved, Enrichment(4, "rules-1", "rules", "Tone: funny.")]) == 2
    first, second = store.all()
    assert replace(first, created_at=None) == saved
    assert first.created_at is not None and second.source == "rules"
    assert store.done("enrich-1", "llm") == {3}
    assert store.done("enrich-1", "rules") == set() and store.done("enrich-2", "llm") == set()


def test_saving_the_same_text_changes_nothing(store: EnrichmentStore) -> None:
    row = Enrichment(3, "rules-1", "rules", "Tone: tense.")
    store.save([row])
    stamp = store.all()[0].created_at
    assert store.save([row]) == 0
    assert store.all()[0].created_at == stamp
    assert store.save([replace(row, text="Tone: calm.")]) == 1
    (only,) = store.all()  # updated in place: one row per (item, version, source)
    assert only.text == "Tone: calm."


def test_many_rows_are_saved_in_chunks(store: EnrichmentStore) -> None:
    rows = [Enrichment(i, "rules-1", "rules", f"Themes: t{i}.") for i in range(4_500)]
    assert store.save(rows) == 4_500
    assert store.save(rows) == 0
    assert len(store.done("rules-1", "rules")) == 4_500


def test_llm_beats_rules_then_newest_wins() -> None:
    rows = [
        Enrichment(1, "enrich-1", "llm", "llm old", created_at=_at(1)),
        Enrichment(1, "rules-1", "rules", "rules newest", created_at=_at(9)),
        Enrichment(1, "enrich-2", "llm", "llm new", created_at=_at(5)),
        Enrichment(2, "rules-1", "rules", "rules only", created_at=_at(1)),
        Enrichment(3, "rules-1", "rules", "rules first", created_at=_at(1)),
        Enrichment(3, "rules-2", "rules", "rules same time, later row", created_at=_at(1)),
    ]
    texts = {item_id: e.text for item_id, e in preferred(rows).items()}
    assert texts == {1: "llm new", 2: "rules only", 3: "rules same time, later row"}
    assert preferred(rows[::-1])[1].text == "llm new"  # order of rows does not matter


def test_store_texts_prefer_the_llm(store: EnrichmentStore) -> None:
    store.save([Enrichment(1, "rules-1", "rules", "by rules")])
    store.save([Enrichment(1, "enrich-1", "llm", "by llm"), Enrichment(2, "r", "rules", "r2")])
    assert store.texts() == {1: "by llm", 2: "r2"}


def test_read_enriched_texts_without_database_or_table(tmp_path: Path) -> None:
    assert read_enriched_texts(f"sqlite:///{tmp_path / 'missing.db'}") == {}
    assert not (tmp_path / "missing.db").exists()  # reading never creates a database
    sqlite3.connect(tmp_path / "empty.db").close()
    assert read_enriched_texts(f"sqlite:///{tmp_path / 'empty.db'}") == {}


def test_read_enriched_texts(tmp_path: Path, store: EnrichmentStore) -> None:
    store.save([Enrichment(7, "rules-1", "rules", "Pace: fast.")])
    assert read_enriched_texts(f"sqlite:///{tmp_path / 'app.db'}") == {7: "Pace: fast."}


def test_fingerprint() -> None:
    assert enrichment_fingerprint({}) == ""
    one = enrichment_fingerprint({1: "a", 2: "b"})
    assert one == enrichment_fingerprint({2: "b", 1: "a"}) and len(one) == 64
    assert one != enrichment_fingerprint({1: "a", 2: "c"})


def test_item_text_puts_the_enrichment_before_the_overview() -> None:
    item = Item(1, "Heat", 1995, ("Crime",), ("heist",), overview="Cops and robbers.")
    text = item_text(item, enrichment="  Tone: tense.\n Pace: fast. ")
    assert text == (
        "Heat (1995). Genres: Crime. Tags: heist. Tone: tense. Pace: fast. Cops and robbers."
    )
    assert item_text(item, enrichment=" ") == item_text(item)


# --- recbot build --------------------------------------------------------------------------------


def _config(home: Path, data_dir: Path, **kwargs: object) -> BuildConfig:
    return BuildConfig(
        home=home, database_url=f"sqlite:///{home / 'app.db'}", data_dir=data_dir, **kwargs
    )  # type: ignore[arg-type]


def _build(config: BuildConfig, embedder: BagOfWordsEmbedder) -> Manifest:
    return build(config, embedder, progress=False, log=lambda _msg: None)


def _enrich(config: BuildConfig, *rows: Enrichment) -> None:
    store = Store(config.database_url)
    try:
        EnrichmentStore(store).save(rows)
    finally:
        store.close()


def test_build_embeds_enriched_text_and_only_changed_items(
    tmp_path: Path, movielens_dir: Path
) -> None:
    config = _config(tmp_path / "home", movielens_dir)
    plain = _build(config, BagOfWordsEmbedder())
    assert plain.enrichment_hash == "" and plain.counts["enriched"] == 0

    _enrich(
        config,
        Enrichment(3, "rules-1", "rules", "Tone: tense. Pace: fast."),
        Enrichment(4, "rules-1", "rules", "Tone: thought-provoking."),
    )
    embedder = BagOfWordsEmbedder()
    enriched = _build(config, embedder)
    assert embedder.embedded_count == 2 * 2  # the two enriched items' texts and descriptions
    assert sorted(embedder.calls[0]) == [
        "Heat (1995). Genres: Action, Crime, Thriller. Tone: tense. Pace: fast.",
        "The Matrix (1999). Genres: Action, Sci-Fi, Thriller. Tone: thought-provoking. "
        "A hacker learns that reality is a simulation run by machines.",
    ]
    assert enriched.stages["embed"] == "built" and enriched.counts["enriched"] == 2
    assert enriched.enrichment_hash not in ("", plain.enrichment_hash)

    unchanged = BagOfWordsEmbedder()
    assert set(_build(config, unchanged).stages.values()) == {"reused"}
    assert unchanged.calls == []


def test_build_prefers_the_llm_description(tmp_path: Path, movielens_dir: Path) -> None:
    config = _config(tmp_path / "home", movielens_dir)
    _build(config, BagOfWordsEmbedder())
    _enrich(config, Enrichment(3, "rules-1", "rules", "Tone: by rules."))
    _build(config, BagOfWordsEmbedder())
    _enrich(config, Enrichment(3, "enrich-1", "llm", "Tone: by the llm."))
    embedder = BagOfWordsEmbedder()
    _build(config, embedder)
    assert embedder.calls == [
        ["Heat (1995). Genres: Action, Crime, Thriller. Tone: by the llm."],
        ["Genres: Action, Crime, Thriller. Tone: by the llm."],
    ]


def test_build_ignores_enrichment_when_switched_off(tmp_path: Path, movielens_dir: Path) -> None:
    config = _config(tmp_path / "home", movielens_dir)
    _build(config, BagOfWordsEmbedder())
    _enrich(config, Enrichment(3, "rules-1", "rules", "Tone: tense."))
    assert _build(config, BagOfWordsEmbedder()).counts["enriched"] == 1
    off = replace(config, use_enriched_text=False)
    embedder = BagOfWordsEmbedder()
    manifest = _build(off, embedder)  # not "up to date": the embedded text goes back
    # nothing but its genres describes it now, so its description is its whole text
    assert embedder.calls == [["Heat (1995). Genres: Action, Crime, Thriller."]] * 2
    assert manifest.enrichment_hash == "" and manifest.counts["enriched"] == 0


def test_manifest_without_the_enrichment_field_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    manifest = Manifest(1, "catalog-1", "t", "d", "movielens", "h", "u", "m", 4, {}, {}, "", {}, {})
    manifest.write(path)
    text = path.read_text().replace('  "enrichment_hash": "",\n', "")
    path.write_text(text)
    assert "enrichment_hash" not in text
    assert Manifest.read(path) == manifest
