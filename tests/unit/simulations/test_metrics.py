from __future__ import annotations

import json

import pytest

from agent.llm import Usage
from simulations.metrics import (
    Cost,
    Price,
    UsagePerSession,
    avg_turns_to_success,
    compute_metrics,
    coverage,
    diversity,
    hallucination_rate,
    hit_curve,
    most_popular,
    percentile,
    popularity_bias,
    repeat_rate,
    success_rate,
    summarize,
)
from simulations.types import BUCKETS, Bucket, SessionRecord, Target, TurnRecord

TARGET = 99


def session(
    *turns: TurnRecord | list[int],
    hit_turn: int | None = None,
    system: str = "agent",
    bucket: Bucket = "0",
    max_turns: int = 5,
    error: str = "",
) -> SessionRecord:
    """A hand-made transcript; a plain list of ids is a recommend turn showing them."""
    records = [
        t
        if isinstance(t, TurnRecord)
        else TurnRecord(turn=n, user="more?", action="recommend", recommended=t, hit=TARGET in t)
        for n, t in enumerate(turns, start=1)
    ]
    return SessionRecord(
        session_id=f"{system}/0/{id(records)}",
        system=system,
        seed=0,
        target=Target(user_id=1, item_id=TARGET, title="Target (2000)"),
        bucket=bucket,
        max_turns=max_turns,
        k=3,
        turns=records,
        hit_turn=hit_turn,
        error=error,
    )


FACTS: dict = {"genres": {}, "popularity": {}, "catalog_size": 100}


def test_success_average_turns_and_hit_curve() -> None:
    records = [session([1], [TARGET], hit_turn=2), session(*[[1]] * 5)]
    assert success_rate(records) == 0.5
    assert avg_turns_to_success(records) == (2 + 6) / 2
    assert hit_curve(records) == (0.0, 0.5, 0.5, 0.5, 0.5)


def test_hit_curve_spans_the_longest_horizon_of_the_group() -> None:
    records = [session([TARGET], hit_turn=1, max_turns=2), session([1], max_turns=4)]
    assert hit_curve(records) == (0.5, 0.5, 0.5, 0.5)


def test_hallucinations_count_items_outside_the_simulators_catalog_or_excluded() -> None:
    bad = session(
        TurnRecord(
            turn=1, user="u", action="recommend", recommended=[1, 2, 3], outside_catalog=[3]
        ),
        TurnRecord(
            turn=2,
            user="u",
            action="recommend",
            recommended=[4, 5],
            outside_catalog=[5],
            excluded_shown=[5, 4],  # 4 was rejected before; 5 is outside too: one each
        ),
        TurnRecord(
            turn=3,
            user="u",
            action="recommend",
            recommended=[6],
            outside_candidates=[6],  # the agent's own funnel is not the judge
            unknown_titles=["Made Up (1999)"],  # named in the text, not in the catalog
        ),
    )
    assert hallucination_rate([bad]) == pytest.approx(4 / 7)
    assert hallucination_rate([session([1, 2], [3])]) == 0.0
    assert hallucination_rate([session(TurnRecord(turn=1, user="u", action="clarify"))]) is None


def test_repeat_rate_counts_items_shown_again_after_a_rejection() -> None:
    repeats = session([1, 2], [2, 3], [1, 4, TARGET], hit_turn=3)  # 2 again, then 1 again
    clarify_first = session(TurnRecord(turn=1, user="u", action="clarify"), [1, 2], [3, 4])
    assert repeat_rate([repeats]) == pytest.approx(2 / 5)
    assert repeat_rate([repeats, clarify_first]) == pytest.approx(2 / 9)
    assert repeat_rate([session([1, 1], [2])]) == 0.0  # a duplicate within a turn is no repeat
    assert repeat_rate([session([1, 2])]) is None  # nothing after turn 1


def test_diversity_is_mean_pairwise_genre_jaccard_distance() -> None:
    genres = {1: ["Action", "Sci-Fi"], 2: ["Action"], 3: ["Comedy"], 4: []}
    varied = session([1, 2], [1, 2, 3], [3])  # 0.5 and (0.5 + 1 + 1) / 3; one-item turn ignored
    same = session([3, 3], [4, 5])  # identical genres, then two items with no known genres
    single = session([1], [2])  # no turn with two items: left out
    assert diversity([varied], genres) == pytest.approx((0.5 + 2.5 / 3) / 2)
    assert diversity([varied, same, single], genres) == pytest.approx((0.5 + 2.5 / 3) / 2 / 2)
    assert diversity([single], genres) is None


def popularity_200() -> dict[int, int]:
    popularity = {item: 1000 - item for item in range(1, 201)}
    popularity[150] = 5000  # the most popular
    popularity[7] = popularity[1]  # ties with item 1; the smaller id wins
    return popularity


def test_most_popular_one_percent_with_ties_by_id() -> None:
    assert most_popular(popularity_200(), 200) == {150, 1}
    assert most_popular(popularity_200(), 300) == {150, 1, 7}  # ceil(3.0000000000000004) is not 4
    assert most_popular(popularity_200(), 201) == {150, 1, 7}  # ceil(2.01) = 3
    assert most_popular({}, 200) == frozenset()


