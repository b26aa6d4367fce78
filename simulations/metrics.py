"""Metrics over simulated sessions: pure functions of the transcripts and a few item facts.

Conventions, the same for every function here:

* A rate is a fraction in [0, 1]. When its denominator is zero (no sessions, no shown items, no
  turn with two items...) it is ``None`` — undefined, never a made-up 0. Counts are plain ints.
* Sessions that ended in an ``error`` stay in every denominator: a crash counts as a miss.
* Item facts come in as arguments (``genres``, ``popularity``, ``catalog_size``), so this module
  needs no catalog and the report can be rebuilt from the JSONL transcripts alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any, Literal

from agent.llm import Usage
from catalog.sequences import dedupe
from simulations.types import BUCKETS, PERSONAS, SessionRecord, TurnRecord

GroupKey = Literal["system", "bucket"]


@dataclass(frozen=True)
class Price:
    """What an LLM costs, in currency units (USD) per million tokens."""

    input_per_million: float
    output_per_million: float

    def cost(self, input_tokens: float, output_tokens: float) -> float:
        return (
            input_tokens * self.input_per_million + output_tokens * self.output_per_million
        ) / 1_000_000


@dataclass(frozen=True)
class UsagePerSession:
    """Mean LLM use per session (what ``usage_per_session`` averages from each turn's Usage)."""

    calls: float
    input_tokens: float
    output_tokens: float

    @property
    def tokens(self) -> float:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Cost:
    """LLM cost per 1000 sessions, split by who made the calls."""

    recommender: float
    simulator: float
    total: float


@dataclass(frozen=True)
class Metrics:
    """Every metric of one group of sessions (see the functions below for the definitions)."""

    sessions: int
    turns: int
    errors: int
    success_rate: float | None
    avg_turns: float | None
    hit_curve: tuple[float, ...]  # hit_curve[t - 1] = share of sessions with hit_turn <= t
    hallucination_rate: float | None
    repeat_rate: float | None
    diversity: float | None
    coverage: float | None
    popularity_bias: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    llm: UsagePerSession | None  # the recommender's, per session
    simulator_llm: UsagePerSession | None  # the simulated user's, per session
    cost_per_1000: Cost | None  # None without a price or without sessions
    leak_rate: float | None = None  # sessions whose user's words alone identify the target
    kept_sessions: int = 0  # sessions measured and not leaking
    kept_success_rate: float | None = None  # success over the kept sessions

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["hit_curve"] = list(self.hit_curve)
        return data


@dataclass(frozen=True)
class SystemSummary:
    """One system's metrics overall and per history bucket (every bucket of ``BUCKETS``, in order;
    a bucket without sessions has ``sessions == 0``). ``by_bucket`` is empty when not grouped by it."""

    system: str
    overall: Metrics
    by_bucket: Mapping[str, Metrics]
    by_persona: Mapping[str, Metrics] = field(default_factory=dict)  # personas with sessions

    def to_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "overall": self.overall.to_dict(),
            "by_bucket": {bucket: m.to_dict() for bucket, m in self.by_bucket.items()},
            "by_persona": {persona: m.to_dict() for persona, m in self.by_persona.items()},
        }


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def success_rate(records: Sequence[SessionRecord]) -> float | None:
    """Share of sessions whose target was recommended within the session's ``max_turns``."""
    return _ratio(sum(r.success for r in records), len(records))


def avg_turns_to_success(records: Sequence[SessionRecord]) -> float | None:
    """Mean turns until the target was recommended; a miss counts ``max_turns + 1``."""
    return _mean([r.turns_to_success for r in records])


def hit_curve(records: Sequence[SessionRecord]) -> tuple[float, ...]:
    """For t = 1..T, the share of sessions with ``hit_turn <= t``; T is the largest ``max_turns``
    of the group (so the last point is the success rate when all sessions share one T)."""
    if not records:
        return ()
    horizon = max(r.max_turns for r in records)
    hits = [r.hit_turn for r in records if r.hit_turn is not None]
    return tuple(sum(h <= t for h in hits) / len(records) for t in range(1, horizon + 1))


def _shown(records: Sequence[SessionRecord]) -> int:
    return sum(len(turn.recommended) for r in records for turn in r.turns)


