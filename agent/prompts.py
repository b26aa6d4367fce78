"""Every prompt recbot sends to an LLM, rendered from plain data (STYLE §5).

Three prompts: the planner (message → ``Plan``), the listwise reranker (numbered candidates →
a JSON list of numbers) and the explanation rephraser (given reasons → friendlier sentences,
never new items). A fourth is not the recommender's own: the simulated user of
``simulations.llm_user`` (what it knows of its film, never the title → its next chat message).
``tests/unit/agent/test_prompts.py`` renders each one against a golden file in
``tests/golden/``, so a change to any wording shows up as a diff in review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from catalog.domain import Item

OVERVIEW_CHARS = 160  # enough to tell two candidates apart, short enough for 50 of them


@dataclass(frozen=True, slots=True)
class ChatPrompt:
    """A system and a user message, ready to send or to compare with a golden file."""

    system: str
    user: str

    def messages(self) -> list[BaseMessage]:
        return [SystemMessage(self.system), HumanMessage(self.user)]

    def render(self) -> str:
        """Both parts as one text, the form the golden files keep."""
        return f"=== system ===\n{self.system}\n=== user ===\n{self.user}\n"


# --- planner -------------------------------------------------------------------------------------

PLANNER_SYSTEM = """\
You are the understanding step of a movie recommender chat. Read the person's newest message, \
together with the conversation state, and describe what they want as a Plan. You never suggest \
movies yourself.

Plan fields:
- action: one of
  - "recommend": they ask for suggestions or describe what they want to watch;
  - "refine": they adjust the list shown last (more like one of them, less of something, newer, \
not that one, already seen it);
  - "answer": they ask a question about a movie in the list shown last;
  - "clarify": they want suggestions but say nothing usable yet (no movie, genre, mood or vibe);
  - "smalltalk": greetings, thanks, anything not about choosing a movie.
- liked_titles / disliked_titles: movies they like (or want more like) / dislike.
- include_genres / exclude_genres: genres wanted / unwanted, only from the genre list below.
- year_min / year_max: release years wanted ("from the 90s" is 1990 to 1999); \
era_shift: "newer" or "older" when they ask for newer or older movies without years.
- moods / avoid_moods: moods wanted / unwanted, short words such as light, funny, dark, scary, \
sad, tense, romantic, depressing.
- vibe: a short free-text description of what they want, in their words.
- feedback: about movies shown last, each with kind "rejected" (not that one), "seen" \
(already seen it) or "liked", and the movie's position in the last list (1 = first) or its title.
- more_like_position: the position of a shown movie they want more like.
- drop: earlier wishes they take back: "genre:<Genre>", "mood:<mood>", "years", \
"liked:<title>", "vibe", or "all" to start over.
- question_position / question: for action "answer", which shown movie the question is about \
and the question itself.
- question_title: for action "answer" about a movie that is not in the last list, its title as \
written.

Rules:
- Write titles exactly as the person wrote them. Do not correct, complete or translate them, \
add no years, and never add a title they did not mention.
- Use only these genre names, spelled as here: {genres}. A wish that is not one of these genres \
goes into moods or vibe.
- Later statements override earlier ones: when the person takes back or reverses an earlier \
wish, put the new wish in the plan and the old one in drop.
- Positions refer to the list shown last.
- Leave a field empty when the message says nothing about it.
- Answer with one JSON object holding the fields above, named exactly as above."""


def planner_system_prompt(genres: Sequence[str]) -> str:
    """The planner's instructions, with the catalog's genre names filled in."""
    names = ", ".join(genre for genre in genres if genre) or "(none)"
    return PLANNER_SYSTEM.format(genres=names)


def planner_user_prompt(
    message: str,
    *,
    shown: Sequence[tuple[int, str]] = (),
    has_preferences: bool = False,
    clarifications: int = 0,
    last_action: str | None = None,
    focus_position: int | None = None,
) -> str:
    """The conversation state and the new message. ``shown`` holds (position, title) pairs;
    ``focus_position`` is the shown movie talked about last, which "it" refers to."""
    lines = [
        "Conversation state:",
        f"- Last action: {last_action or 'none (first message)'}",
        f"- Preferences known so far: {'yes' if has_preferences else 'no'}",
        f"- Clarifying questions asked: {clarifications}",
    ]
    if shown:
        lines.append("- List shown last:")
        lines.extend(f"  {position}. {_one_line(title)}" for position, title in shown)
        if focus_position is not None and focus_position in {position for position, _ in shown}:
            lines.append(f'- Movie talked about last ("it", "that one"): {focus_position}')
    else:
        lines.append("- List shown last: none")
    # the message cannot close its own tag and pose as instructions
    body = message.strip().replace("</message>", "</ message>")
    lines += ["", "New message:", "<message>", body, "</message>"]
    return "\n".join(lines)


def planner_prompt(
    message: str,
    genres: Sequence[str],
    *,
    shown: Sequence[tuple[int, str]] = (),
    has_preferences: bool = False,
    clarifications: int = 0,
    last_action: str | None = None,
    focus_position: int | None = None,
) -> ChatPrompt:
    """The planner's system prompt and the user turn; see :func:`planner_user_prompt`."""
    user = planner_user_prompt(
        message,
        shown=shown,
        has_preferences=has_preferences,
        clarifications=clarifications,
        last_action=last_action,
        focus_position=focus_position,
    )
    return ChatPrompt(planner_system_prompt(genres), user)


# --- listwise rerank -----------------------------------------------------------------------------

