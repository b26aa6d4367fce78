"""Offline item enrichment, kept in the app database, and the text ``recbot build`` embeds from it.

``recbot enrich`` (``jobs.enrich``) writes one row per item, prompt version and source:
``"llm"`` when the configured LLM described the item, ``"rules"`` when the description was
derived from genres, tags and overview without an LLM. ``recbot build`` adds each item's
preferred description to its embedding text (:func:`preferred`: the LLM's over the rules', the
newest first). The text feeds embeddings only: nothing shows it to a person, and film titles in
it never become recommendations.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from catalog.errors import StoreError
from catalog.store import Store

Source = Literal["llm", "rules"]
SOURCE_PREFERENCE: tuple[Source, ...] = ("llm", "rules")  # first wins
TABLE = "enrichments"
_CHUNK = 2_000  # item ids per lookup, well under any driver's parameter limit


class EnrichmentBase(DeclarativeBase):
    pass


class EnrichmentRow(EnrichmentBase):
    __tablename__ = TABLE
    __table_args__ = (
        UniqueConstraint("item_id", "prompt_version", "source", name="uq_enrichment"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # no foreign key: a description outlives a rebuild that drops and re-adds its item
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    prompt_version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class Enrichment:
    """One item's description from one source and prompt version (the domain side of a row)."""

    item_id: int
    prompt_version: str
    source: Source
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    created_at: datetime | None = None  # set when saved


def _from_row(row: EnrichmentRow) -> Enrichment:
    source: Source = "llm" if row.source == "llm" else "rules"
    return Enrichment(
        row.item_id,
        row.prompt_version,
        source,
        row.text,
        row.input_tokens or 0,
        row.output_tokens or 0,
        row.created_at,
    )


class EnrichmentStore:
    """Reads and writes the ``enrichments`` table of an open :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.guard("create the enrichment table in"):
            EnrichmentBase.metadata.create_all(store.engine)

    def done(self, prompt_version: str, source: Source) -> set[int]:
        """Ids of the items already described for this prompt version and source."""
        query = select(EnrichmentRow.item_id).where(
            EnrichmentRow.prompt_version == prompt_version, EnrichmentRow.source == source
        )
        with self.store.guard("read from"), Session(self.store.engine) as session:
            return set(session.scalars(query))

    def save(self, enrichments: Iterable[Enrichment]) -> int:
        """Insert or update rows by (item, prompt version, source); returns how many changed.

        A row whose text is unchanged keeps its timestamp, so saving the same rules twice is a
        no-op for ``recbot build``.
        """
        wanted = {(e.item_id, e.prompt_version, e.source): e for e in enrichments}
        if not wanted:
            return 0
        now = datetime.now(UTC)
        changed = 0
        with self.store.guard("write to"), Session(self.store.engine) as session, session.begin():
            existing = _existing(session, list(wanted))
            for key, enrichment in wanted.items():
                row = existing.get(key)
                if row is None:
                    session.add(_new_row(enrichment, now))
                elif row.text != enrichment.text:
                    row.text = enrichment.text
                    row.input_tokens = enrichment.input_tokens
                    row.output_tokens = enrichment.output_tokens
                    row.created_at = now
                else:
                    continue
                changed += 1
        return changed

    def all(self) -> list[Enrichment]:
        """Every stored description, in insertion order."""
        with self.store.guard("read from"), Session(self.store.engine) as session:
            rows = session.scalars(select(EnrichmentRow).order_by(EnrichmentRow.id))
            return [_from_row(row) for row in rows]

    def texts(self) -> dict[int, str]:
        """The preferred description of every described item, by item id."""
        return {item_id: e.text for item_id, e in preferred(self.all()).items()}


def _existing(
    session: Session, keys: Sequence[tuple[int, str, str]]
) -> dict[tuple[int, str, str], EnrichmentRow]:
    """The stored rows among ``keys``, looked up by item id in chunks (one query per chunk)."""
    found = {}
    versions = {key[1] for key in keys}
    for start in range(0, len(keys), _CHUNK):
        ids = {key[0] for key in keys[start : start + _CHUNK]}
        query = select(EnrichmentRow).where(
            EnrichmentRow.item_id.in_(ids), EnrichmentRow.prompt_version.in_(versions)
        )
        found.update({(r.item_id, r.prompt_version, r.source): r for r in session.scalars(query)})
    return found


def _new_row(enrichment: Enrichment, now: datetime) -> EnrichmentRow:
    return EnrichmentRow(
        item_id=enrichment.item_id,
        prompt_version=enrichment.prompt_version,
        source=enrichment.source,
        text=enrichment.text,
        input_tokens=enrichment.input_tokens,
        output_tokens=enrichment.output_tokens,
        created_at=enrichment.created_at or now,
    )


def preferred(enrichments: Sequence[Enrichment]) -> dict[int, Enrichment]:
    """Per item, the description to embed: an LLM's over a rule-based one, then the newest.

    Rows of older prompt versions still count until a newer one replaces them, so a
    half-finished run with a new prompt never leaves items without their old description.
    ``enrichments`` comes in insertion order, which breaks ties between equal timestamps.
    """
    best: dict[int, tuple[tuple[int, datetime, int], Enrichment]] = {}
    oldest = datetime.min
    for order, enrichment in enumerate(enrichments):
        rank = len(SOURCE_PREFERENCE) - SOURCE_PREFERENCE.index(enrichment.source)
        created = (enrichment.created_at or oldest).replace(tzinfo=None)
        key = (rank, created, order)
        current = best.get(enrichment.item_id)
        if current is None or key > current[0]:
            best[enrichment.item_id] = (key, enrichment)
    return {item_id: enrichment for item_id, (_key, enrichment) in best.items()}


def read_enrichments(database_url: str) -> list[Enrichment]:
    """Every stored description, or none when no database or table exists yet.

    Read-only (creates neither): a build that has not written its database yet, or one that
    never ran ``recbot enrich``, simply has no enriched text.
    """
    try:
        store = Store(database_url, create=False)
    except StoreError:
        return []
    try:
        with store.guard("read from"):
            if not inspect(store.engine).has_table(TABLE):
                return []
        with store.guard("read from"), Session(store.engine) as session:
            rows = session.scalars(select(EnrichmentRow).order_by(EnrichmentRow.id))
            return [_from_row(row) for row in rows]
    finally:
        store.close()


def read_enriched_texts(database_url: str) -> dict[int, str]:
    """The preferred description per item (:func:`preferred`); empty when nothing is enriched."""
    return {item_id: e.text for item_id, e in preferred(read_enrichments(database_url)).items()}


def enrichment_fingerprint(texts: Mapping[int, str]) -> str:
    """A hash of the descriptions a build embeds; empty when it embeds none."""
    if not texts:
        return ""
    payload = json.dumps(sorted(texts.items()), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()