def hallucination_rate(records: Sequence[SessionRecord]) -> float | None:
    """Shown items the person should never have been shown, over all shown items.

    Checked by the simulator against its own read of the catalog, not the agent's candidate
    list: per shown slot, an item outside that catalog (``outside_catalog``) or one the user had
    excluded — rejected in an earlier list, said to have seen, or not wanted
    (``excluded_shown``); plus every "Title (Year)" the reply's text names that the catalog does
    not hold (``unknown_titles``, one slot each). A correct system scores exactly 0."""
    bad = named = 0
    for record in records:
        for turn in record.turns:
            outside = set(turn.outside_catalog) | set(turn.excluded_shown)
            bad += sum(item in outside for item in turn.recommended) + len(turn.unknown_titles)
            named += len(turn.unknown_titles)
    return _ratio(bad, _shown(records) + named)


def leak_rate(records: Sequence[SessionRecord]) -> float | None:
    """Share of measured sessions whose user's words alone put the target in the top 10 of a
    plain text retrieval over the whole catalog (:func:`simulations.honesty.leak_rank`)."""
    measured = [r for r in records if r.leak_measured]
    return _ratio(sum(r.leaked for r in measured), len(measured))


def kept(records: Sequence[SessionRecord]) -> list[SessionRecord]:
    """The sessions whose user did not give the target away (measured and not leaking)."""
    return [r for r in records if r.leak_measured and not r.leaked]


def repeat_rate(records: Sequence[SessionRecord]) -> float | None:
    """Re-recommendations of rejected items, over all recommendations after a session's first turn.

    An item shown in an earlier turn of the same session was rejected: the user went on talking
    instead of accepting it (the target, when shown, ends the session, so it is never counted).
    Every shown slot in the second and later turns of the transcript is in the denominator;
    each slot whose item was shown in an earlier turn (and is not the target) is a repeat.
    Repeats within a single turn are not counted."""
    repeats = later = 0
    for record in records:
        rejected: set[int] = set()
        for position, turn in enumerate(record.turns):
            if position > 0:
                later += len(turn.recommended)
                repeats += sum(item in rejected for item in turn.recommended)
            rejected.update(item for item in turn.recommended if item != record.target.item_id)
    return _ratio(repeats, later)


def _jaccard_distance(a: set[str], b: set[str]) -> float:
    union = a | b
    return 1.0 - len(a & b) / len(union) if union else 0.0


def diversity(
    records: Sequence[SessionRecord], genres: Mapping[int, Sequence[str]]
) -> float | None:
    """Intra-list diversity, averaged over sessions.

    Per turn with >= 2 shown items: the mean pairwise genre Jaccard distance (two items with no
    known genres are at distance 0). Per session: the mean over those turns. Sessions without
    such a turn are left out; ``None`` when no session has one."""
    per_session: list[float] = []
    for record in records:
        per_turn: list[float] = []
        for turn in record.turns:
            if len(turn.recommended) < 2:
                continue
            sets = [set(genres.get(item, ())) for item in turn.recommended]
            pairs = [_jaccard_distance(a, b) for a, b in combinations(sets, 2)]
            per_turn.append(sum(pairs) / len(pairs))
        if per_turn:
            per_session.append(sum(per_turn) / len(per_turn))
    return _mean(per_session)


def coverage(records: Sequence[SessionRecord], catalog_size: int) -> float | None:
    """Distinct recommended catalog items over ``catalog_size`` (items flagged outside the catalog
    are not counted); ``None`` for a catalog size of 0."""
    seen = {
        item
        for r in records
        for turn in r.turns
        for item in turn.recommended
        if item not in turn.outside_catalog
    }
    return _ratio(len(seen), catalog_size) if catalog_size > 0 else None


