"""The hallucination guard: what an LLM reranker answered, reduced to valid candidate positions.

The LLM sees candidates numbered ``1..n`` and should answer with a list of those numbers, best
first. Whatever comes back — a JSON list, an object holding one, prose around a list, invented
titles, an exception — the guard keeps only valid, unique, in-range numbers, fills the rest in
ranker order and says what it dropped and why. Unknown ids are data, not exceptions (STYLE §6).
A pure function: no LLM, no catalog, no I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# keys under which models like to nest the list in a JSON object
LIST_KEYS = (
    "ranking",
    "indices",
    "order",
    "ranked",
    "candidates",
    "ids",
    "items",
    "result",
    "results",
)

_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.DOTALL)
_BRACKETED = re.compile(r"\[[^\[\]]*\]")
_BARE_NUMBERS = re.compile(r"^[\s,;]*[+-]?\d+(?:\.\d+)?(?:[\s,;]+[+-]?\d+(?:\.\d+)?)*[\s,;.]*$")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_INTEGRAL = re.compile(r"^[+-]?\d+(?:\.0+)?$")
_SNIPPET = 60


@dataclass(frozen=True, slots=True)
class GuardResult:
    """``kept``: 0-based candidate positions in final order, ``min(k, n)`` of them.
    ``dropped``: what the LLM answered that was not used, each with its reason.
    ``fell_back``: nothing usable came back (error, empty, unparseable, all invalid).
    ``filled``: how many positions were appended in ranker order."""

    kept: tuple[int, ...]
    dropped: tuple[str, ...]
    fell_back: bool
    filled: int


def guard_indices(raw: object, n_candidates: int, *, k: int) -> GuardResult:
    """Valid unique 1-based candidate numbers from ``raw``, as 0-based positions, filled to k.

    ``raw`` is the LLM's text, an already-parsed value (list, dict, number), or ``None`` /
    an exception when the call failed. Numbers beyond the first ``k`` valid ones are simply
    not needed and are not reported as dropped.
    """
    if n_candidates < 0 or k < 0:
        raise ValueError(f"n_candidates and k must be >= 0, got {n_candidates} and {k}")
    want = min(k, n_candidates)
    values, dropped = _values(raw)
    kept: list[int] = []
    seen: set[int] = set()
    for value in values:
        position, reason = _position(value, n_candidates, seen)
        if reason is not None:
            dropped.append(f"{_show(value)}: {reason}")
            continue
        seen.add(position)
        if len(kept) < want:
            kept.append(position)
    fell_back = not seen
    filled = 0
    for position in range(n_candidates):
        if len(kept) >= want:
            break
        if position not in kept:
            kept.append(position)
            filled += 1
    return GuardResult(kept=tuple(kept), dropped=tuple(dropped), fell_back=fell_back, filled=filled)


def parse_index_list(text: str) -> list[object] | None:
    """The list an LLM answer holds, items as parsed (ints, strings, ...), or None when none.

    Accepts a JSON list, a JSON object with a list under a key like ``"ranking"``, code
    fences, bare comma/space-separated numbers, and prose containing one bracketed list.
    Prose without brackets is not trusted: "1. Heat" numbers a line, not a candidate.
    """
    fenced = _FENCE.search(text)
    body = (fenced.group(1) if fenced else text).strip()
    if not body:
        return None
    try:
        return _as_list(json.loads(body))
    except (json.JSONDecodeError, RecursionError):
        pass
    if _BARE_NUMBERS.match(body):
        return [_number(token) for token in _NUMBER.findall(body)]
    # the first bracketed list with a number in it, else the first non-empty one
    found = [_bracketed(match.group(0)) for match in _BRACKETED.finditer(body)]
    candidates = [items for items in found if items]
    with_numbers = [
        items for items in candidates if any(_as_int(item) is not None for item in items)
    ]
    return (with_numbers or candidates)[0] if candidates else None


def _as_list(parsed: object) -> list[object] | None:
    if isinstance(parsed, list):
        return parsed
    if isinstance(parsed, dict):
        for key in LIST_KEYS:
            if isinstance(parsed.get(key), list):
                return list(parsed[key])
        lists = [value for value in parsed.values() if isinstance(value, list)]
        return list(lists[0]) if len(lists) == 1 else None
    if isinstance(parsed, str):
        return parse_index_list(parsed) if parsed.strip() != "" else None
    if isinstance(parsed, int | float) and not isinstance(parsed, bool):
        return [parsed]
    return None


def _bracketed(text: str) -> list[object] | None:
    """A ``[...]`` found in prose: JSON if it is JSON, else its comma-separated pieces."""
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        pieces = [piece.strip().strip("\"'") for piece in text[1:-1].split(",")]
        return [piece for piece in pieces if piece] or None
    return parsed if isinstance(parsed, list) and parsed else None


def _number(token: str) -> int | float:
    return float(token) if "." in token else int(token)


def _values(raw: object) -> tuple[list[object], list[str]]:
    """The candidate values in ``raw`` and the reasons it was unusable as a whole."""
    if raw is None or isinstance(raw, BaseException):
        return [], []
    if isinstance(raw, str):
        parsed = parse_index_list(raw)
        if parsed is None:
            return [], [f"{_snippet(raw)!r}: no list of candidate numbers"] if raw.strip() else []
        return parsed, []
    if isinstance(raw, list | tuple | dict | int | float):
        as_list = _as_list(list(raw) if isinstance(raw, tuple) else raw)
        if as_list is not None:
            return as_list, []
    return [], [f"{_snippet(repr(raw))}: no list of candidate numbers"]


def _position(value: object, n: int, seen: set[int]) -> tuple[int, str | None]:
    """(0-based position, None) for a usable value, else (-1, why it was dropped)."""
    number = _as_int(value)
    if number is None:
        reason = (
            "not a whole number"
            if isinstance(value, float | str) and _is_numeric(value)
            else "not an index"
        )
        return -1, reason
    if not 1 <= number <= n:
        return -1, "out of range"
    if number - 1 in seen:
        return -1, "duplicate"
    return number - 1, None


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _INTEGRAL.match(value.strip()):
        return int(float(value.strip()))
    return None


def _is_numeric(value: float | str) -> bool:
    if isinstance(value, float):
        return True
    return bool(re.fullmatch(r"[+-]?\d+\.\d+", value.strip()))


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else _snippet(str(value))


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 1] + "…"