RERANK_SYSTEM = """\
You rerank movie candidates for one person. You get a summary of what they want and a numbered \
list of candidates. Order the candidates from best to worst fit for this person.
Answer ONLY with a JSON list of candidate numbers, best first, for example [3, 1, 2]. Use only \
numbers from the list, each at most once. Write no titles and no explanations."""


def rerank_prompt(preferences_summary: str, candidates: Sequence[Item], k: int) -> ChatPrompt:
    """The listwise prompt: candidates numbered from 1 with title, year, genres and an overview."""
    lines = ["What the person wants:", preferences_summary.strip() or "(nothing specific)", ""]
    lines.append("Candidates:")
    lines.extend(f"{n}. {_candidate_line(item)}" for n, item in enumerate(candidates, start=1))
    best = min(k, len(candidates))
    lines += [
        "",
        f"Answer ONLY with a JSON list of candidate numbers, best first: the best {best} "
        f"of the {len(candidates)} candidates.",
    ]
    return ChatPrompt(RERANK_SYSTEM, "\n".join(lines))


def rerank_messages(
    preferences_summary: str, candidates: Sequence[Item], k: int
) -> list[BaseMessage]:
    """:func:`rerank_prompt` as chat messages: the ``prompt`` that ``tools.reranker`` takes."""
    return rerank_prompt(preferences_summary, candidates, k).messages()


def _candidate_line(item: Item) -> str:
    parts = [_one_line(item.display_title)]
    genres = [genre for genre in item.genres if not genre.startswith("(")]
    parts.append(", ".join(genres) if genres else "genres unknown")
    if item.overview.strip():
        parts.append(snippet(item.overview))
    return " | ".join(parts)


def snippet(text: str, limit: int = OVERVIEW_CHARS) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    flat = _one_line(text)
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    head = cut.rsplit(" ", 1)[0] if " " in cut else cut[: limit - 1]
    return (head.rstrip(",;:.- ") or flat[: limit - 1]) + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- explanation rephrase ------------------------------------------------------------------------

EXPLAIN_SYSTEM = """\
You make the explanations of movie recommendations read well. You get numbered movies, each \
with the reasons the recommender found for it.
Rephrase each movie's reasons as one short, friendly sentence. You may reword the reasons, but \
use only the facts given: add no facts, mention no movie that is not in the movie's own title or \
reasons, and do not add, remove or reorder movies.
Answer ONLY with a JSON list of {n} strings, one per movie, in the given order."""


def explain_prompt(
    preferences_summary: str, items: Sequence[tuple[str, Sequence[str]]]
) -> ChatPrompt:
    """The rephrase prompt. ``items`` holds (display title, reasons) pairs, in list order."""
    lines = ["What the person wants:", preferences_summary.strip() or "(nothing specific)", ""]
    lines.append("Movies:")
    for n, (title, reasons) in enumerate(items, start=1):
        lines.append(f"{n}. {_one_line(title)}")
        said = "; ".join(_one_line(reason) for reason in reasons if reason.strip())
        lines.append(f"   Reasons: {said or 'none given'}")
    return ChatPrompt(EXPLAIN_SYSTEM.format(n=len(items)), "\n".join(lines))


# --- simulated user ------------------------------------------------------------------------------
# Not the recommender's: simulations.llm_user has a chat model play a person with a film in mind.

SIMULATED_USER_SYSTEM = """\
You are role-playing a person chatting with a movie recommender. You have one particular film in \
mind and want the recommender to suggest it. What you know about it:
{facts}
Rules: write only your next chat message, one or two short casual sentences. Never say the \
film's title, any part of it, or a sequel's title. Reveal one or two new details per message, \
starting vague. Answer the recommender's questions from what you know. When it suggests other \
films, say no and add a new detail."""
SIMULATED_USER_RETRY = (
    "That draft named the film. Write it again without its title or any part of it."
)


@dataclass(frozen=True, slots=True)
class FilmFacts:
    """What a simulated user knows of the film it wants, never its title. Empty facts are left
    out of the prompt."""

    genres: Sequence[str] = ()
    year: int | None = None
    tags: Sequence[str] = ()
    plot: str = ""
    liked: str | None = None  # a similar film the user loved


def simulated_user_system_prompt(facts: FilmFacts) -> str:
    """The role-play instructions, with the facts the simulated user knows filled in."""
    labelled = {
        "genres": ", ".join(facts.genres),
        "released": str(facts.year or ""),
        "tags": ", ".join(facts.tags),
        "plot": facts.plot,
        "a similar film you loved": facts.liked or "",
    }
    lines = "\n".join(f"- {label}: {value}" for label, value in labelled.items() if value)
    return SIMULATED_USER_SYSTEM.format(facts=lines)


def simulated_user_prompt(
    facts: FilmFacts, transcript: Sequence[str], *, opening: bool = False, shown: bool = False
) -> ChatPrompt:
    """One turn of the simulated user: the conversation so far (lines from
    :func:`simulated_user_line` and :func:`recommender_line`) and the task, its opening request
    or its next message; ``shown`` says the recommender just showed films, none of them theirs."""
    history = "\n".join(transcript) or "(the conversation has not started)"
    if opening:
        task = "Write your opening request."
    else:
        task = ("None of the shown films is yours. " if shown else "") + "Write your next message."
    user = f"Conversation so far:\n{history}\n\n{task}"
    return ChatPrompt(simulated_user_system_prompt(facts), user)


def recommender_line(reply_text: str, shown: Sequence[str]) -> str:
    """The recommender's reply in the simulated user's transcript, with the titles it showed."""
    listed = f" [shown: {'; '.join(shown)}]" if shown else ""
    return f"Recommender: {reply_text}{listed}"


def simulated_user_line(text: str) -> str:
    """The simulated user's own message in its transcript."""
    return f"You: {text}"
