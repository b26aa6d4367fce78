"""Every prompt recbot sends to an LLM, rendered from plain data (STYLE §5).

Three prompts: the planner (message → ``Plan``), the reranker in its predictor mode (listwise:
numbered candidates → a JSON list of numbers; verbalizer: lettered candidates → one letter;
pointwise: one candidate → Yes or No) and the explanation rephraser (given reasons → friendlier
sentences, never new items). A fourth is not the recommender's own: the simulated user of
``simulations.llm_user`` (what it knows of its film, never the title → its next chat message).
One runs offline: item enrichment (``recbot enrich``: an item's facts → tone, themes, audience,
pace, similar films; embedded, never shown; its golden test is in ``test_enrich.py``).
``tests/unit/agent/test_prompts.py`` renders each one against a golden file in
``tests/golden/``, so a change to any wording shows up as a diff in review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from catalog.domain import Item
from catalog.text import natural_title

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
- require_genres: a named combination that must have all its genres ("romantic comedy" is \
Romance and Comedy); put them in include_genres too.
- prefer_genres: genres they say they like as a taste, not asked for now ("I love horror", \
"big fan of comedies"); what they ask for ("any comedies?", "a horror movie") is include_genres.
- exclude_series: titles whose whole series must not be shown, without disliking them ("like \
X but not an X sequel", "outside of X and Y").
- exclude_tags: subjects no film shown may have, in one or two words ("nothing with zombies": zombies; "no gore": gore).
- year_min / year_max: release years wanted ("from the 90s" is 1990 to 1999, "the last twenty \
years" counts back from this year; "a classic is fine" allows, it does not bound); \
exclude_years: years not wanted, each as first and last year ("not from the 90s": first 1990, \
last 1999); era_shift: "newer" or "older" when they ask for newer or older movies without years.
- moods / avoid_moods: moods wanted / unwanted, short words such as light, funny, dark, scary, \
sad, tense, romantic, depressing.
- vibe: a short free-text description of what they want, in their words. Leave out words that \
only say who it is for: "for my 6-year-old" is include_genres Children, exclude_genres Horror, \
avoid_moods scary.
- off_topic: true when the message asks for something other than films (the weather, a \
recipe, a joke, your instructions); its action is "smalltalk".
- ignored: parts of the request that cannot become years, genres, moods or a search, as \
written ("from my childhood": no one knows which years).
- feedback: about movies shown last, each with kind "rejected" (not that one), "seen" \
(already seen it) or "liked", and the movie's position in the last list (1 = first) or its title.
- more_like_position: the position of a shown movie they want more like.
- drop: earlier wishes they take back: "genre:<Genre>", "mood:<mood>", "years", \
"years:<first>-<last>" (years allowed again: "the 80s are fine after all"), \
"liked:<title>", "vibe", "topic" when the message is a new request rather than a refinement \
of the last one ("older", "more like the second", "without romance" refine), or "all" to \
start over.
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


# For small local models (RECBOT_LLM=local): a quarter of the length, the main fields only and
# one example. On 2 CPU cores SmolLM2-135M reads ~50-150 prompt tokens a second, so the full
# prompt alone can outlast a turn's deadline; the grammar still allows every Plan field.
PLANNER_SYSTEM_COMPACT = """\
You read one message to a movie recommender and answer with JSON only. Fields:
action: "recommend" (wants movies), "refine" (changes the last list), "answer" (asks about a \
listed movie), "clarify" (wants movies, says nothing usable), "smalltalk" (anything else).
liked_titles, disliked_titles: movie titles exactly as written in the message, never others.
include_genres, exclude_genres: only from: {genres}.
moods, avoid_moods: short words such as funny, dark, scary, light.
year_min, year_max: years wanted, as numbers.
Leave out what the message does not say.
Example: "like Heat but no horror, from the 90s" -> {{"action": "recommend", "liked_titles": \
["Heat"], "exclude_genres": ["Horror"], "year_min": 1990, "year_max": 1999}}"""

PlannerStyle = Literal["full", "compact"]


def planner_system_prompt(genres: Sequence[str], style: PlannerStyle = "full") -> str:
    """The planner's instructions, with the catalog's genre names filled in."""
    names = ", ".join(genre for genre in genres if genre) or "(none)"
    template = PLANNER_SYSTEM_COMPACT if style == "compact" else PLANNER_SYSTEM
    return template.format(genres=names)


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
    style: PlannerStyle = "full",
) -> ChatPrompt:
    """The planner's system prompt and the user turn; see :func:`planner_user_prompt`.
    ``style="compact"``: the short instructions for small local models."""
    user = planner_user_prompt(
        message,
        shown=shown,
        has_preferences=has_preferences,
        clarifications=clarifications,
        last_action=last_action,
        focus_position=focus_position,
    )
    return ChatPrompt(planner_system_prompt(genres, style), user)


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


# --- verbalizer rerank (LlamaRec) ----------------------------------------------------------------

# no example letter in the instructions: an example would favour its candidate
VERBALIZER_SYSTEM = """\
You pick the movie one person will enjoy most. You get a summary of what they want and a list \
of candidates, each labelled with a letter.
Answer ONLY with the letter of the best candidate: a single capital letter, nothing else."""


def verbalizer_prompt(
    preferences_summary: str, candidates: Sequence[Item], labels: Sequence[str]
) -> ChatPrompt:
    """The verbalizer prompt: candidate ``i`` labelled ``labels[i]``; the answer is one label,
    whose first-token log-probabilities rank every candidate (``tools.rerank_modes``)."""
    labelled = list(zip(labels, candidates, strict=False))
    lines = ["What the person wants:", preferences_summary.strip() or "(nothing specific)", ""]
    lines.append("Candidates:")
    lines.extend(f"{label}. {_candidate_line(item)}" for label, item in labelled)
    choices = f"{labelled[0][0]} to {labelled[-1][0]}" if labelled else "(none)"
    lines += ["", f"Answer ONLY with one letter from {choices}: the best candidate."]
    return ChatPrompt(VERBALIZER_SYSTEM, "\n".join(lines))


def verbalizer_messages(
    preferences_summary: str, candidates: Sequence[Item], labels: Sequence[str]
) -> list[BaseMessage]:
    """:func:`verbalizer_prompt` as chat messages, the ``prompt`` ``VerbalizerReranker`` takes."""
    return verbalizer_prompt(preferences_summary, candidates, labels).messages()


def history_summary(titles: Sequence[str]) -> str:
    """A watch history as LlamaRec's prompt shows it, titles oldest first (newest last): the
    preferences summary of the fine-tuning export's LlamaRec records and of the LLM rerank in
    ``recbot eval --llm-rerank``, so a model tuned on the one is judged on the same words."""
    return "watched, oldest first: " + "; ".join(titles)


# --- pointwise rerank (TallRec) ------------------------------------------------------------------

POINTWISE_SYSTEM = """\
You predict whether one person will enjoy one movie. You get a summary of what they want and \
one candidate movie.
Answer ONLY with Yes or No."""


def pointwise_prompt(preferences_summary: str, candidate: Item) -> ChatPrompt:
    """The yes/no prompt for one candidate. Everything before the candidate is the same for
    every candidate of a turn, so servers with prefix caching reuse it."""
    lines = ["What the person wants:", preferences_summary.strip() or "(nothing specific)", ""]
    lines += ["Candidate:", _candidate_line(candidate), ""]
    lines.append("Will the person enjoy this movie? Answer Yes or No.")
    return ChatPrompt(POINTWISE_SYSTEM, "\n".join(lines))


def pointwise_messages(preferences_summary: str, candidate: Item) -> list[BaseMessage]:
    """:func:`pointwise_prompt` as chat messages, the ``prompt`` ``PointwiseReranker`` takes."""
    return pointwise_prompt(preferences_summary, candidate).messages()


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


# --- item enrichment (offline, `recbot enrich`) --------------------------------------------------
# The answer is embedded, never shown: titles under "If you liked" only shape the item's vector.

ENRICH_PROMPT_VERSION = "enrich-1"  # bump with any change below: stored answers are keyed by it
ENRICH_FIELDS = ("Tone", "Themes", "Audience", "Pace", "If you liked")
ENRICH_OVERVIEW_CHARS = 1000

ENRICH_SYSTEM = """\
You describe movies for the search index of a movie recommender. You get what the catalog knows \
about one movie: its title and year, and maybe genres, user tags and an overview.
Answer with exactly these five lines and nothing else:
Tone: 3 to 5 adjectives for its mood, for example dark, witty, heartwarming, tense.
Themes: 3 to 6 short phrases for what it is about.
Audience: who would enjoy it, in a few words.
Pace: slow, measured, brisk or fast, with a few words on how it moves.
If you liked: 2 or 3 well-known movies with a similar appeal, comma-separated.
Use what you know of the movie and the facts given. When you do not know the movie, infer only \
from the facts given and keep every line general. Do not retell the plot and do not repeat the \
title."""


def enrich_prompt(item: Item) -> ChatPrompt:
    """The enrichment prompt for one item: its catalog facts, missing ones said to be unknown."""
    title = " ".join(natural_title(item.title).split())
    genres = [genre for genre in item.genres if not genre.startswith("(")]
    lines = [
        f"Title: {title}" + (f" ({item.year})" if item.year else ""),
        f"Genres: {', '.join(genres) or 'unknown'}",
        f"Tags: {', '.join(_one_line(tag) for tag in item.tags[:10]) or 'none'}",
        f"Overview: {snippet(item.overview, ENRICH_OVERVIEW_CHARS) or 'none'}",
    ]
    return ChatPrompt(ENRICH_SYSTEM, "\n".join(lines))


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
