"""The LLM planner, the chat-model factory and the usage counter, against the loopback stub.

Everything here drives the REAL ChatOpenAI client over HTTP (DESIGN §6): structured output by
each method, timeouts, HTTP errors, refusals, streaming with usage.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk

from agent.llm import UsageCounter, make_chat_model
from agent.plan import Plan, ShownFeedback
from agent.planner.base import PlannerContext, ShownItem
from agent.planner.llm import LLMPlanner, PlannerError
from catalog.errors import ConfigurationError, RecbotError

if TYPE_CHECKING:
    from tests.llm_stub import LLMStub

# the llm_stub fixture; imported by pytest (not by us) so its asserts are rewritten

GENRES = ("Action", "Comedy", "Crime", "Horror", "Sci-Fi", "Thriller")
EMPTY = PlannerContext(shown=(), has_preferences=False, clarifications=0, last_action=None)
AFTER_LIST = PlannerContext(
    shown=(ShownItem(1, 3, "Heat (1995)"), ShownItem(2, 4, "Matrix, The (1999)")),
    has_preferences=True,
    clarifications=0,
    last_action="recommend",
    focus_position=2,
)
METHODS = ["json_schema", "function_calling", "json_mode"]


def model(stub: LLMStub, *, timeout: float = 5, max_retries: int = 0) -> Any:
    return make_chat_model(
        stub.base_url, "stub-model", "sk-test", timeout=timeout, max_retries=max_retries
    )


def planner(
    stub: LLMStub, method: Any = "json_schema", **options: Any
) -> tuple[LLMPlanner, UsageCounter]:
    counter = UsageCounter()
    return LLMPlanner(model(stub, **options), GENRES, method=method, counter=counter), counter


# --- structured output by each method ------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_plans_with_every_structured_method(llm_stub: LLMStub, method: str) -> None:
    llm_stub.enqueue_json(
        {
            "action": "recommend",
            "liked_titles": ["Heat"],
            "exclude_genres": ["Horror"],
            "moods": ["tense"],
        },
        usage=(300, 40),
    )
    plan_, counter = planner(llm_stub, method)
    plan = plan_.plan("Something like Heat, no horror", EMPTY)
    assert plan == Plan(
        action="recommend", liked_titles=["Heat"], exclude_genres=["Horror"], moods=["tense"]
    )
    assert counter.as_dict() == {"calls": 1, "input_tokens": 300, "output_tokens": 40}


def test_json_schema_sends_the_plan_schema(llm_stub: LLMStub) -> None:
    llm_stub.enqueue_json({"action": "smalltalk"})
    planner(llm_stub)[0].plan("hi", EMPTY)
    (request,) = llm_stub.requests
    response_format = request["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Plan"
    assert "liked_titles" in response_format["json_schema"]["schema"]["properties"]


def test_function_calling_forces_the_plan_tool(llm_stub: LLMStub) -> None:
    llm_stub.enqueue(tool_call={"name": "Plan", "arguments": {"action": "clarify"}})
    assert planner(llm_stub, "function_calling")[0].plan("hmm", EMPTY).action == "clarify"
    (request,) = llm_stub.requests
    assert request["tool_choice"]["function"]["name"] == "Plan"
    assert [tool["function"]["name"] for tool in request["tools"]] == ["Plan"]


def test_json_mode_asks_for_json_in_the_prompt(llm_stub: LLMStub) -> None:
    """OpenAI rejects response_format json_object unless the messages mention JSON."""
    llm_stub.enqueue_json({"action": "smalltalk"})
    planner(llm_stub, "json_mode")[0].plan("hi", EMPTY)
    (request,) = llm_stub.requests
    assert request["response_format"] == {"type": "json_object"}
    assert "json" in json.dumps(request["messages"]).lower()


def test_the_prompt_carries_the_context_and_the_genres(llm_stub: LLMStub) -> None:
    llm_stub.enqueue_json({"action": "refine"})
    planner(llm_stub)[0].plan("not the second one", AFTER_LIST)
    system, user = (message["content"] for message in llm_stub.requests[0]["messages"])
    assert "Action, Comedy, Crime, Horror, Sci-Fi, Thriller" in system
    assert "  2. Matrix, The (1999)" in user and "- Last action: recommend" in user
    assert '- Movie talked about last ("it", "that one"): 2' in user
    assert user.endswith("<message>\nnot the second one\n</message>")


# --- what the LLM wrote is cleaned, not trusted --------------------------------------------------


def test_genres_map_to_catalog_names_and_unknown_ones_are_dropped(llm_stub: LLMStub) -> None:
    llm_stub.enqueue_json(
        {
            "action": "recommend",
            "include_genres": ["sci-fi", " COMEDY ", "Space Opera", "Comedy"],
            "exclude_genres": ["horror", "Splatter"],
            "drop": ["genre:thriller", "genre:Noir", "mood:sad", "mood:sad"],
        }
    )
    plan = planner(llm_stub)[0].plan("x", EMPTY)
    assert plan.include_genres == ["Sci-Fi", "Comedy"]
    assert plan.exclude_genres == ["Horror"]
    assert plan.drop == ["genre:Thriller", "mood:sad"]


def test_years_ruled_out_are_put_in_order_and_absurd_spans_dropped(llm_stub: LLMStub) -> None:
    llm_stub.enqueue_json(
        {
            "action": "recommend",
            "exclude_years": [
                {"first": 1999, "last": 1990},  # written backwards
                {"first": 1990, "last": 1999},  # the same again
                {"first": 0, "last": 3000},  # would rule out the whole catalog
            ],
        }
    )
    plan = planner(llm_stub)[0].plan("x", EMPTY)
    assert [(span.first, span.last) for span in plan.exclude_years] == [(1990, 1999)]


def test_titles_stay_as_written_and_positions_must_have_been_shown(llm_stub: LLMStub) -> None:
    llm_stub.enqueue_json(
        {
            "action": "refine",
            "liked_titles": [" the matrx ", "", "Totally Invented Movie"],
            "feedback": [
                {"kind": "rejected", "position": 2},
                {"kind": "seen", "position": 7},
                {"kind": "seen", "position": 9, "title": "Heat"},
            ],
            "more_like_position": 5,
            "question_position": 1,
        }
    )
    plan = planner(llm_stub)[0].plan("x", AFTER_LIST)
    assert plan.liked_titles == ["the matrx", "Totally Invented Movie"]
    assert plan.feedback == [
        ShownFeedback(kind="rejected", position=2),
        ShownFeedback(kind="seen", title="Heat"),
    ]
    assert plan.more_like_position is None
    assert plan.question_position == 1


# --- failures become PlannerError ----------------------------------------------------------------


def test_a_timeout_raises_planner_error(llm_stub: LLMStub) -> None:
    llm_stub.enqueue_json({"action": "recommend"}, delay=5)  # a good plan, had it come in time
    plan_, counter = planner(llm_stub, timeout=0.3)
    with pytest.raises(PlannerError, match="timed out"):
        plan_.plan("x", EMPTY)
    assert len(llm_stub.requests) == 1 and counter.calls == 0


@pytest.mark.parametrize("method", METHODS)
def test_an_http_500_raises_planner_error(llm_stub: LLMStub, method: str) -> None:
    llm_stub.enqueue(status=500)
    with pytest.raises(PlannerError, match="500"):
        planner(llm_stub, method)[0].plan("x", EMPTY)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "content",
    [
        '{"action": "dance"}',
        "not json at all",
        '{"liked_titles": ["Heat"]}',
        '{"action": "recommend", "year_min": "soon"}',
    ],
    ids=["unknown action", "not json", "missing action", "bad year"],
)
def test_output_that_does_not_validate_raises_planner_error(
    llm_stub: LLMStub, method: str, content: str
) -> None:
    llm_stub.enqueue(content)
    plan_, counter = planner(llm_stub, method)
    with pytest.raises(PlannerError, match=r"unusable|failed"):
        plan_.plan("x", EMPTY)
    # json_schema answers are validated inside the openai client, which then returns no message
    assert counter.calls == (0 if method == "json_schema" else 1)


def test_a_refusal_raises_planner_error(llm_stub: LLMStub) -> None:
    llm_stub.enqueue(refusal="I can't help with that.")
    with pytest.raises(PlannerError, match="can't help"):
        planner(llm_stub)[0].plan("x", EMPTY)


def test_planner_error_is_a_recbot_error_so_the_agent_falls_back() -> None:
    assert issubclass(PlannerError, RecbotError)


# --- the factory and the counter -----------------------------------------------------------------


def test_the_factory_pins_reproducible_settings() -> None:
    chat = make_chat_model("http://127.0.0.1:9/v1", "m", None)
    assert (chat.temperature, chat.seed, chat.request_timeout, chat.max_retries) == (0.2, 0, 20, 1)
    assert chat.stream_usage is True
    assert chat.openai_api_base == "http://127.0.0.1:9/v1"
    assert make_chat_model("", "m", "sk").openai_api_base is None  # "" means OpenAI itself


@pytest.mark.parametrize(
    "options", [{"temperature": 0.31}, {"temperature": -0.1}, {"timeout": 0}, {"max_retries": -1}]
)
def test_the_factory_refuses_bad_settings(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        make_chat_model(None, "m", None, **options)


def test_a_plain_call_is_counted(llm_stub: LLMStub) -> None:
    llm_stub.enqueue("Hello!", usage=(11, 2))
    counter = UsageCounter()
    reply = model(llm_stub).invoke("hi")
    counter.record(reply)
    assert reply.content == "Hello!"
    assert counter.as_dict() == {"calls": 1, "input_tokens": 11, "output_tokens": 2}
    assert llm_stub.requests[0]["model"] == "stub-model"


def test_streaming_carries_usage(llm_stub: LLMStub) -> None:
    llm_stub.enqueue("one two three", usage=(9, 3))
    chunks = list(model(llm_stub).stream("hi"))
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert isinstance(full, AIMessageChunk)
    assert full.content == "one two three"
    counter = UsageCounter()
    counter.record(full)
    assert counter.as_dict() == {"calls": 1, "input_tokens": 9, "output_tokens": 3}
    assert llm_stub.requests[0]["stream_options"] == {"include_usage": True}


def test_streamed_structured_output(llm_stub: LLMStub) -> None:
    llm_stub.enqueue_json({"action": "recommend", "vibe": "rainy sunday"})
    structured = model(llm_stub).with_structured_output(Plan, method="function_calling")
    assert list(structured.stream("x"))[-1] == Plan(action="recommend", vibe="rainy sunday")
    assert llm_stub.requests[0]["stream"] is True


def test_a_message_without_usage_still_counts_as_a_call() -> None:
    counter = UsageCounter()
    counter.record(AIMessage("x"))
    assert counter.as_dict() == {"calls": 1, "input_tokens": 0, "output_tokens": 0}


def test_the_counter_is_thread_safe() -> None:
    counter = UsageCounter()
    message = AIMessage(
        "x", usage_metadata={"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}
    )

    def work() -> None:
        for _ in range(500):
            counter.record(message)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.as_dict() == {"calls": 4000, "input_tokens": 12000, "output_tokens": 4000}


# --- the stub itself -----------------------------------------------------------------------------


def test_the_stub_returns_logprobs_when_asked(llm_stub: LLMStub) -> None:
    llm_stub.enqueue("[2", logprobs=[{"[": -0.01}, {"2": -0.2, "1": -1.9, "3": -3.0}])
    reply = model(llm_stub).bind(logprobs=True, top_logprobs=2).invoke("x")
    tokens = reply.response_metadata["logprobs"]["content"]
    assert [token["token"] for token in tokens] == ["[", "2"]
    assert [alt["token"] for alt in tokens[1]["top_logprobs"]] == ["2", "1"]
    assert llm_stub.requests[0]["top_logprobs"] == 2


def test_the_stub_answers_500_when_the_script_is_empty(llm_stub: LLMStub) -> None:
    with pytest.raises(Exception, match="no scripted response"):
        model(llm_stub).invoke("x")
    assert json.loads(json.dumps(llm_stub.requests))[0]["messages"][0]["content"] == "x"
