"""Optional LLM rephrasing of the grounded reasons. It may reword them; it cannot add items.

The list of items is fixed by catalog ids before the LLM is asked, and titles stay rendered from
the catalog; the LLM only returns one sentence per item. Any answer that is not a JSON list of
exactly that many short strings, or that names a year-tagged title, is ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from agent.prompts import explain_prompt

MAX_CHARS = 240
_TITLE_WITH_YEAR = re.compile(r"\(\d{4}\)")


def rephrase_reasons(
    model: Any, preferences_summary: str, items: Sequence[tuple[str, str]], counter: Any = None
) -> list[str] | None:
    """Reworded reasons, one per (title, reason), or None when the model's answer is unusable."""
    if model is None or not items:
        return None
    prompt = explain_prompt(preferences_summary, [(title, [reason]) for title, reason in items])
    try:
        reply = model.invoke(prompt.messages())
    except Exception:  # any LLM failure keeps the grounded reasons
        return None
    if counter is not None:
        counter.record(reply)
    return _parse(getattr(reply, "content", ""), len(items))


def _parse(text: object, n: int) -> list[str] | None:
    if not isinstance(text, str):
        return None
    match = re.search(r"\[.*\]", text, re.S)
    try:
        values = json.loads(match.group(0)) if match else None
    except ValueError:
        return None
    if not isinstance(values, list) or len(values) != n:
        return None
    if not all(isinstance(v, str) and 0 < len(v.strip()) <= MAX_CHARS for v in values):
        return None
    if any(_TITLE_WITH_YEAR.search(v) for v in values):
        return None  # it named some (possibly other) title: keep our grounded text
    return [v.strip() for v in values]
