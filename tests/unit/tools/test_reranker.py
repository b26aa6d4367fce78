"""The LLM reranker: guarded through fakes and through the real ChatOpenAI client on the stub."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage

from agent.llm import UsageCounter, make_chat_model
from agent.prompts import rerank_messages
from catalog.domain import Item
from tools.reranker import LLMReranker, RerankResult

if TYPE_CHECKING:
    from tests.llm_stub import LLMStub

# the llm_stub fixture; imported by pytest (not by us) so its asserts are rewritten

CANDIDATES = [
    Item(10, "Heat", 1995, ("Action", "Crime")),
    Item(20, "Alien", 1979, ("Horror", "Sci-Fi"), overview="A crew meets a deadly creature."),
    Item(30, "Amelie", 2001, ("Comedy", "Romance")),
    Item(40, "Casablanca", 1942, ("Drama",)),
    Item(50, "Toy Story", 1995, ("Animation",)),
    Item(60, "Inception", 2010, ("Sci-Fi",)),
]
N = len(CANDIDATES)


class Recording:
    """A sink that keeps what the reranker recorded."""

    def __init__(self) -> None:
        self.messages: list[BaseMessage] = []

    def record(self, message: BaseMessage) -> None:
        self.messages.append(message)


class Failing:
    """A chat model whose every call raises, like a dropped connection."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls: list[Any] = []

    def invoke(self, input: Any) -> Any:
        self.calls.append(input)
        raise self.error


def reranker(model: Any, counter: Any = None) -> LLMReranker:
    return LLMReranker(model, prompt=rerank_messages, counter=counter)


def assert_valid(result: RerankResult, k: int, n: int = N) -> None:
    assert len(result.order) == min(k, n)
    assert len(set(result.order)) == len(result.order)
    assert all(0 <= position < n for position in result.order)


def test_reorders_candidates_as_the_llm_says() -> None:
    sink = Recording()
    model = GenericFakeChatModel(messages=iter([AIMessage("[3, 1, 6]")]))
    result = reranker(model, sink).rerank("likes quirky comedies", CANDIDATES, 3)
    assert result == RerankResult(order=(2, 0, 5), raw="[3, 1, 6]")
    assert [item.id for item in result.items(CANDIDATES)] == [30, 10, 60]
    assert len(sink.messages) == 1


def test_fills_short_answers_in_ranker_order() -> None:
    model = FakeListChatModel(responses=["[4]"])
    result = reranker(model).rerank("x", CANDIDATES, 3)
    assert result.order == (3, 0, 1)
    assert result.filled == 2 and not result.fell_back


# (case id, LLM answer, k, order, dropped, fell_back)
ANSWERS = [
    (
        "invented titles",
        '["The Godfather", 2, "Heat (1995)"]',
        2,
        (1, 0),
        ("'The Godfather': not an index", "'Heat (1995)': not an index"),
        False,
    ),
    (
        "out of range",
        "[0, 7, 99, 5]",
        2,
        (4, 0),
        ("0: out of range", "7: out of range", "99: out of range"),
        False,
    ),
    (
        "prose around a list",
        "Great question! I'd go with [6, 2] because both are sci-fi.",
        2,
        (5, 1),
        (),
        False,
    ),
    (
        "prose only",
        "I recommend Inception and Alien.",
        2,
        (0, 1),
        ("'I recommend Inception and Alien.': no list of candidate numbers",),
        True,
    ),
    (
        "item ids instead of numbers",
        "[60, 20, 10]",
        3,
        (0, 1, 2),
        ("60: out of range", "20: out of range", "10: out of range"),
        True,
    ),
]


@pytest.mark.parametrize(
    ("answer", "k", "order", "dropped", "fell_back"),
    [case[1:] for case in ANSWERS],
    ids=[case[0] for case in ANSWERS],
)
def test_the_guard_keeps_only_candidates(
    answer: str, k: int, order: tuple, dropped: tuple, fell_back: bool
) -> None:
    result = reranker(FakeListChatModel(responses=[answer])).rerank("x", CANDIDATES, k)
    assert (result.order, result.dropped, result.fell_back) == (order, dropped, fell_back)
    assert result.raw == answer and result.error is None
    assert_valid(result, k)