def test_coverage_and_popularity_bias() -> None:
    records = [
        session([150, 1, 7, 20], [7, 30]),
        session(
            TurnRecord(
                turn=1, user="u", action="recommend", recommended=[9999], outside_catalog=[9999]
            )
        ),
    ]
    assert coverage(records, 200) == pytest.approx(5 / 200)  # 9999 is no catalog item
    assert popularity_bias(records, popularity_200(), 200) == pytest.approx(2 / 7)
    assert coverage([], 200) == 0.0
    assert coverage(records, 0) is None
    assert popularity_bias([], popularity_200(), 200) is None


def timed(*latencies: float) -> SessionRecord:
    return session(
        *(
            TurnRecord(turn=n, user="u", action="recommend", recommended=[n], latency_ms=ms)
            for n, ms in enumerate(latencies, start=1)
        )
    )


def test_latency_percentiles_interpolate_linearly() -> None:
    metrics = compute_metrics([timed(30, 10, 50, 20, 40), timed(100, 60, 90, 70, 80)], **FACTS)
    assert metrics.turns == 10
    assert metrics.latency_p50_ms == pytest.approx(55.0)
    assert metrics.latency_p95_ms == pytest.approx(95.5)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def priced() -> SessionRecord:
    llm = Usage(calls=2, input_tokens=1000, output_tokens=500)
    sim = Usage(calls=1, input_tokens=300, output_tokens=100)
    turns = [
        TurnRecord(
            turn=n, user="u", action="recommend", recommended=[n], llm=llm, simulator_llm=sim
        )
        for n in (1, 2)
    ]
    return session(*turns)


def test_llm_use_per_session_and_cost_per_1000_sessions() -> None:
    price = Price(input_per_million=1.0, output_per_million=2.0)
    metrics = compute_metrics([priced(), priced()], **FACTS, price=price)
    assert metrics.llm == UsagePerSession(calls=4, input_tokens=2000, output_tokens=1000)
    assert metrics.simulator_llm == UsagePerSession(calls=2, input_tokens=600, output_tokens=200)
    # per session: (2000 * 1 + 1000 * 2) / 1e6 = 0.004 and (600 + 200 * 2) / 1e6 = 0.001
    assert metrics.cost_per_1000 == pytest.approx(Cost(recommender=4.0, simulator=1.0, total=5.0))
    free_user = compute_metrics([priced()], **FACTS, price=price, simulator_price=Price(0, 0))
    assert free_user.cost_per_1000 == pytest.approx(Cost(recommender=4.0, simulator=0.0, total=4.0))
    assert compute_metrics([priced()], **FACTS).cost_per_1000 is None


def test_errors_are_counted_and_stay_misses() -> None:
    metrics = compute_metrics(
        [session([TARGET], hit_turn=1), session([1], error="LLM timed out")], **FACTS
    )
    assert (metrics.sessions, metrics.errors, metrics.success_rate) == (2, 1, 0.5)


def test_an_empty_group_has_zero_counts_and_undefined_rates() -> None:
    metrics = compute_metrics([], **FACTS, price=Price(1, 1))
    assert (metrics.sessions, metrics.turns, metrics.errors) == (0, 0, 0)
    assert metrics.hit_curve == ()
    undefined = [
        metrics.success_rate,
        metrics.avg_turns,
        metrics.hallucination_rate,
        metrics.repeat_rate,
        metrics.diversity,
        metrics.popularity_bias,
        metrics.latency_p50_ms,
        metrics.latency_p95_ms,
        metrics.llm,
        metrics.simulator_llm,
        metrics.cost_per_1000,
    ]
    assert undefined == [None] * len(undefined)
    assert metrics.coverage == 0.0
    assert summarize([], **FACTS) == []


def test_summarize_per_system_in_order_of_appearance_and_per_bucket() -> None:
    records = [
        session([TARGET], hit_turn=1, system="popularity", bucket=">20"),
        session([1], system="agent", bucket="0"),
        session([TARGET], hit_turn=1, system="agent", bucket="1-5"),
        session([TARGET], hit_turn=1, system="agent", bucket="1-5"),
    ]
    summaries = summarize(records, **FACTS, price=Price(1, 1))
    assert [s.system for s in summaries] == ["popularity", "agent"]
    agent = summaries[1]
    assert tuple(agent.by_bucket) == BUCKETS
    assert agent.overall.success_rate == pytest.approx(2 / 3)
    assert {b: m.sessions for b, m in agent.by_bucket.items()} == {
        "0": 1,
        "1-5": 2,
        "6-20": 0,
        ">20": 0,
    }
    assert agent.by_bucket["1-5"].success_rate == 1.0
    assert agent.by_bucket["6-20"].success_rate is None
    data = json.loads(json.dumps([s.to_dict() for s in summaries]))
    assert data[1]["by_bucket"]["0"]["hit_curve"] == [0.0] * 5
    assert data[1]["overall"]["cost_per_1000"] == {
        "recommender": 0.0,
        "simulator": 0.0,
        "total": 0.0,
    }


def test_summarize_without_buckets_and_rejects_other_groupings() -> None:
    records = [session([1])]
    assert summarize(records, **FACTS, by=("system",))[0].by_bucket == {}
    with pytest.raises(ValueError):
        summarize(records, **FACTS, by=("bucket",))
