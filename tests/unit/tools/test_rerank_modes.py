"""Predictor modes: the verbalizer (one label, ranked by logprobs) and pointwise yes/no.

First through a scripted fake chat model, then through the REAL ChatOpenAI client against the
loopback stub, which returns ``logprobs`` / ``top_logprobs`` as an OpenAI-compatible server does.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from agent.llm import UsageCounter, make_chat_model
from agent.prompts import pointwise_messages, verbalizer_messages
from catalog.domain import Item
from tools.rerank_modes import (
    LABELS,
    PointwiseReranker,
    VerbalizerReranker,
    answer_label,
    yes_probability,
)
from tools.reranker import RerankResult

if TYPE_CHECKING:
    from tests.llm_stub import LLMStub

CANDIDATES = [
    Item(10, "Heat", 1995, ("Action", "Crime")),
    Item(20, "Alien", 1979, ("Horror", "Sci-Fi"), overview="A crew meets a deadly creature."),
    Item(30, "Amelie", 2001, ("Comedy", "Romance")),
    Item(40, "Casablanca", 1942, ("Drama",)),
    Item(50, "Toy Story", 1995, ("Animation",)),
    Item(60, "Inception", 2010, ("Sci-Fi",)),
]
N = len(CANDIDATES)
LOGPROBS = {"logprobs": True, "top_logprobs": 20}
FIRST_LABEL = {**LOGPROBS, "extra_body": {"max_tokens": 4}}  # the verbalizer reads one position


def reply(text: str, top: dict[str, float] | None = None) -> AIMessage:
    """An answer as ChatOpenAI returns it; ``top`` the first token's alternatives, if any."""
    if top is None:
        return AIMessage(text, response_metadata={"logprobs": None})
    first = next(iter(top))
    alternatives = [{"token": t, "logprob": lp, "bytes": []} for t, lp in top.items()]
    entry = {"token": first, "logprob": top[first], "top_logprobs": alternatives}
    return AIMessage(text, response_metadata={"logprobs": {"content": [entry], "refusal": None}})


class ScriptedChat:
    """A chat-model fake: ``answer`` maps the user message to a reply (or an exception to
    raise); records what it was bound with and asked, from any thread."""

    def __init__(self, answer: Callable[[str], AIMessage | Exception]) -> None:
        self.answer = answer
        self.bound: list[dict[str, Any]] = []
        self.asked: list[str] = []
        self._lock = threading.Lock()

    def bind(self, **kwargs: Any) -> ScriptedChat:
        self.bound.append(kwargs)
        return self

    def invoke(self, input: Sequence[BaseMessage]) -> AIMessage:
        user = str(input[-1].content)
        with self._lock:
            self.asked.append(user)
        answer = self.answer(user)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Recording:
    def __init__(self) -> None:
        self.messages: list[BaseMessage] = []

    def record(self, message: BaseMessage) -> None:
        self.messages.append(message)


def always(answer: AIMessage | Exception) -> ScriptedChat:
    return ScriptedChat(lambda _user: answer)


def by_title(answers: dict[str, AIMessage | Exception]) -> ScriptedChat:
    """Answers keyed by the candidate title the (pointwise) prompt shows."""

    def answer(user: str) -> AIMessage | Exception:
        (title,) = [title for title in answers if f"\n{title} (" in user]
        return answers[title]

    return ScriptedChat(answer)


def verbalizer(model: Any, counter: Any = None) -> VerbalizerReranker:
    return VerbalizerReranker(model, prompt=verbalizer_messages, counter=counter)


def pointwise(model: Any, counter: Any = None, **options: Any) -> PointwiseReranker:
    return PointwiseReranker(model, prompt=pointwise_messages, counter=counter, **options)


# --- verbalizer ----------------------------------------------------------------------------------


def test_verbalizer_ranks_by_label_logprobs_in_one_call() -> None:
    sink = Recording()
    model = always(reply("C", {"C": -0.1, "A": -1.0, " E": -2.0, "B": -3.0, "The": -4.0}))
    result = verbalizer(model, sink).rerank("likes quirky comedies", CANDIDATES, N)
    # scored labels by probability, then the labels absent from top_logprobs in ranker order
    assert result == RerankResult(order=(2, 0, 4, 1, 3, 5), raw="C", filled=2, mode="verbalizer")
    assert model.bound == [FIRST_LABEL] and len(model.asked) == 1 and len(sink.messages) == 1
    assert "A. Heat (1995)" in model.asked[0] and "F. Inception (2010)" in model.asked[0]


