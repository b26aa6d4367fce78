"""``recbot enrich``: the LLM as enhancer — each item's thin text expanded once, offline.

With an LLM, every item not yet described for :data:`ENRICH_PROMPT_VERSION` gets one call
(:func:`agent.prompts.enrich_prompt`), at most ``concurrency`` in flight. Answers that parse
(:func:`parse_enrichment`) are saved as they arrive, so an interrupted run resumes where it
stopped; failed items are reported and left for the next run — nothing is retried here beyond
the client's own ``max_retries``. Without an LLM the same fields are derived by rules from
genres, tags and overview (:func:`rules_enrichment`) with the mood words of
:mod:`agent.lexicon`. ``recbot build`` embeds the result (:mod:`catalog.enrichment`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.lexicon import MOODS, mood_score, normalize_text
from agent.llm import Usage, UsageCounter
from agent.prompts import (
    ENRICH_FIELDS,
    ENRICH_PROMPT_VERSION,
    ENRICH_SYSTEM,
    enrich_prompt,
    snippet,
)
from agent.settings import Settings
from catalog.domain import Item
from catalog.enrichment import Enrichment, EnrichmentStore, Source
from catalog.sequences import dedupe
from catalog.store import Store
from simulations.metrics import Price

RULES_VERSION = "rules-1"  # bump when the rules below change what they write
MIN_FIELDS = 3  # an answer with fewer of the five labelled lines is not a description
FIELD_CHARS = 200  # per field, so one rambling line cannot crowd out the item's own text


class ChatModel(Protocol):
    """What the job needs of a chat model: ``ChatOpenAI`` or a test's fake."""

    def invoke(self, input: Any) -> Any: ...


@dataclass
class EnrichReport:
    """What one run did. ``failed`` maps item ids to a reason; those items are left undone."""

    source: Source
    prompt_version: str
    items: int  # in the catalog
    already: int  # described before this run (or, for rules, unchanged)
    enriched: int  # described (or, for rules, new or changed) by this run
    failed: dict[int, str] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0

    @property
    def remaining(self) -> int:
        """Items still without a description of this version (failed or beyond ``--limit``)."""
        return self.items - self.already - self.enriched

    def summary(self) -> str:
        lines = [
            f"enrichment    {self.source} ({self.prompt_version}): {self.enriched} described now, "
            f"{self.already} {'unchanged' if self.source == 'rules' else 'already done'}, "
            f"{self.remaining} remaining of {self.items} items"
        ]
        if self.source == "llm":
            lines.append(
                f"llm           {self.usage.calls} calls, {self.usage.input_tokens} input + "
                f"{self.usage.output_tokens} output tokens, ${self.cost_usd:.4f}"
            )
        for item_id, reason in sorted(self.failed.items())[:10]:
            lines.append(f"failed        item {item_id}: {reason}")
        if len(self.failed) > 10:
            lines.append(f"failed        … and {len(self.failed) - 10} more")
        return "\n".join(lines)


# --- the LLM job ---------------------------------------------------------------------------------


