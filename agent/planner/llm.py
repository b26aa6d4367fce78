"""The LLM planner: one structured-output call turns a message into a :class:`~agent.plan.Plan`.

It uses ``chat_model.with_structured_output(Plan, method=..., include_raw=True)``; the method is a
setting because OpenAI-compatible servers differ in what they support (DESIGN §6). Anything
that goes wrong — timeout, HTTP error, refusal, output that does not validate — raises
:class:`PlannerError`, and the understand node falls back to the offline planner.

What the LLM wrote is cleaned, not trusted: genre names are mapped case-insensitively onto the
catalog's genres and unknown ones dropped, positions that were never shown are dropped, and
titles stay strings for the agent to resolve through the catalog.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableLambda

from agent.plan import Plan, ShownFeedback, YearSpan
from agent.prompts import PlannerStyle, planner_prompt
from catalog.errors import RecbotError
from catalog.sequences import dedupe

if TYPE_CHECKING:
    from agent.llm import UsageCounter
    from agent.planner.base import PlannerContext

log = logging.getLogger(__name__)

# json_object_schema: llama.cpp's server (llama-cpp-python) takes the schema inside a
# ``json_object`` response format and constrains the answer to it with a grammar; it refuses
# OpenAI's ``json_schema`` type
StructuredMethod = Literal["json_schema", "function_calling", "json_mode", "json_object_schema"]
MAX_LIST_ITEMS = 6  # lists a grammar-constrained answer may hold: a small model can loop forever
MAX_TEXT_CHARS = 120


class PlannerError(RecbotError):
    """The LLM planner produced no usable plan; callers fall back to the offline planner."""


class LLMPlanner:
    """Plans a message with one structured-output call to a chat model."""

    def __init__(
        self,
        chat_model: BaseChatModel,
        genres: Sequence[str],
        *,
        method: StructuredMethod = "json_schema",
        counter: UsageCounter | None = None,
        style: PlannerStyle = "full",
    ) -> None:
        self.genres = tuple(genres)
        self.style = style
        self._by_lower = {genre.casefold(): genre for genre in self.genres}
        self._counter = counter
        self._structured: Runnable[Any, Any]
        if method == "json_object_schema":
            response_format = {"type": "json_object", "schema": bounded_schema()}
            bound = chat_model.bind(response_format=response_format)
            self._structured = bound | RunnableLambda(_with_parsed_plan)
        else:
            self._structured = chat_model.with_structured_output(
                Plan, method=method, include_raw=True
            )

    def plan(self, message: str, context: PlannerContext) -> Plan:
        """The plan for ``message``; raises :class:`PlannerError` when the LLM gives none."""
        prompt = planner_prompt(
            message,
            self.genres,
            shown=[(shown.position, shown.title) for shown in context.shown],
            has_preferences=context.has_preferences,
            clarifications=context.clarifications,
            last_action=context.last_action,
            focus_position=context.focus_position,
            style=self.style,
        )
        try:
            output = self._structured.invoke(prompt.messages())
        except Exception as exc:
            raise PlannerError(f"the LLM planner failed: {_describe(exc)}") from exc
        plan = self._parsed(output)
        return self.clean(plan, shown_positions={shown.position for shown in context.shown})

    def _parsed(self, output: Any) -> Plan:
        """The validated plan in ``with_structured_output(include_raw=True)``'s output dict."""
        output = output if isinstance(output, dict) else {"parsed": output}
        raw = output.get("raw")
        if self._counter is not None and isinstance(raw, BaseMessage):
            self._counter.record(raw)
        error = output.get("parsing_error")
        if error is not None:
            raise PlannerError(
                f"the LLM planner's answer was unusable: {_describe(error)}"
            ) from error
        parsed = output.get("parsed")
        if not isinstance(parsed, Plan):
            invalid = getattr(raw, "invalid_tool_calls", None) or [{}]
            reason = invalid[0].get("error") or "it holds no plan"
            raise PlannerError(f"the LLM planner's answer was unusable: {_shorten(str(reason))}")
        return parsed

    def clean(self, plan: Plan, *, shown_positions: set[int]) -> Plan:
        """``plan`` with catalog genre names only, tidy titles, and only positions that were shown."""
        include, unknown_in = self._genres(plan.include_genres)
        exclude, unknown_ex = self._genres(plan.exclude_genres)
        require, _ = self._genres(plan.require_genres)
        prefer, _ = self._genres(plan.prefer_genres)
        if unknown_in or unknown_ex:
            log.info("LLM planner: dropped unknown genres %s", sorted({*unknown_in, *unknown_ex}))
        update = {
            "include_genres": include,
            "exclude_genres": exclude,
            "require_genres": require,
            "prefer_genres": prefer,
            "exclude_series": _tidy(plan.exclude_series),
            "exclude_tags": _tidy(plan.exclude_tags),
            "liked_titles": _tidy(plan.liked_titles),
            "disliked_titles": _tidy(plan.disliked_titles),
            "moods": _tidy(plan.moods),
            "avoid_moods": _tidy(plan.avoid_moods),
            "drop": self._drop(plan.drop),
            "feedback": _feedback(plan.feedback, shown_positions),
            "more_like_position": _shown(plan.more_like_position, shown_positions),
            "question_position": _shown(plan.question_position, shown_positions),
            "exclude_years": _year_spans(plan.exclude_years),
        }
        return plan.model_copy(update=update)

    def _genres(self, names: Iterable[str]) -> tuple[list[str], list[str]]:
        kept: list[str] = []
        unknown: list[str] = []
        for name in names:
            genre = self._by_lower.get(name.strip().casefold())
            if genre is None:
                unknown.append(name)
            elif genre not in kept:
                kept.append(genre)
        return kept, unknown

    def _drop(self, entries: Iterable[str]) -> list[str]:
        """Drop entries with ``genre:`` mapped to catalog names; unknown genres removed."""
        kept: list[str] = []
        for entry in _tidy(entries):
            kind, sep, value = entry.partition(":")
            if sep and kind.strip().casefold() == "genre":
                genre = self._by_lower.get(value.strip().casefold())
                if genre is None:
                    continue
                entry = f"genre:{genre}"
            if entry not in kept:
                kept.append(entry)
        return kept