def test_verbalizer_sums_spellings_of_a_label_and_cuts_to_k() -> None:
    model = always(reply("A", {"A": -0.5, " B": -0.9, "B": -0.9, "(D": -5.0}))
    result = verbalizer(model).rerank("x", CANDIDATES, 2)
    assert result.order == (1, 0) and result.filled == 0  # e^-0.9 twice beats e^-0.5


def test_verbalizer_without_logprobs_puts_the_answered_label_first() -> None:
    result = verbalizer(always(reply(" (D) "))).rerank("x", CANDIDATES, 4)
    assert result.order == (3, 0, 1, 2) and result.filled == 3 and not result.fell_back


@pytest.mark.parametrize(
    ("answer", "top"),
    [
        ("I would pick Heat.", None),
        ("A great pick is Heat.", {"A": -0.1, "B": -2.0}),  # "A" is an article here
        ("b", None),
        ("3", None),
    ],
    ids=["prose", "prose with logprobs", "lower case", "a number"],
)
def test_verbalizer_garbage_keeps_the_ranker_order(
    answer: str, top: dict[str, float] | None
) -> None:
    result = verbalizer(always(reply(answer, top))).rerank("x", CANDIDATES, 3)
    assert result.order == (0, 1, 2) and result.fell_back and result.filled == 3
    assert result.dropped == (f"{answer!r}: not a label",)


@pytest.mark.parametrize("answer", ["B. The Italian Job (2003)", "(B) Heat", "B: because"])
def test_verbalizer_reads_a_label_followed_by_words_as_that_label(answer: str) -> None:
    """A small model names the label, then a title (even a wrong one): the label and the
    first position's logprobs still rank, as LlamaRec reads only that position."""
    result = verbalizer(always(reply(answer, {"B": -0.1, "A": -1.0, "C": -3.0}))).rerank(
        "x", CANDIDATES, 3
    )
    assert result.order == (1, 0, 2) and not result.fell_back and result.dropped == ()


def test_verbalizer_guard_drops_an_out_of_range_label() -> None:
    result = verbalizer(always(reply("H"))).rerank("x", CANDIDATES, 2)
    assert (result.order, result.dropped, result.fell_back) == (
        (0, 1),
        ("'H': out of range",),
        True,
    )


def test_verbalizer_ranks_the_valid_labels_around_an_out_of_range_answer() -> None:
    model = always(reply("H", {"H": -0.1, "B": -1.0, "Z": -1.5, "F": -2.0}))
    result = verbalizer(model).rerank("x", CANDIDATES, 3)
    assert result.order == (1, 5, 0) and result.dropped == ("'H': out of range",)
    assert not result.fell_back


def test_verbalizer_labels_twenty_candidates_and_leaves_the_rest_in_ranker_order() -> None:
    many = [Item(100 + n, f"Film {n}", 2000, ("Drama",)) for n in range(25)]
    model = always(reply("T", {"T": -0.1, "A": -1.0, "U": -1.2}))
    result = verbalizer(model).rerank("x", many, 25)
    assert result.order == (19, 0, *range(1, 19), *range(20, 25))
    assert result.filled == 23 and len(LABELS) == 20
    assert "\nT. Film 19" in model.asked[0] and "Film 20" not in model.asked[0]


def test_verbalizer_failure_falls_back_and_never_raises() -> None:
    sink = Recording()
    result = verbalizer(always(ConnectionError("reset")), sink).rerank("x", CANDIDATES, 3)
    assert result == RerankResult(
        order=(0, 1, 2),
        fell_back=True,
        error="ConnectionError: reset",
        filled=3,
        mode="verbalizer",
    )
    assert sink.messages == []


def test_a_broken_prompt_falls_back_too() -> None:
    def prompt(summary: str, candidates: Sequence[Item], labels: Sequence[str]) -> list[Any]:
        raise KeyError("labels")

    result = VerbalizerReranker(always(reply("A")), prompt=prompt).rerank("x", CANDIDATES, 2)
    assert result.order == (0, 1) and result.fell_back and result.error == "KeyError: 'labels'"


