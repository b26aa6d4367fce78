"""ReDial dialogues as benchmark samples, on a tiny folder the test writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.errors import DataError
from catalog.redial import all_samples, fold_of, load_dialogues


def write_redial(directory: Path, dialogues: list[dict]) -> Path:
    """A ReDial-format folder: dialogues, ReDial's titles and the id map to catalog ids."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dialogues.jsonl").write_text("\n".join(json.dumps(d) for d in dialogues) + "\n")
    (directory / "movies_with_mentions.csv").write_text(
        "movieId,movieName,nbMentions\n"
        "100,Toy Story  (1995),5\n101,Inception (2010),3\n102,Heat (1995),1\n"
        "103,Some Unknown Film (2001),1\n"
    )
    (directory / "redial_to_ml_latest_small.csv").write_text(
        "redialId,redialTitle,movieId,title\n"
        "100,Toy Story (1995),1,Toy Story (1995)\n101,Inception (2010),8,Inception (2010)\n"
        "102,Heat (1995),3,Heat (1995)\n"
    )
    return directory


def dialogue(cid: str, messages: list[tuple[int, str]], questions: dict | None = None) -> dict:
    return {
        "conversationId": cid,
        "initiatorWorkerId": 1,
        "respondentWorkerId": 2,
        "messages": [
            {"messageId": n, "text": text, "senderWorkerId": who, "timeOffset": n}
            for n, (who, text) in enumerate(messages)
        ],
        "movieMentions": {"100": "Toy Story", "101": "Inception", "103": "Unknown"},
        "initiatorQuestions": questions or {},
        "respondentQuestions": {},
    }


CONVERSATION = dialogue(
    "c1",
    [
        (1, "Hi"),
        (1, "I loved @100 and @103"),
        (2, "Have you seen @101 ?"),
        (2, "or @100 again"),
        (1, "Yes, @101 was great"),
        (2, "Then @102 and @101"),
    ],
    {"100": {"suggested": 0, "seen": 1, "liked": 1}, "102": {"suggested": 1, "liked": 0}},
)


def test_turns_merge_senders_and_write_titles(tmp_path: Path) -> None:
    data = load_dialogues(write_redial(tmp_path, [CONVERSATION]))
    turns = data.dialogues[0].turns
    assert [t.role for t in turns] == ["user", "assistant", "user", "assistant"]
    assert turns[0].text == "Hi I loved Toy Story (1995) and Some Unknown Film (2001)"
    assert turns[0].mentions == (1,)  # the unmapped film stays text, not a mention
    assert turns[1].mentions == (8, 1)
    assert data.unmapped_mentions == 1
    assert data.dialogues[0].seeker_liked == {1}
    assert data.dialogues[0].seeker_disliked == {3}


def test_samples_are_recommender_turns_naming_new_movies(tmp_path: Path) -> None:
    samples = all_samples(load_dialogues(write_redial(tmp_path, [CONVERSATION])).dialogues)
    # turn 1 names Inception (new) and Toy Story (already named); turn 3 names Heat (new)
    assert [(s.position, s.targets) for s in samples] == [(1, (8,)), (3, (3,))]
    assert samples[1].mentioned == (1, 8)
    assert samples[1].seeker_mentioned == (1, 8)
    assert [t.role for t in samples[1].context] == ["user", "assistant", "user"]


def test_catalog_ids_limit_the_map(tmp_path: Path) -> None:
    data = load_dialogues(write_redial(tmp_path, [CONVERSATION]), catalog_ids=[1, 3])
    samples = all_samples(data.dialogues)
    assert [s.targets for s in samples] == [(3,)]  # Inception is not in this catalog


def test_missing_or_broken_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"dialogues\.jsonl"):
        load_dialogues(tmp_path)
    folder = write_redial(tmp_path / "bad", [CONVERSATION])
    (folder / "dialogues.jsonl").write_text('{"conversationId": 1}\n')
    with pytest.raises(DataError, match="line 1"):
        load_dialogues(folder)


def test_folds_are_stable_and_spread() -> None:
    folds = [fold_of(str(n), 5) for n in range(500)]
    assert folds == [fold_of(str(n), 5) for n in range(500)]
    assert all(60 <= folds.count(f) <= 140 for f in range(5))
