"""The planner's output for one user message: an action and preference updates (DESIGN §2).

Both planners — the offline rules and the LLM — return this schema. Titles are kept as the user
(or the LLM) wrote them in ``*_titles``; the understand node resolves them to catalog ids through
fuzzy title search, so nothing the LLM writes is trusted as an id.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Action = Literal["clarify", "recommend", "refine", "answer", "smalltalk"]
FeedbackKind = Literal["rejected", "seen", "liked"]
EraShift = Literal["newer", "older"]


class ShownFeedback(BaseModel):
    """Feedback on an item shown earlier, referenced by its 1-based position in the last list
    ("the second one") or by title ("not Interstellar")."""

    kind: FeedbackKind
    position: int | None = Field(
        default=None, ge=1, description="1-based position in the last list"
    )
    title: str | None = Field(default=None, description="the title as written")


class YearSpan(BaseModel):
    """Release years no film shown may be from, both ends included: "not from the 90s" is
    1990 to 1999 (a window in the middle, which ``year_min`` / ``year_max`` cannot say)."""

    first: int = Field(description="first year not wanted")
    last: int = Field(description="last year not wanted")


def year_span_text(span: YearSpan) -> str:
    """ "the 1990s", "the early 1980s", "1995", "1995 to 2004": how a reply names the years."""
    first, last = span.first, span.last
    if first == last:
        return str(first)
    if first % 10 == 0 and last == first + 9:
        return f"the {first}s"
    return f"{first} to {last}"


class Plan(BaseModel):
    """What to do with this message, and how the person's preferences change.

    Lists add to what the conversation already knows; ``drop`` removes earlier constraints
    ("forget the comedy part" → ``drop=["genre:Comedy"]``); later statements override earlier
    ones, so a genre both wanted and now excluded ends up excluded.
    """

    action: Action = Field(description="clarify | recommend | refine | answer | smalltalk")
    liked_titles: list[str] = Field(
        default_factory=list, description="titles the person likes or wants more like"
    )
    disliked_titles: list[str] = Field(
        default_factory=list, description="titles the person dislikes"
    )
    exclude_series: list[str] = Field(
        default_factory=list,
        description="titles whose whole series must not be shown, without disliking them: 'similar to X but not an X sequel', 'outside of X and Y'",
    )
    exclude_tags: list[str] = Field(
        default_factory=list,
        description="subjects whose films must not be shown, as the catalog's tags name them: 'nothing with zombies' = zombies, 'not too violent' = violent",
    )
    include_genres: list[str] = Field(default_factory=list, description="catalog genres wanted")
    exclude_genres: list[str] = Field(default_factory=list, description="catalog genres unwanted")
    prefer_genres: list[str] = Field(
        default_factory=list,
        description="genres the person says they like, as a taste rather than this request's must-have ('I love horror', 'a big fan of comedies'): ranked first, not required",
    )
    require_genres: list[str] = Field(
        default_factory=list,
        description="genres that must all be present: a named combination ('romantic comedy' = Romance and Comedy)",
    )
    year_min: int | None = Field(default=None, description="earliest release year wanted")
    year_max: int | None = Field(default=None, description="latest release year wanted")
    exclude_years: list[YearSpan] = Field(
        default_factory=list,
        description="release years not wanted, both ends included: 'not from the 90s' = first 1990, last 1999",
    )
    era_shift: EraShift | None = Field(
        default=None, description="'something newer' / 'older, please'"
    )
    moods: list[str] = Field(
        default_factory=list, description="moods wanted, e.g. light, funny, dark, scary"
    )
    avoid_moods: list[str] = Field(
        default_factory=list, description="moods unwanted, e.g. depressing"
    )
    vibe: str = Field(default="", description="free-text description of what the person wants")
    off_topic: bool = Field(
        default=False,
        description="the message asks for something other than films (the weather, a recipe, a joke): action smalltalk, nothing searched",
    )
    ignored: list[str] = Field(
        default_factory=list,
        description="parts of the request that cannot become a filter or a search, as written (e.g. 'from my childhood': no one knows which years)",
    )
    feedback: list[ShownFeedback] = Field(default_factory=list)
    more_like_position: int | None = Field(
        default=None, ge=1, description="'more like the second one'"
    )
    drop: list[str] = Field(
        default_factory=list,
        description="earlier constraints to forget: 'genre:<Genre>', 'mood:<mood>', 'years', 'years:<first>-<last>' (those years allowed again: 'the 80s are fine after all' = 'years:1980-1989'), 'liked:<title>', 'vibe', 'topic' (a new request, not a refinement of the last), 'all'",
    )
    question_position: int | None = Field(
        default=None, ge=1, description="which shown item a question is about"
    )
    question_title: str | None = Field(
        default=None, description="title a question is about when it is not a shown position"
    )
    question: str = Field(
        default="", description="the question asked about an item, for action=answer"
    )