def most_popular(popularity: Mapping[int, int], catalog_size: int) -> frozenset[int]:
    """The most popular 1% of the catalog: the top ``ceil(catalog_size / 100)`` items by
    interaction count, ties broken by the smaller id."""
    n = -(-catalog_size // 100)  # integer ceil: 0.01 * 300 is 3.0000000000000004 in floats
    ranked = sorted(popularity.items(), key=lambda kv: (-kv[1], kv[0]))
    return frozenset(item for item, _ in ranked[:n])


def popularity_bias(
    records: Sequence[SessionRecord], popularity: Mapping[int, int], catalog_size: int
) -> float | None:
    """Share of all recommendations (every shown slot) whose item is in ``most_popular``."""
    top = most_popular(popularity, catalog_size)
    popular = sum(item in top for r in records for turn in r.turns for item in turn.recommended)
    return _ratio(popular, _shown(records))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between order statistics
    (numpy's default method); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def turn_latencies(records: Sequence[SessionRecord]) -> list[float]:
    """Every turn's latency in ms, the population of the latency percentiles and histogram."""
    return [turn.latency_ms for r in records for turn in r.turns]


def usage_per_session(
    records: Sequence[SessionRecord], which: Callable[[TurnRecord], Usage]
) -> UsagePerSession | None:
    """Mean LLM calls and tokens per session of the use ``which`` picks from a turn
    (``lambda t: t.llm`` for the recommender, ``lambda t: t.simulator_llm`` for the user)."""
    if not records:
        return None
    uses = [which(turn) for r in records for turn in r.turns]
    n = len(records)
    return UsagePerSession(
        calls=sum(u.calls for u in uses) / n,
        input_tokens=sum(u.input_tokens for u in uses) / n,
        output_tokens=sum(u.output_tokens for u in uses) / n,
    )


def cost_per_1000(
    recommender: UsagePerSession | None,
    simulator: UsagePerSession | None,
    price: Price,
    simulator_price: Price,
) -> Cost | None:
    """Cost of 1000 sessions from the per-session usage; ``None`` without sessions."""
    if recommender is None or simulator is None:
        return None
    rec = 1000 * price.cost(recommender.input_tokens, recommender.output_tokens)
    sim = 1000 * simulator_price.cost(simulator.input_tokens, simulator.output_tokens)
    return Cost(recommender=rec, simulator=sim, total=rec + sim)


def compute_metrics(
    records: Sequence[SessionRecord],
    *,
    genres: Mapping[int, Sequence[str]],
    popularity: Mapping[int, int],
    catalog_size: int,
    price: Price | None = None,
    simulator_price: Price | None = None,
) -> Metrics:
    """All metrics of one group. The simulator is priced like the recommender unless
    ``simulator_price`` is given; without ``price`` there is no cost."""
    latencies = turn_latencies(records)
    llm = usage_per_session(records, lambda turn: turn.llm)
    sim = usage_per_session(records, lambda turn: turn.simulator_llm)
    cost = None if price is None else cost_per_1000(llm, sim, price, simulator_price or price)
    return Metrics(
        sessions=len(records),
        turns=len(latencies),
        errors=sum(bool(r.error) for r in records),
        success_rate=success_rate(records),
        avg_turns=avg_turns_to_success(records),
        hit_curve=hit_curve(records),
        hallucination_rate=hallucination_rate(records),
        repeat_rate=repeat_rate(records),
        diversity=diversity(records, genres),
        coverage=coverage(records, catalog_size),
        popularity_bias=popularity_bias(records, popularity, catalog_size),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        llm=llm,
        simulator_llm=sim,
        cost_per_1000=cost,
        leak_rate=leak_rate(records),
        kept_sessions=len(kept(records)),
        kept_success_rate=success_rate(kept(records)),
    )


def systems_in_order(records: Sequence[SessionRecord]) -> list[str]:
    """The systems of the records, in order of first appearance."""
    return dedupe(r.system for r in records)


def summarize(
    records: Sequence[SessionRecord],
    *,
    genres: Mapping[int, Sequence[str]],
    popularity: Mapping[int, int],
    catalog_size: int,
    price: Price | None = None,
    simulator_price: Price | None = None,
    by: tuple[GroupKey, ...] = ("system", "bucket"),
) -> list[SystemSummary]:
    """Metrics per system (in order of first appearance), overall and per history bucket.

    ``by`` is ``("system", "bucket")`` (the default) or ``("system",)`` to skip the buckets."""
    if by not in {("system",), ("system", "bucket")}:
        raise ValueError(f"summarize groups by ('system',) or ('system', 'bucket'), not {by!r}")

    def metrics(group: Sequence[SessionRecord]) -> Metrics:
        return compute_metrics(
            group,
            genres=genres,
            popularity=popularity,
            catalog_size=catalog_size,
            price=price,
            simulator_price=simulator_price,
        )

    summaries = []
    for system in systems_in_order(records):
        own = [r for r in records if r.system == system]
        by_bucket: dict[str, Metrics] = (
            {b: metrics([r for r in own if r.bucket == b]) for b in BUCKETS}
            if "bucket" in by
            else {}
        )
        by_persona: dict[str, Metrics] = {
            p: metrics(group) for p in PERSONAS if (group := [r for r in own if r.persona == p])
        }
        summaries.append(SystemSummary(system, metrics(own), by_bucket, by_persona))
    return summaries