@pytest.mark.parametrize(("candidates", "k"), [([], 3), (CANDIDATES, 0)])
def test_nothing_to_rerank_makes_no_call(candidates: Sequence[Item], k: int) -> None:
    for reranker in (verbalizer, pointwise):
        model = always(AssertionError("must not be called"))
        assert reranker(model).rerank("x", candidates, k).order == ()
        assert model.asked == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("B", 2),
        (" (B) ", 2),
        ("B.", 2),
        ("B:", 2),
        ("Z", 26),
        ("b", None),
        ("BB", None),
        ("3", None),
        ("", None),
        ("B because", None),
    ],
)
def test_answer_label(text: str, number: int | None) -> None:
    assert answer_label(text) == number


# --- pointwise -----------------------------------------------------------------------------------


def yes_no(p_yes: float) -> AIMessage:
    """A yes/no answer whose first token is "Yes" with probability ``p_yes``, else " No"."""
    top = {"Yes": math.log(p_yes), " No": math.log(1 - p_yes)}
    if p_yes >= 0.5:
        return reply("Yes", top)
    return reply("No", dict(reversed(top.items())))  # the chosen token comes first


def test_pointwise_ranks_the_judged_candidates_by_p_yes() -> None:
    sink = Recording()
    model = by_title(
        {
            "Heat": yes_no(0.2),
            "Alien": yes_no(0.9),
            "Amelie": yes_no(0.6),
            "Casablanca": reply("No"),  # no logprobs: 0 from the text
        }
    )
    result = pointwise(model, sink, max_candidates=4).rerank("likes sci-fi", CANDIDATES, N)
    assert result.order == (1, 2, 0, 3, 4, 5)
    assert (result.fell_back, result.filled, result.mode, result.error) == (
        False,
        2,
        "pointwise",
        None,
    )
    assert model.bound == [LOGPROBS] and len(model.asked) == 4 and len(sink.messages) == 4
    assert result.raw is not None and result.raw.splitlines()[0] == "1. No"


def test_pointwise_text_answers_tie_in_ranker_order() -> None:
    answers = {"Heat": "No", "Alien": "Yes.", "Amelie": "no", "Casablanca": "Yes, a classic"}
    model = by_title({title: reply(text) for title, text in answers.items()})
    result = pointwise(model, max_candidates=4, workers=1).rerank("x", CANDIDATES, 3)
    assert result.order == (1, 3, 0)
    assert model.asked == [pointwise_messages("x", item)[1].content for item in CANDIDATES[:4]]


def test_pointwise_failed_and_unusable_calls_leave_those_candidates_unscored() -> None:
    sink = Recording()
    model = by_title(
        {
            "Heat": yes_no(0.1),
            "Alien": TimeoutError("timed out"),
            "Amelie": reply("Maybe, if they like romance"),
            "Casablanca": yes_no(0.7),
        }
    )
    result = pointwise(model, sink, max_candidates=4).rerank("x", CANDIDATES, N)
    # scored (Casablanca, Heat) first, then the rest in ranker order
    assert result.order == (3, 0, 1, 2, 4, 5) and not result.fell_back
    assert result.dropped == ("'Maybe, if they like romance' (candidate 3): not yes or no",)
    assert result.error == "1 of 4 calls failed: TimeoutError: timed out"
    assert len(sink.messages) == 3  # every answer counted, the failed call gave none


def test_pointwise_all_failures_fall_back() -> None:
    result = pointwise(always(ConnectionError("down")), max_candidates=3).rerank("x", CANDIDATES, 4)
    assert result.order == (0, 1, 2, 3) and result.fell_back and result.raw is None
    assert result.error == "3 of 3 calls failed: ConnectionError: down"


def test_pointwise_calls_run_concurrently() -> None:
    together = threading.Barrier(4, timeout=5)  # breaks unless four calls are in flight at once

    def answer(user: str) -> AIMessage:
        together.wait()
        return reply("Yes")

    result = pointwise(ScriptedChat(answer), max_candidates=4, workers=4).rerank("x", CANDIDATES, 2)
    assert result.order == (0, 1) and not result.fell_back and result.error is None


def test_pointwise_needs_a_positive_budget() -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        pointwise(always(reply("Yes")), max_candidates=0)