def test_a_failing_model_falls_back_and_never_raises() -> None:
    model = Failing(ConnectionError("connection reset"))
    result = reranker(model).rerank("x", CANDIDATES, 4)
    assert result.order == (0, 1, 2, 3)
    assert result.fell_back and result.raw is None
    assert result.error == "ConnectionError: connection reset"
    assert len(model.calls) == 1


def test_a_failing_counter_does_not_change_the_answer() -> None:
    class Broken:
        def record(self, message: BaseMessage) -> None:
            raise RuntimeError("disk full")

    result = reranker(FakeListChatModel(responses=["[2]"]), Broken()).rerank("x", CANDIDATES, 1)
    assert result.order == (1,)


@pytest.mark.parametrize(("candidates", "k"), [([], 3), (CANDIDATES, 0)])
def test_nothing_to_rerank_makes_no_call(candidates: Sequence[Item], k: int) -> None:
    model = Failing(AssertionError("must not be called"))
    assert reranker(model).rerank("x", candidates, k) == RerankResult(order=())
    assert model.calls == []


def test_the_prompt_numbers_the_candidates_given() -> None:
    seen: list[tuple[str, int, int]] = []

    def prompt(summary: str, candidates: Sequence[Item], k: int) -> list[BaseMessage]:
        seen.append((summary, len(candidates), k))
        return rerank_messages(summary, candidates, k)

    LLMReranker(FakeListChatModel(responses=["[1]"]), prompt=prompt).rerank(
        "cozy", CANDIDATES[:4], 2
    )
    assert seen == [("cozy", 4, 2)]


# --- the real ChatOpenAI client against the loopback stub ---------------------------------------


def stub_model(stub: LLMStub, *, timeout: float = 5, max_retries: int = 0) -> Any:
    return make_chat_model(
        stub.base_url, "stub-model", None, timeout=timeout, max_retries=max_retries
    )


@pytest.mark.parametrize(
    ("answer", "k"),
    [(case[1], case[2]) for case in ANSWERS]
    + [("```json\n[5, 5, 1]\n```", 4), ('{"ranking": [3, "x"]}', 6)],
    ids=[case[0] for case in ANSWERS] + ["fenced with duplicate", "object, k = n"],
)
def test_only_candidate_items_come_back_through_the_real_client(
    llm_stub: LLMStub, answer: str, k: int
) -> None:
    llm_stub.enqueue(answer, usage=(120, 7))
    counter = UsageCounter()
    result = reranker(stub_model(llm_stub), counter).rerank("likes sci-fi", CANDIDATES, k)
    assert_valid(result, k)
    assert {CANDIDATES[p].id for p in result.order} <= {item.id for item in CANDIDATES}
    assert result.raw == answer and result.error is None
    assert counter.as_dict() == {"calls": 1, "input_tokens": 120, "output_tokens": 7}
    (request,) = llm_stub.requests
    assert request["messages"][0]["role"] == "system"
    assert "6. Inception (2010)" in request["messages"][1]["content"]
    assert request["temperature"] == 0.2 and request["seed"] == 0


def test_a_timeout_falls_back_to_ranker_order(llm_stub: LLMStub) -> None:
    llm_stub.enqueue("[2, 1]", delay=5)  # an answer that would reorder, had it come in time
    counter = UsageCounter()
    result = reranker(stub_model(llm_stub, timeout=0.3), counter).rerank("x", CANDIDATES, 3)
    assert result.order == (0, 1, 2) and result.fell_back
    assert result.raw is None  # the client gave up before the answer: nothing came back
    assert result.error is not None and "timed out" in result.error.lower()
    assert len(llm_stub.requests) == 1 and counter.calls == 0


def test_an_http_500_falls_back_to_ranker_order(llm_stub: LLMStub) -> None:
    llm_stub.enqueue(status=500)
    llm_stub.enqueue(status=500)
    result = reranker(stub_model(llm_stub, max_retries=1)).rerank("x", CANDIDATES, 2)
    assert result.order == (0, 1) and result.fell_back
    assert result.error is not None and "500" in result.error
    assert len(llm_stub.requests) == 2  # one retry, then give up


def test_a_retry_after_a_500_can_still_rerank(llm_stub: LLMStub) -> None:
    llm_stub.enqueue(status=500)
    llm_stub.enqueue("[6]")
    result = reranker(stub_model(llm_stub, max_retries=1)).rerank("x", CANDIDATES, 1)
    assert result.order == (5,) and not result.fell_back
