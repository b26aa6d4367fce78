"""The planner on llama.cpp's grammar-constrained JSON (``json_object_schema``, RECBOT_LLM=local):
the schema travels inside a ``json_object`` response format, every list and text is bounded so
a small model's answer always ends, and the answer is validated as a Plan like any other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from agent.llm import UsageCounter, make_chat_model
from agent.planner.base import PlannerContext
from agent.planner.llm import MAX_LIST_ITEMS, LLMPlanner, PlannerError, bounded_schema

if TYPE_CHECKING:
    from tests.llm_stub import LLMStub

GENRES = ("Action", "Animation", "Horror")


def planner(stub: LLMStub, counter: UsageCounter | None = None) -> LLMPlanner:
    model = make_chat_model(stub.base_url, "stub-model", None, timeout=5, max_retries=0)
    return LLMPlanner(model, GENRES, method="json_object_schema", counter=counter, style="compact")


def test_the_schema_rides_in_a_json_object_response_format(llm_stub: LLMStub) -> None:
    counter = UsageCounter()
    llm_stub.enqueue_json(
        {"action": "recommend", "liked_titles": ["Heat"], "include_genres": ["action"]}
    )
    plan = planner(llm_stub, counter).plan("like Heat", PlannerContext())
    assert plan.liked_titles == ["Heat"] and plan.include_genres == ["Action"]
    response_format = llm_stub.requests[0]["response_format"]
    assert response_format["type"] == "json_object"
    assert response_format["schema"]["properties"]["liked_titles"]["maxItems"] == MAX_LIST_ITEMS
    assert "from: Action, Animation, Horror" in llm_stub.requests[0]["messages"][0]["content"]
    assert counter.snapshot().calls == 1


def test_an_answer_that_is_no_plan_is_a_planner_error(llm_stub: LLMStub) -> None:
    llm_stub.enqueue("not json at all")
    with pytest.raises(PlannerError, match="unusable"):
        planner(llm_stub).plan("like Heat", PlannerContext())


def test_every_list_and_text_of_the_schema_is_bounded() -> None:
    def walk(node: Any) -> list[dict[str, Any]]:
        found = [node] if isinstance(node, dict) else []
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
        )
        return found + [n for child in children for n in walk(child)]

    nodes = walk(bounded_schema())
    assert all("maxItems" in n for n in nodes if n.get("type") == "array")
    assert all("maxLength" in n for n in nodes if n.get("type") == "string" and "enum" not in n)


def test_max_tokens_is_sent_as_llama_cpp_reads_it(llm_stub: LLMStub) -> None:
    model = make_chat_model(llm_stub.base_url, "stub-model", None, timeout=5, max_tokens=7)
    llm_stub.enqueue("ok")
    model.invoke("hi")
    assert llm_stub.requests[0]["max_tokens"] == 7
    assert "max_completion_tokens" not in llm_stub.requests[0]