def bounded_schema() -> dict[str, Any]:
    """The Plan's JSON schema with every list and text bounded, for a grammar: the answer
    always ends (validation of what comes back is the Plan's own, unchanged)."""
    schema = Plan.model_json_schema()

    def bound(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "array":
                node.setdefault("maxItems", MAX_LIST_ITEMS)
            if node.get("type") == "string" and "enum" not in node:
                node.setdefault("maxLength", MAX_TEXT_CHARS)
            for value in node.values():
                bound(value)
        elif isinstance(node, list):
            for value in node:
                bound(value)

    bound(schema)
    return schema


def _with_parsed_plan(message: BaseMessage) -> dict[str, Any]:
    """``with_structured_output(include_raw=True)``'s output for a raw JSON answer."""
    try:
        return {"raw": message, "parsed": Plan.model_validate_json(str(message.text))}
    except ValueError as error:
        return {"raw": message, "parsed": None, "parsing_error": error}


MAX_EXCLUDED_SPAN = 50  # years: "not from the 90s" is 10; a span of centuries rules out everything


def _year_spans(spans: Iterable[YearSpan]) -> list[YearSpan]:
    """The LLM's years ruled out, each in order (first ≤ last) and at most a lifetime long: a
    span it wrote backwards reads the same, one that would rule out the catalog is dropped."""
    ordered = dedupe((min(s.first, s.last), max(s.first, s.last)) for s in spans)
    return [YearSpan(first=a, last=b) for a, b in ordered if b - a <= MAX_EXCLUDED_SPAN]


def _tidy(texts: Iterable[str]) -> list[str]:
    """Stripped, non-empty, first occurrence only."""
    return dedupe(text.strip() for text in texts if text and text.strip())


def _shown(position: int | None, shown_positions: set[int]) -> int | None:
    return position if position in shown_positions else None


def _feedback(items: Iterable[ShownFeedback], shown_positions: set[int]) -> list[ShownFeedback]:
    """Feedback that points at something: a shown position or a title."""
    kept = []
    for item in items:
        title = (item.title or "").strip() or None
        position = _shown(item.position, shown_positions)
        if position is not None or title is not None:
            kept.append(item.model_copy(update={"position": position, "title": title}))
    return kept


def _describe(error: BaseException) -> str:
    text = _shorten(str(error))
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _shorten(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
