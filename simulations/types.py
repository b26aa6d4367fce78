"""The records a simulation writes: one ``SessionRecord`` per JSONL line of a transcript file.

Everything the metrics and the report need is in these records, so a report can be rebuilt from
the transcripts alone (and a run resumed by reading them back).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent.llm import Usage

Persona = Literal["cooperative", "terse", "impatient", "contrarian", "target-free"]
PERSONAS: tuple[Persona, ...] = ("cooperative", "terse", "impatient", "contrarian", "target-free")
Bucket = Literal["0", "1-5", "6-20", ">20"]
BUCKETS: tuple[Bucket, ...] = ("0", "1-5", "6-20", ">20")


def bucket_of(history_len: int) -> Bucket:
    """The history-length bucket of a simulated user (DESIGN §4)."""
    if history_len <= 0:
        return "0"
    if history_len <= 5:
        return "1-5"
    if history_len <= 20:
        return "6-20"
    return ">20"


class Target(BaseModel):
    """A hidden target and the profile that goes with it (never shown to the recommender)."""

    user_id: int  # the MovieLens user it comes from
    item_id: int
    title: str  # the catalog's display title, for leak checks and reports
    history: list[int] = Field(default_factory=list)  # newest first, before the target
    ratings: list[float] = Field(default_factory=list)  # aligned with history
    opening: str = ""  # a real person's first message to open with (dialogue seeds), if any
    source: str = "movielens"  # where the target comes from ("redial:<dialogue id>")

    @property
    def bucket(self) -> Bucket:
        return bucket_of(len(self.history))


class TurnRecord(BaseModel):
    """One exchange: what the simulated user said and what the system answered."""

    turn: int  # 1-based
    user: str
    action: str  # the system's action: recommend, clarify, answer, smalltalk
    reply: str = ""
    recommended: list[int] = Field(default_factory=list)  # item ids in shown order
    outside_catalog: list[int] = Field(default_factory=list)  # shown ids not in the catalog
    outside_candidates: list[int] = Field(default_factory=list)  # shown ids the funnel never had
    hit: bool = False  # the target is among ``recommended``
    latency_ms: float = 0.0
    llm: Usage = Field(default_factory=Usage)  # the recommender's LLM use this turn
    simulator_llm: Usage = Field(default_factory=Usage)  # the simulated user's, if any
    leak_retries: int = 0  # times the simulator's draft named the target and was redone
    excluded_shown: list[int] = Field(default_factory=list)  # shown ids the user had excluded
    unknown_titles: list[str] = Field(default_factory=list)  # "Title (Year)" in the reply text
    # that the simulator's own read of the catalog does not hold
    left: bool = False  # after this turn the user gave up and left


class SessionRecord(BaseModel):
    """One simulated conversation, start to accept or give-up."""

    session_id: str  # stable: "<system>/<seed>/<index>", the key for resuming
    system: str  # "agent", "agent+llm-rerank", "one-shot", "popularity"
    seed: int
    simulator: Literal["rules", "llm"] = "rules"
    persona: Persona = "cooperative"
    target: Target
    bucket: Bucket
    max_turns: int
    k: int
    turns: list[TurnRecord] = Field(default_factory=list)
    hit_turn: int | None = None  # the turn the target was recommended, if it was
    error: str = ""  # a failure that ended the session early (reported, never hidden)
    # the target's rank in a plain text retrieval over everything the user said (None: not
    # in the top LEAK_TOP_K, or not measured); a rank means the user's words alone identify it
    leak_rank: int | None = None
    leak_measured: bool = False

    @property
    def leaked(self) -> bool:
        return self.leak_rank is not None

    @property
    def success(self) -> bool:
        return self.hit_turn is not None

    @property
    def turns_to_success(self) -> int:
        """Turns until the target was recommended; a miss counts ``max_turns + 1``."""
        return self.hit_turn if self.hit_turn is not None else self.max_turns + 1
