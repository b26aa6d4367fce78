"""The graph's state: messages plus JSON-friendly dialog state, persisted by the checkpointer.

Pydantic models declared here (not in the app) so the checkpointer can serialise them strictly
(``LANGGRAPH_STRICT_MSGPACK=true`` in tests).
"""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from pydantic import BaseModel, Field

from agent.plan import Plan, YearSpan

Route = Literal["clarify", "retrieve", "answer", "smalltalk"]


class Preferences(BaseModel):
    """What the conversation has learned about what the person wants (later overrides earlier)."""

    liked: list[int] = Field(default_factory=list)
    disliked: list[int] = Field(default_factory=list)
    include_genres: list[str] = Field(default_factory=list)
    exclude_genres: list[str] = Field(default_factory=list)
    require_genres: list[str] = Field(default_factory=list)  # all of them ("romantic comedy")
    # a taste, not a must ("I love horror"): ranked first (the ``genre`` signal), never filtered
    prefer_genres: list[str] = Field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None
    exclude_years: list[YearSpan] = Field(default_factory=list)  # "not from the 90s"
    moods: list[str] = Field(default_factory=list)
    avoid_moods: list[str] = Field(default_factory=list)
    vibe: str = ""
    anchor: int | None = None  # "more like the second one"

    def has_signal(self) -> bool:
        """Enough to recommend from: an item, a genre, a mood, a vibe or years (wanted or not)."""
        return bool(
            self.liked
            or self.include_genres
            or self.prefer_genres
            or self.moods
            or self.vibe
            or self.anchor is not None
            or self.year_min is not None
            or self.year_max is not None
            or bool(self.exclude_years)
        )


class Recommendation(BaseModel):
    item_id: int
    title: str  # rendered from the catalog by id, never from LLM text
    score: float
    explanation: str


class GuardRecord(BaseModel):
    """What the hallucination guard did on this turn (for the state and the counters)."""

    ran: bool = False
    dropped: list[str] = Field(default_factory=list)
    fell_back: bool = False
    error: str = ""


class UserFacts(BaseModel):
    """The user's stored profile as one turn uses it: read once by ``understand``
    (:func:`agent.turn.load_user`) and carried in the state for the later nodes."""

    user_id: int | None = None
    history: list[int] = Field(default_factory=list)  # newest first, at most max_history
    ratings: list[float] = Field(default_factory=list)  # aligned with history
    excluded: list[int] = Field(default_factory=list)  # liked, rejected, seen or rated before
    known_interactions: int = 0


class Candidate(BaseModel):
    item_id: int
    retrieval: float = 0.0  # similarity from the retrieval stage
    score: float = 0.0  # final score after ranking


class AgentState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    transcript: list[AnyMessage]  # a transcript's earlier turns, for the replay entry step
    user_id: int | None
    k: int
    must_recommend: bool
    llm_rerank: bool | None  # this conversation's switch (None: the configured default)
    preferences: Preferences
    rejected: list[int]  # never shown again in this conversation
    seen: list[int]
    shown: list[int]  # every item shown so far, in order
    last_shown: list[int]  # the latest list, for "the second one"
    focus: int | None  # the position in last_shown talked about last: what "it" means
    clarifications: int  # clarifying questions asked in a row
    plan: Plan | None
    unresolved: list[str]  # titles the person named that the catalog lacks
    notes: list[str]  # short remarks for the reply ("I took X for 'y'")
    route: Route
    user: UserFacts  # the user's stored profile, loaded once per turn
    warm: bool
    candidates: list[Candidate]
    ranked: list[Candidate]
    recommendations: list[Recommendation]
    guard: GuardRecord
    llm_fallbacks: list[str]  # this turn's LLM steps that took the offline path: "stage: why"
    action: str
    reply: str
    timings_ms: dict[str, float]
