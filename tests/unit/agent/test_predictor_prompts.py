"""The verbalizer and pointwise prompts, rendered against golden files like every prompt.

Kept next to ``test_prompts.py`` (same candidates, same ``check_golden``); regenerate with

    UPDATE_GOLDEN=1 pytest tests/unit/agent/test_predictor_prompts.py
"""

from __future__ import annotations

from agent.prompts import (
    pointwise_messages,
    pointwise_prompt,
    verbalizer_messages,
    verbalizer_prompt,
)
from tests.unit.agent.test_prompts import CANDIDATES, check_golden
from tools.rerank_modes import LABELS

SUMMARY = "Likes Heat (1995). Wants: Crime, Thriller. Avoid: Horror. Mood: tense."


def test_verbalizer_prompt() -> None:
    prompt = verbalizer_prompt(SUMMARY, CANDIDATES, LABELS[: len(CANDIDATES)])
    check_golden("rerank_verbalizer.txt", prompt.render())


def test_pointwise_prompt() -> None:
    check_golden("rerank_pointwise.txt", pointwise_prompt(SUMMARY, CANDIDATES[1]).render())


def test_verbalizer_labels_every_candidate_and_names_the_letters() -> None:
    user = verbalizer_prompt("", CANDIDATES[:2], ("A", "B")).user
    assert "\nA. Heat (1995) |" in user and "\nB. The Matrix (1999) |" in user
    assert user.endswith("Answer ONLY with one letter from A to B: the best candidate.")
    assert "(nothing specific)" in user


def test_pointwise_prompts_differ_only_after_the_shared_prefix() -> None:
    first, second = (pointwise_prompt(SUMMARY, item).user for item in CANDIDATES[:2])
    prefix = first.split("Candidate:\n")[0]
    assert second.startswith(prefix + "Candidate:\n") and first != second


def test_predictor_messages_are_system_then_human() -> None:
    for messages, prompt in (
        (verbalizer_messages("x", CANDIDATES, LABELS), verbalizer_prompt("x", CANDIDATES, LABELS)),
        (pointwise_messages("x", CANDIDATES[0]), pointwise_prompt("x", CANDIDATES[0])),
    ):
        assert [message.type for message in messages] == ["system", "human"]
        assert messages[1].content == prompt.user
