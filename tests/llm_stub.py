"""A loopback OpenAI-compatible chat server, so tests drive the REAL ``ChatOpenAI`` client.

openai >= 3 is built on httpx2, which respx / pytest-httpx do not intercept (DESIGN §6), so the
tests talk HTTP to this stub on 127.0.0.1 instead. It implements ``POST /v1/chat/completions``:
plain JSON and SSE streaming (with the final usage chunk when ``stream_options.include_usage``),
``response_format`` (the scripted content is returned as is), tool calls, usage numbers and
``logprobs`` / ``top_logprobs``. Responses are scripted in order with :meth:`LLMStub.enqueue`;
every request body is recorded in :attr:`LLMStub.requests` (simonw/llm's ``MockModel`` habit).

Use it through the ``llm_stub`` fixture::

    from tests.llm_stub import llm_stub  # noqa: F401  (re-export the fixture)

When the request offers tools and forces one of them (``tool_choice`` names a function, as
``with_structured_output(method="function_calling")`` does), a response scripted with
``content=`` is sent as that tool's arguments, so one script serves every structured method.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

MODEL = "stub-model"
Json = dict[str, Any]


@dataclass(frozen=True)
class Scripted:
    """One scripted answer. ``tool_call`` is ``{"name": ..., "arguments": dict | str}``;
    ``logprobs`` lists, per output token, ``{token: logprob}`` alternatives, chosen token first."""

    content: str | None = None
    tool_call: Json | None = None
    delay: float = 0.0
    status: int = 200
    usage: tuple[int, int] | None = None  # (prompt_tokens, completion_tokens); None: estimated
    refusal: str | None = None
    logprobs: list[dict[str, float]] | None = None
    finish_reason: str | None = None


@dataclass
class LLMStub:
    """The server plus its script. ``base_url`` ends in ``/v1`` as ``ChatOpenAI(base_url=...)`` wants."""

    requests: list[Json] = field(default_factory=list)
    responses: list[Json | list[Json]] = field(default_factory=list)  # bodies, or SSE chunks
    _script: deque[Scripted] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closing: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    fallback: Scripted | None = None  # answers every request once the script is empty

    def always(self, content: str | None = None, **options: Any) -> None:
        """Answer every request the script does not cover with this (a model that never ends)."""
        self.fallback = Scripted(content=content, **options)

    def enqueue(self, content: str | None = None, **options: Any) -> None:
        """Script the next answer; see :class:`Scripted` for the options."""
        with self._lock:
            self._script.append(Scripted(content=content, **options))

    def enqueue_json(self, payload: object, **options: Any) -> None:
        self.enqueue(json.dumps(payload), **options)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "stub not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def pending(self) -> int:
        return len(self._script)

    def start(self) -> LLMStub:
        handler = type("Handler", (_Handler,), {"stub": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        serve = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        serve.start()
        return self

    def close(self) -> None:
        self._closing.set()  # wakes delayed handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _next(self, body: Json) -> Scripted | None:
        with self._lock:
            self.requests.append(body)
            return self._script.popleft() if self._script else self.fallback

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    stub: LLMStub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, _error(f"no route {self.path}", "not_found"))
            return
        scripted = self.stub._next(body)
        if scripted is None:
            self._send_json(500, _error("llm_stub: no scripted response left", "server_error"))
            return
        self.stub._sleep(scripted.delay)
        if scripted.status != 200:
            self._send_json(
                scripted.status, _error(f"scripted status {scripted.status}", "api_error")
            )
            return
        if body.get("stream"):
            chunks = list(_stream_chunks(body, scripted))
            self.stub.responses.append(chunks)
            self._send_sse(chunks)
        else:
            completion = _completion(body, scripted)
            self.stub.responses.append(completion)
            self._send_json(200, completion)

    def _send_json(self, status: int, payload: Json) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("retry-after-ms", "5")  # keeps the client's retries fast
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout) before we answered
            pass

    def _send_sse(self, chunks: list[Json]) -> None:
        events = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks] + ["data: [DONE]\n\n"]
        data = "".join(events).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass


def _error(message: str, kind: str) -> Json:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _forced_tool(body: Json) -> str | None:
    """The function the request forces, if it offers tools and names one in ``tool_choice``."""
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        return str(choice.get("function", {}).get("name") or "") or None
    tools = body.get("tools") or []
    if choice == "required" and len(tools) == 1:
        return str(tools[0]["function"]["name"])
    return None


def _tool_call(body: Json, scripted: Scripted) -> Json | None:
    if not body.get("tools"):
        return None
    call = scripted.tool_call
    if call is None:
        forced = _forced_tool(body)
        if forced is None or scripted.content is None:
            return None
        call = {"name": forced, "arguments": scripted.content}
    arguments = call["arguments"]
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {
        "id": "call_stub_1",
        "type": "function",
        "function": {"name": call["name"], "arguments": arguments},
    }


def _tokens(text: str) -> list[str]:
    return re.findall(r"\s*\S+|\s+", text)


def _usage(body: Json, scripted: Scripted, output: str) -> Json:
    if scripted.usage is not None:
        prompt, completion = scripted.usage
    else:  # a rough, deterministic estimate
        prompt = max(1, len(json.dumps(body.get("messages", []))) // 4)
        completion = max(1, len(output) // 4)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _logprobs(body: Json, scripted: Scripted, content: str) -> Json | None:
    if not body.get("logprobs"):
        return None
    top_n = int(body.get("top_logprobs") or 0)
    per_token = scripted.logprobs or [{token: 0.0} for token in _tokens(content)]
    entries = []
    for alternatives in per_token:
        ranked = list(alternatives.items())
        token, logprob = ranked[0]
        top = [
            {"token": t, "logprob": lp, "bytes": list(t.encode())}
            for t, lp in sorted(ranked, key=lambda pair: -pair[1])[:top_n]
        ]
        entries.append(
            {"token": token, "logprob": logprob, "bytes": list(token.encode()), "top_logprobs": top}
        )
    return {"content": entries, "refusal": None}


def _completion(body: Json, scripted: Scripted) -> Json:
    tool_call = _tool_call(body, scripted)
    content = None if tool_call else scripted.content
    output = content or (tool_call["function"]["arguments"] if tool_call else "") or ""
    message: Json = {"role": "assistant", "content": content, "refusal": scripted.refusal}
    if tool_call:
        message["tool_calls"] = [tool_call]
    finish = scripted.finish_reason or ("tool_calls" if tool_call else "stop")
    choice: Json = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
    choice["logprobs"] = _logprobs(body, scripted, content or "")
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", MODEL),
        "choices": [choice],
        "usage": _usage(body, scripted, output),
    }


def _chunk(
    body: Json, delta: Json, finish: str | None = None, logprobs: Json | None = None
) -> Json:
    choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": logprobs}
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", MODEL),
        "choices": [choice],
    }


def _stream_chunks(body: Json, scripted: Scripted) -> Iterator[Json]:
    tool_call = _tool_call(body, scripted)
    yield _chunk(body, {"role": "assistant", "content": ""})
    if tool_call:
        function = tool_call["function"]
        head = {"index": 0, "id": tool_call["id"], "type": "function"}
        yield _chunk(
            body,
            {"tool_calls": [{**head, "function": {"name": function["name"], "arguments": ""}}]},
        )
        for piece in _tokens(function["arguments"]):
            yield _chunk(body, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        output = function["arguments"]
    else:
        output = scripted.content or ""
        logprobs = _logprobs(body, scripted, output)
        if logprobs is None:
            for piece in _tokens(output):
                yield _chunk(body, {"content": piece})
        else:  # one chunk per token, each carrying its logprobs
            for entry in logprobs["content"]:
                piece_logprobs = {"content": [entry], "refusal": None}
                yield _chunk(body, {"content": entry["token"]}, logprobs=piece_logprobs)
    yield _chunk(body, {}, scripted.finish_reason or ("tool_calls" if tool_call else "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        usage_chunk = _chunk(body, {})
        usage_chunk["choices"] = []
        usage_chunk["usage"] = _usage(body, scripted, output)
        yield usage_chunk


@pytest.fixture
def llm_stub() -> Iterator[LLMStub]:
    """A started stub; closed (and its delayed handlers woken) after the test."""
    stub = LLMStub().start()
    try:
        yield stub
    finally:
        stub.close()
