"""The request of ``recbot ask``: read from a file or stdin, validated and held to limits.

Every problem becomes a :class:`RequestError` whose message names what is wrong and quotes at most
a short excerpt of the input, so a bad 5 MB request is never echoed back.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from agent.persistence import MAX_USER_ID
from agent.recommender import ChatMessage
from catalog.errors import RequestError

QUOTE_CHARS = 60  # the most of a bad value an error message repeats
SHOWN_PROBLEMS = 3  # validation problems listed; the rest are counted


class AskRequest(BaseModel):
    messages: list[ChatMessage] = Field(min_length=1)
    user_id: int | None = Field(default=None, ge=0, le=MAX_USER_ID)
    k: int = Field(default=10, ge=1, le=50)


def read_request(source: str) -> str:
    """The request text from ``source``, a file path or ``-`` for stdin."""
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RequestError(f"no such file: {source}") from None
    except IsADirectoryError:
        raise RequestError(f"{source} is a directory; give a JSON file, or - for stdin") from None
    except UnicodeDecodeError:
        raise RequestError(f"{source} is not UTF-8 text") from None
    except OSError as error:
        raise RequestError(f"cannot read {source}: {error.strerror or error}") from None


def parse_request(raw: str, *, max_messages: int, max_message_chars: int) -> AskRequest:
    """A valid request within the limits, or a RequestError saying what is wrong."""
    try:
        request = AskRequest.model_validate_json(raw)
    except ValidationError as error:
        raise RequestError(f"invalid request: {describe(error)}") from None
    if len(request.messages) > max_messages:
        raise RequestError(
            f"too many messages: {len(request.messages)}; a request holds at most {max_messages} "
            "(RECBOT_MAX_REQUEST_MESSAGES)"
        )
    for number, message in enumerate(request.messages, start=1):
        if len(message.content) > max_message_chars:
            raise RequestError(
                f"message {number} has {len(message.content)} characters; at most "
                f"{max_message_chars} are allowed (RECBOT_MAX_REQUEST_MESSAGE_CHARS)"
            )
    if request.messages[-1].role != "user":
        raise RequestError("the last message must be a user message")
    return request


def describe(error: ValidationError) -> str:
    """The first few problems, each with where it is and a short quote of what was there."""
    problems = error.errors(include_url=False)
    parts = [
        f"{'.'.join(str(p) for p in problem['loc']) or 'request'}: {problem['msg']} "
        f"(got {quote(problem.get('input'))})"
        for problem in problems[:SHOWN_PROBLEMS]
    ]
    if len(problems) > SHOWN_PROBLEMS:
        parts.append(f"and {len(problems) - SHOWN_PROBLEMS} more")
    return "; ".join(parts)


def quote(value: Any) -> str:
    """``repr(value)`` cut to :data:`QUOTE_CHARS` characters."""
    text = repr(value)
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"
