"""A cost lever: LLM answers to identical prompts, kept in the app database.

``PromptCache`` is a LangChain ``BaseCache``: passed as ``ChatOpenAI(cache=...)`` it serves every
call made through the model — plain, bound (logprobs) or structured — keyed by the prompt and the
model's parameters (``llm_string``: model, temperature, seed, response format…). A hit costs no
call and no tokens; its answer is marked so :class:`agent.llm.UsageCounter` counts it as a hit and
the tokens it saved, not as a call.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation
from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from catalog.store import Store

CACHE_HIT = "recbot_cache_hit"  # response_metadata key on answers served from the cache
SAVED_TOKENS = "recbot_saved_tokens"  # (input, output) tokens the hit saved


class CacheBase(DeclarativeBase):
    pass


class CachedAnswer(CacheBase):
    __tablename__ = "llm_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(llm_string, prompt)
    answer: Mapped[str] = mapped_column(Text)  # JSON: each generation's message and info
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def cache_key(prompt: str, llm_string: str) -> str:
    return hashlib.sha256(f"{llm_string}\x00{prompt}".encode()).hexdigest()


class PromptCache(BaseCache):
    """LLM answers by (model parameters, prompt), in the app database; thread-safe."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.tokens_saved = 0
        with store.guard("create the LLM cache table in"):
            CacheBase.metadata.create_all(store.engine)

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        key = cache_key(prompt, llm_string)
        with self.store.guard("read the LLM cache from"), Session(self.store.engine) as session:
            row = session.get(CachedAnswer, key)
            if row is None:
                with self._lock:
                    self.misses += 1
                return None
            row.hits += 1
            session.commit()
            answer, saved = row.answer, (row.input_tokens, row.output_tokens)
        with self._lock:
            self.hits += 1
            self.tokens_saved += sum(saved)
        return [_mark_hit(g, saved) for g in _decode(answer)]

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        tokens = [0, 0]
        stored = []
        for generation in return_val:
            usage = _usage(generation)
            tokens[0] += usage[0]
            tokens[1] += usage[1]
            stored.append(_without_usage(generation))
        row = CachedAnswer(
            key=cache_key(prompt, llm_string),
            answer=_encode(stored),
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            hits=0,
            created_at=datetime.now(UTC),
        )
        with self.store.guard("write the LLM cache to"), Session(self.store.engine) as session:
            session.merge(row)
            session.commit()

    def clear(self, **kwargs: Any) -> None:
        with self.store.guard("clear the LLM cache in"), Session(self.store.engine) as session:
            session.query(CachedAnswer).delete()
            session.commit()

    def stats(self) -> dict[str, float]:
        with self._lock:
            asked = self.hits + self.misses
            return {
                "hits": self.hits,
                "misses": self.misses,
                "hit_rate": self.hits / asked if asked else 0.0,
                "tokens_saved": self.tokens_saved,
            }

    def size(self) -> int:
        with Session(self.store.engine) as session:
            return len(session.scalars(select(CachedAnswer.key)).all())


def _encode(generations: Sequence[Generation]) -> str:
    out: list[dict[str, Any]] = []
    for generation in generations:
        if isinstance(generation, ChatGeneration):
            out.append(
                {
                    "message": message_to_dict(generation.message),
                    "info": generation.generation_info,
                }
            )
        else:
            out.append({"text": generation.text, "info": generation.generation_info})
    return json.dumps(out)


def _decode(answer: str) -> list[Generation]:
    out: list[Generation] = []
    for entry in json.loads(answer):
        if "message" in entry:
            message = messages_from_dict([entry["message"]])[0]
            out.append(ChatGeneration(message=message, generation_info=entry.get("info")))
        else:
            out.append(Generation(text=entry["text"], generation_info=entry.get("info")))
    return out


def _usage(generation: Generation) -> tuple[int, int]:
    message = getattr(generation, "message", None)
    usage = getattr(message, "usage_metadata", None) or {}
    return int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)


def _without_usage(generation: Generation) -> Generation:
    if isinstance(generation, ChatGeneration):
        message = generation.message.model_copy(update={"usage_metadata": None})
        return generation.model_copy(update={"message": message})
    return generation


def _mark_hit(generation: Generation, saved: Sequence[int]) -> Generation:
    if isinstance(generation, ChatGeneration):
        metadata = {
            **generation.message.response_metadata,
            CACHE_HIT: True,
            SAVED_TOKENS: list(saved),
        }
        message = generation.message.model_copy(update={"response_metadata": metadata})
        return generation.model_copy(update={"message": message})
    return generation