@pytest.mark.parametrize(
    ("text", "top", "expected"),
    [
        ("Yes", None, 1.0),
        ("no.", None, 0.0),
        ("Maybe", None, None),
        ("", None, None),
        ("Yes", {"Yes": math.log(0.6), " No": math.log(0.2)}, 0.75),
        ("Yes", {"Yes": math.log(0.3), " yes": math.log(0.3), "No": math.log(0.2)}, 0.75),
        ("Maybe", {"Maybe": -0.1, "No": -3.0}, 0.0),  # the logprobs speak
        ("Yes", {"Sure": -0.1}, 1.0),  # no yes/no alternative: the text speaks
    ],
)
def test_yes_probability(text: str, top: dict[str, float] | None, expected: float | None) -> None:
    alternatives = list(top.items()) if top is not None else None
    assert yes_probability(text, alternatives) == pytest.approx(expected)


# --- the real ChatOpenAI client against the loopback stub ---------------------------------------


def stub_model(stub: LLMStub, *, max_retries: int = 0) -> Any:
    return make_chat_model(stub.base_url, "stub-model", None, timeout=5, max_retries=max_retries)


def test_verbalizer_through_the_real_client_asks_for_logprobs(llm_stub: LLMStub) -> None:
    llm_stub.enqueue("C", logprobs=[{"C": -0.2, "A": -1.5, " F": -2.0, "Z": -2.5, "The": -3.0}])
    counter = UsageCounter()
    result = verbalizer(stub_model(llm_stub), counter).rerank("likes sci-fi", CANDIDATES, 4)
    assert result.order == (2, 0, 5, 1) and result.raw == "C" and not result.fell_back
    (request,) = llm_stub.requests
    assert request["logprobs"] is True and request["top_logprobs"] == 20
    assert request["max_tokens"] == 4  # only the first position is read
    assert request["messages"][0]["role"] == "system"
    assert "F. Inception (2010)" in request["messages"][1]["content"]
    assert counter.calls == 1


@pytest.mark.parametrize(
    ("answer", "order", "fell_back"),
    [("D", (3, 0, 1), False), ("K", (0, 1, 2), True), ("Inception", (0, 1, 2), True)],
)
def test_verbalizer_through_the_real_client_is_guarded(
    llm_stub: LLMStub, answer: str, order: tuple[int, ...], fell_back: bool
) -> None:
    llm_stub.enqueue(answer)  # the stub's own logprobs: the answered token only
    result = verbalizer(stub_model(llm_stub)).rerank("x", CANDIDATES, 3)
    assert (result.order, result.fell_back) == (order, fell_back)


def test_verbalizer_http_errors_fall_back(llm_stub: LLMStub) -> None:
    llm_stub.enqueue(status=500)
    counter = UsageCounter()
    result = verbalizer(stub_model(llm_stub), counter).rerank("x", CANDIDATES, 2)
    assert result.order == (0, 1) and result.fell_back
    assert result.error is not None and "500" in result.error and counter.calls == 0


def test_pointwise_through_the_real_client_ranks_by_p_yes(llm_stub: LLMStub) -> None:
    llm_stub.enqueue("No", logprobs=[{"No": -0.1, "Yes": -2.4}], usage=(90, 1))
    llm_stub.enqueue("Yes", logprobs=[{"Yes": -0.05, " No": -3.0}], usage=(90, 1))
    llm_stub.enqueue("Yes", logprobs=[{"Yes": -0.6, "No": -0.8}], usage=(90, 1))
    counter = UsageCounter()
    reranker = pointwise(stub_model(llm_stub), counter, max_candidates=3, workers=1)
    result = reranker.rerank("likes sci-fi", CANDIDATES, N)
    assert result.order == (1, 2, 0, 3, 4, 5) and not result.fell_back
    assert len(llm_stub.requests) == 3
    for request, item in zip(llm_stub.requests, CANDIDATES, strict=False):
        assert request["logprobs"] is True and request["top_logprobs"] == 20
        assert f"\n{item.display_title} |" in request["messages"][1]["content"]
    assert counter.as_dict() == {"calls": 3, "input_tokens": 270, "output_tokens": 3}


def test_pointwise_through_the_real_client_survives_a_failed_call(llm_stub: LLMStub) -> None:
    llm_stub.enqueue("Yes")
    llm_stub.enqueue(status=500)
    llm_stub.enqueue("No")
    result = pointwise(stub_model(llm_stub), max_candidates=3, workers=3).rerank("x", CANDIDATES, N)
    assert sorted(result.order) == list(range(N)) and not result.fell_back
    assert result.error is not None and result.error.startswith("1 of 3 calls failed")
    assert len(llm_stub.requests) == 3