def enrich_with_llm(
    model: ChatModel,
    items: Sequence[Item],
    store: EnrichmentStore,
    *,
    concurrency: int = 4,
    limit: int | None = None,
    price: Price | None = None,
    counter: UsageCounter | None = None,
    prompt_version: str = ENRICH_PROMPT_VERSION,
    progress: bool = True,
) -> EnrichReport:
    """Describe every item not yet described for ``prompt_version``; at most ``limit`` of them.

    Each answer is saved when it arrives (the database is written from this thread only).
    ``counter`` (a fresh one by default) counts every answer, usable or not, since each cost
    tokens; the report holds what this run added to it.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    from tqdm import tqdm

    done = store.done(prompt_version, "llm")
    todo = [item for item in items if item.id not in done]
    todo = todo[:limit] if limit is not None else todo
    counter = counter or UsageCounter()
    before = counter.snapshot()
    report = EnrichReport("llm", prompt_version, len(items), len(done & {i.id for i in items}), 0)
    bar = tqdm(total=len(todo), disable=not progress, unit="item", desc="enrich")
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="enrich")
    try:
        futures = {pool.submit(_ask, model, item, counter): item for item in todo}
        for future in as_completed(futures):
            item = futures[future]
            enrichment, reason = _outcome(future, item, prompt_version)
            if enrichment is not None:
                store.save([enrichment])
                report.enriched += 1
            else:
                report.failed[item.id] = reason
            bar.update(1)
            bar.set_postfix(failed=len(report.failed), tokens=_spent(counter, before))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # Ctrl-C: drop what has not started
        bar.close()
    report.usage = _difference(counter.snapshot(), before)
    report.cost_usd = (price or Price(0.0, 0.0)).cost(
        report.usage.input_tokens, report.usage.output_tokens
    )
    return report


def _ask(model: ChatModel, item: Item, counter: UsageCounter) -> Any:
    answer = model.invoke(enrich_prompt(item).messages())
    counter.record(answer)
    return answer


def _outcome(future: Future[Any], item: Item, version: str) -> tuple[Enrichment | None, str]:
    """The item's enrichment, or None and why not. Any failure of the call is data: the item
    is reported and left for the next run (timeouts, HTTP errors, refusals)."""
    try:
        answer = future.result()
    except Exception as error:
        return None, f"{type(error).__name__}: {snippet(str(error), 120)}"
    text = parse_enrichment(answer_text(answer))
    if text is None:
        return None, f"unusable answer: {snippet(answer_text(answer), 80)!r}"
    usage = getattr(answer, "usage_metadata", None) or {}
    tokens = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    return Enrichment(item.id, version, "llm", text, *tokens), ""


def _spent(counter: UsageCounter, before: Usage) -> int:
    now = counter.snapshot()
    return now.input_tokens + now.output_tokens - before.input_tokens - before.output_tokens


def _difference(after: Usage, before: Usage) -> Usage:
    return Usage(
        calls=after.calls - before.calls,
        input_tokens=after.input_tokens - before.input_tokens,
        output_tokens=after.output_tokens - before.output_tokens,
    )


def answer_text(answer: Any) -> str:
    """The text of a chat answer, whether its content is a string or a list of blocks."""
    content = getattr(answer, "content", answer)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", ""))
            for part in content
            if isinstance(part, str | dict)
        )
    return str(content or "")


# --- parsing and formatting ----------------------------------------------------------------------

_LABELS = "|".join(re.escape(name) for name in ENRICH_FIELDS)
_FIELD_LINE = re.compile(
    rf"^[\s\-*#>•\d.]*(?P<label>{_LABELS})[\s*_]*:[\s*_]*(?P<value>.*?)[\s*_]*$", re.IGNORECASE
)


ECHO_WORDS = 4  # a run of this many of the instructions' words in a field is an echo of them


def _word_runs(text: str, n: int = ECHO_WORDS) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.casefold())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


_INSTRUCTION_RUNS = _word_runs(ENRICH_SYSTEM)


def echoes_instructions(value: str) -> bool:
    """Whether a field repeats the prompt's own words ("3 to 5 adjectives for its mood …"):
    a small model often answers with the instructions, which would embed the same text into
    every item it describes."""
    return not _word_runs(value).isdisjoint(_INSTRUCTION_RUNS)


def parse_enrichment(answer: str) -> str | None:
    """The labelled lines of an LLM's answer as one normalised description, or None.

    Tolerates markdown bullets and bold labels, any order and extra prose lines (dropped);
    needs at least :data:`MIN_FIELDS` of the five fields. The first line of each label wins; a
    field that repeats the instructions does not count.
    """
    found: dict[str, str] = {}
    canonical = {name.lower(): name for name in ENRICH_FIELDS}
    for line in answer.splitlines():
        match = _FIELD_LINE.match(line)
        value = match.group("value") if match else ""
        if match and value.strip() and not echoes_instructions(value):
            found.setdefault(canonical[match.group("label").lower()], value)
    if len(found) < MIN_FIELDS:
        return None
    return format_enrichment(found)


def format_enrichment(fields: Mapping[str, str]) -> str:
    """``{"Tone": "dark, tense", ...}`` → ``"Tone: dark, tense. Themes: …"`` in field order;
    empty fields are left out, each value is one line of at most :data:`FIELD_CHARS`."""
    parts = []
    for name in ENRICH_FIELDS:
        value = snippet(fields.get(name, ""), FIELD_CHARS).rstrip(" .;")
        if value:
            parts.append(f"{name}: {value}.")
    return " ".join(parts)


# --- rules, without an LLM -----------------------------------------------------------------------

TONE_WORDS = {
    "exciting": "exciting",
    "funny": "funny",
    "light": "light-hearted",
    "romantic": "romantic",
    "thoughtful": "thought-provoking",
    "dark": "dark",
    "scary": "scary",
    "violent": "violent",
    "depressing": "sad",
    "relaxing": "gentle",
}
TONE_MIN = 0.4  # a carrying genre alone reaches it; a fighting genre halves it below
MAX_TONES = 3
MAX_THEMES = 6
_THEME_WORDS = re.compile(
    "(?<![a-z0-9])(?:"
    + "|".join(
        re.escape(word)
        for word in sorted({w for mood in MOODS.values() for w in mood.words}, key=len)[::-1]
    )
    + ")(?![a-z0-9])"
)


def rules_enrichment(item: Item) -> str:
    """Tone, themes, audience and pace derived from the item's genres, tags and overview.

    Tone: the moods of :mod:`agent.lexicon` the item carries most (``mood_score``). Themes:
    mood words of its tags and overview. Audience and pace follow genres and moods.
    """
    scores = {mood: mood_score(mood, item.genres, item.tags, item.overview) for mood in MOODS}
    ranked = sorted(scores, key=lambda mood: (-scores[mood], list(TONE_WORDS).index(mood)))
    tones = [TONE_WORDS[mood] for mood in ranked if scores[mood] >= TONE_MIN][:MAX_TONES]
    return format_enrichment(
        {
            "Tone": ", ".join(tones),
            "Themes": ", ".join(_themes(item)),
            "Audience": _audience(item.genres, scores),
            "Pace": _pace(scores),
        }
    )


def _themes(item: Item) -> list[str]:
    """Lexicon words found in the tags and the overview: the vocabulary people type, not a
    copy of the tags the item text already holds."""
    texts = [*item.tags, item.overview]
    words = [word for text in texts for word in _THEME_WORDS.findall(normalize_text(text))]
    return dedupe(words)[:MAX_THEMES]


def _audience(genres: Sequence[str], scores: Mapping[str, float]) -> str:
    who = []
    if {"Children", "Animation"} & set(genres):
        who.append("families and children")
    if "Horror" in genres:
        who.append("horror fans")
    if "Documentary" in genres:
        who.append("viewers who like true stories")
    if not who and (scores["violent"] >= TONE_MIN or scores["dark"] > TONE_MIN):
        who.append("adults")
    if "Romance" in genres and len(who) < 2:
        who.append("romance fans")
    return ", ".join(who[:2]) or "general audiences"


def _pace(scores: Mapping[str, float]) -> str:
    if scores["exciting"] >= TONE_MIN:
        return "fast"
    if max(scores["depressing"], scores["thoughtful"]) >= TONE_MIN:
        return "slow-burning"
    if max(scores["relaxing"], scores["light"]) >= TONE_MIN:
        return "easygoing"
    return "moderate"


def enrich_with_rules(
    items: Sequence[Item], store: EnrichmentStore, *, limit: int | None = None
) -> EnrichReport:
    """Describe every item (at most ``limit``) by rules; rows whose text is unchanged stay."""
    chosen = list(items)[:limit] if limit is not None else list(items)
    rows = [Enrichment(item.id, RULES_VERSION, "rules", rules_enrichment(item)) for item in chosen]
    changed = store.save(rows)
    return EnrichReport("rules", RULES_VERSION, len(items), len(rows) - changed, changed)


# --- the job -------------------------------------------------------------------------------------


def enrich_catalog(
    settings: Settings, *, limit: int | None = None, rules: bool = False, progress: bool = True
) -> EnrichReport:
    """``recbot enrich`` over the built catalog: with the configured LLM, else (or when
    ``rules``) by rules."""
    store = Store(settings.build_config().database_url, create=False)
    try:
        catalog, enrichments = store.load_catalog(), EnrichmentStore(store)
        if rules or not settings.llm_configured:
            return enrich_with_rules(catalog.items, enrichments, limit=limit)
        from agent.wiring import chat_model

        return enrich_with_llm(
            chat_model(settings),
            catalog.items,
            enrichments,
            concurrency=settings.enrich_concurrency,
            limit=limit,
            price=Price(
                settings.llm_price_input_per_million, settings.llm_price_output_per_million
            ),
            progress=progress,
        )
    finally:
        store.close()
