"""Each LLM role on its own against the real server: planner, the three rerank modes, rephrasing.

Over the small generated catalog (tests/agent_fixtures.py); the chat model is the one the
composition root builds from settings.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.context import Deps
from agent.llm import UsageCounter
from agent.planner.base import PlannerContext
from agent.planner.llm import LLMPlanner, PlannerError
from agent.prompts import verbalizer_messages
from agent.rephrase import rephrase_reasons
from agent.settings import Settings
from agent.wiring import chat_model, llm_reranker
from tools.rerank_modes import LABELS, TOP_LOGPROBS, first_token_logprobs

MESSAGES = [
    "I loved Toy Story, something like it please",
    "a scary movie, but nothing too gory, from the 2010s",
    "no romance, I want action and sci-fi",
    "hi there!",
]
SUMMARY = "Likes Toy Story and Finding Nemo; wants something funny for the family; no horror."


@pytest.fixture
def model(llm_settings: Settings) -> Any:
    return chat_model(llm_settings, cache=False)


def test_the_planner_answers_every_message_with_a_valid_plan(
    model: Any, llm_settings: Settings, agent_deps: Deps
) -> None:
    counter = UsageCounter()
    genres = agent_deps.tools.catalog.genres
    method = llm_settings.llm_structured_method
    style = llm_settings.llm_planner_prompt
    planner = LLMPlanner(model, genres, method=method, counter=counter, style=style)
    answered = 0
    for message in MESSAGES:
        try:
            plan = planner.plan(message, PlannerContext())
        except PlannerError as error:  # grammar-constrained: only ever too slow, never unusable
            assert "Timeout" in str(error), error
            continue
        answered += 1
        assert set(plan.include_genres) | set(plan.exclude_genres) <= set(genres)
    usage = counter.snapshot()
    assert answered >= 1 and usage.calls == answered
    assert usage.input_tokens > 100 * answered and usage.output_tokens > 0


@pytest.mark.parametrize("mode", ["listwise", "verbalizer", "pointwise"])
def test_each_rerank_mode_keeps_to_the_candidates(
    mode: str, model: Any, llm_settings: Settings, agent_deps: Deps
) -> None:
    settings = llm_settings.model_copy(update={"llm_rerank_mode": mode, "llm_pointwise_max": 4})
    counter = UsageCounter()
    reranker = llm_reranker(settings, model, counter)
    candidates = list(agent_deps.tools.catalog)[:8]
    result = reranker.rerank(SUMMARY, candidates, 5)
    assert result.mode == mode
    assert len(result.order) == 5 and len(set(result.order)) == 5
    assert set(result.order) <= set(range(len(candidates)))
    if result.fell_back:  # a small model may answer garbage: then it is recorded, not used
        assert result.error or result.dropped or result.raw is not None
    usage = counter.snapshot()  # answered calls, counted from the server's usage
    assert usage.calls <= (4 if mode == "pointwise" else 1)
    assert usage.input_tokens > 0 if usage.calls else result.fell_back and result.error


def test_the_verbalizer_reads_the_servers_real_logprobs(model: Any, agent_deps: Deps) -> None:
    candidates = list(agent_deps.tools.catalog)[:6]
    bound = model.bind(logprobs=True, top_logprobs=TOP_LOGPROBS)
    reply = bound.invoke(verbalizer_messages(SUMMARY, candidates, LABELS[:6]))
    alternatives = first_token_logprobs(reply)
    assert alternatives, "the server sent no logprobs"
    assert all(logprob <= 0.0 for _, logprob in alternatives)
    assert len(alternatives) > 1  # top_logprobs: more than the chosen token


def test_rephrasing_rewords_or_keeps_the_grounded_reasons(model: Any) -> None:
    counter = UsageCounter()
    items = [
        ("Finding Nemo (2003)", "Animation and Comedy, like Toy Story"),
        ("Inside Out (2015)", "Animation, Comedy and Drama; tagged feel-good"),
    ]
    worded = rephrase_reasons(model, SUMMARY, items, counter)
    # any model: a list of exactly two short sentences naming no other dated title, or None
    assert worded is None or (len(worded) == 2 and all(0 < len(w) <= 240 for w in worded))
    assert counter.snapshot().calls == 1
