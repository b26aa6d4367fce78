"""The dialogue benchmark's bookkeeping and its floors, on samples the test writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.redial import DialogueSample, Turn, fold_of
from jobs.dialogue_systems import dialogue_follows_system, dialogue_popularity_system
from jobs.dialogues import SystemResult, fold_models, report, run_systems


def sample(dialogue: str, mentioned: tuple[int, ...], targets: tuple[int, ...]) -> DialogueSample:
    context = (Turn("user", "I liked these", mentioned),)
    return DialogueSample(dialogue, 1, context, targets)


def test_ranks_drop_mentioned_items_and_count_pairs() -> None:
    result = SystemResult("x")
    s = sample("d1", (5,), (7, 9))
    result.add(s, [5, 7, 1, 2, 3, 4, 6, 8, 10, 11, 9], 3.0)  # 5 was mentioned: 7 is first
    result.add(sample("d2", (), (1,)), [], 1.0)
    m = result.metrics()
    assert result.ranks == [1, 10, 0]
    assert m["recall@1"] == pytest.approx(1 / 3)
    assert m["recall@10"] == pytest.approx(2 / 3)
    assert m["success"] == pytest.approx(0.5)
    assert m["empty"] == pytest.approx(0.5)
    assert m["ndcg@10"] == pytest.approx((1.0 + 1 / 3.4594316186372973) / 3)
    named = result.by_named()  # d1's seeker named one movie, d2's none
    assert named["1"] == {"pairs": 2.0, "recall@10": 1.0, "recall@50": 1.0}
    assert named["0"]["recall@50"] == 0.0 and named["2+"]["pairs"] == 0.0


def test_dialogue_floors_learn_only_from_other_folds(tmp_path: Path) -> None:
    # two conversations that recommend 42 after 5; each is judged by the other's counts
    samples = [sample(str(n), (5,), (42,)) for n in range(40)]
    systems = {"dp": dialogue_popularity_system(), "df": dialogue_follows_system()}
    results = run_systems(samples, systems, progress=False)
    assert all(r.metrics()["recall@1"] == 1.0 for r in results)
    lonely = [sample("only-one", (5,), (43,))]  # nothing else recommends 43: cannot be found
    results = run_systems(lonely, systems, progress=False)
    assert all(r.metrics()["recall@50"] == 0.0 for r in results)
    models = fold_models(samples + lonely)
    assert 43 not in models[fold_of("only-one", 5)].recommended
    assert sum(43 in m.recommended for m in models) == 4
    payload = report(results, lonely, tmp_path, {"folds": 5})
    assert payload["protocol"]["pairs"] == 1
    assert "| dp |" in (tmp_path / "dialogues.md").read_text()
