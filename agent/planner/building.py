"""Building the :class:`~agent.plan.Plan` from the walked mentions, and the vibe text.

Mentions are applied in message order, so later statements win ("comedy... actually no
comedy" excludes Comedy). A named combination must have all its genres (``require_genres``):
a two-genre phrase ("rom-com"), two genre words side by side ("action comedy", "sci-fi
horror"), or a mood that is one genre next to a genre word ("romantic drama", "funny horror"). The vibe is what is left once cues, titles, eras, positions, filler
and anything negated are removed; wanted genre and mood words stay, as they help retrieval.
A genre under a liking cue ("I love horror", "a big fan of comedies") is a taste
(``prefer_genres``: ranked, never a filter) unless the message also asks for it; on the
dialogue benchmark such tastes read as musts removed the human recommender's picks
(docs/dialogues.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from agent.lexicon import MOODS, OPPOSITE_MOODS
from agent.plan import Action, FeedbackKind, Plan, ShownFeedback, YearSpan
from agent.planner.audience import (
    CHILD_AVOID_GENRES,
    CHILD_AVOID_MOODS,
    CHILD_GENRES,
    Audience,
)
from agent.planner.eras import Era
from agent.planner.positions import PositionRef
from agent.planner.walk import (
    HARD_BREAK,
    Cue,
    Genres,
    Meaning,
    Mention,
    MoodWord,
    Title,
    UnknownTitle,
)
from agent.planner.words import FILLER_WORDS, STOPWORDS, Word
from catalog.sequences import dedupe

MAX_VIBE_CHARS = 300
MAX_WORD_CHARS = 30  # longer "words" are noise (pasted hashes, keyboard mashing)


# How a cue makes a mention count: "bare" is no cue at all.
_STANCES = {
    "neg": "avoid",
    "dislike": "avoid",
    "drop": "drop",
    "drop_all": "drop",
    "seen": "seen",
    "neutral": "neutral",
    "similar": "similar",
    "pos": "like",
    "outside": "outside",
}
_WANTING = frozenset({"bare", "want", "like", "similar"})
_FEEDBACK: dict[str, FeedbackKind] = {
    "seen": "seen",
    "avoid": "rejected",
    "drop": "rejected",
    "like": "liked",
    "want": "liked",
}


def _stance(cue: Cue | None) -> str:
    return "bare" if cue is None else _STANCES.get(cue.kind, "want")


def _put(table: dict, key: object, value: object) -> None:
    """Set ``key`` and move it last, so the latest statement is the one that shows."""
    table.pop(key, None)
    table[key] = value


@dataclass
class PlanBuilder:
    """Applies mentions in message order; later ones override earlier ones."""

    shown: int
    focus: int
    joined: frozenset[int] = frozenset()  # word indexes written right after the previous word
    genres: dict[str, bool] = field(default_factory=dict)
    tastes: dict[str, bool] = field(default_factory=dict)  # genres liked, not asked for
    moods: dict[str, bool] = field(default_factory=dict)
    titles: dict[str, bool] = field(default_factory=dict)
    feedback: dict[int | str, FeedbackKind] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None
    exclude_years: list[tuple[int, int]] = field(default_factory=list)  # "not from the 90s"
    shift: str | None = None
    more_like: int | None = None
    last_item: Title | UnknownTitle | PositionRef | None = None  # what "it" / "that one" is
    combinations: list[tuple[str, ...]] = field(default_factory=list)
    series: list[str] = field(default_factory=list)  # titles whose series is not wanted
    outside: list[str] = field(default_factory=list)  # "outside of X": X's kind, not X
    ignored: list[str] = field(default_factory=list)  # understood, but nothing to apply
    previous: Mention | None = None

    def add(self, mention: Mention) -> None:
        stance = _stance(mention.cue)
        what = mention.span.what
        if stance == "outside" and not isinstance(what, Title | UnknownTitle):
            stance = "avoid"  # "anything other than horror"
        before = self.previous
        # under the negation of the mention before it: years there only qualify a genre
        negated_with = (
            before if stance == "avoid" and before and before.cue is mention.cue else None
        )
        if negated_with is not None and isinstance(what, Genres):
            era = negated_with.span.what  # "not a fan of 80s horror": the genre's years
            if isinstance(era, Era) and negated_with.span.end == mention.span.start:
                years = (era.year_min, era.year_max)
                self.exclude_years = [span for span in self.exclude_years if span != years]
        self._combine(mention, stance)
        self.previous = mention
        if negated_with is not None and isinstance(what, Era):
            return  # "no horror from the 80s": the negation is the genre's
        if isinstance(what, Cue):  # "start over": everything said so far goes
            self._forget_all()
        elif isinstance(what, Genres):
            self._genres(what.names, stance)
        elif isinstance(what, MoodWord):
            self._mood(what.mood, stance)
        elif isinstance(what, Era):
            self._era(what, stance)
        elif isinstance(what, Audience):
            self._audience(what, stance)
        elif isinstance(what, Title | UnknownTitle):
            # "a movie about X" names a topic, not a film the person liked
            self._title(what, "neutral" if what.topic else stance)
        else:
            self._positions(what, stance)

    def _combine(self, mention: Mention, stance: str) -> None:
        """Remember a named genre combination (module docstring)."""
        if stance not in _WANTING:
            return
        before = self.previous
        genres = _as_genres(mention.span.what)
        if isinstance(mention.span.what, Genres) and len(genres) > 1:
            self.combinations.append(genres)
        adjacent = (
            before is not None
            and before.span.end == mention.span.start
            and mention.span.start in self.joined
            and _stance(before.cue) in _WANTING
        )
        if before is not None and adjacent and isinstance(mention.span.what, Genres):
            first = _as_genres(before.span.what)
            if first and genres and set(first) != set(genres):
                if isinstance(before.span.what, MoodWord):
                    for genre in first:
                        _put(self.tastes if stance == "like" else self.genres, genre, True)
                self.combinations.append((*first, *genres))

    def _forget_all(self) -> None:
        for table in (self.genres, self.tastes, self.moods, self.titles, self.feedback):
            table.clear()
        self.year_min = self.year_max = self.shift = self.more_like = self.last_item = None
        self.exclude_years = []
        self.drop = ["all"]

    def _flag(self, table: dict[str, bool], key: str, stance: str, dropped: str) -> None:
        if stance == "drop":
            table.pop(key, None)
            self.drop += [dropped] if dropped not in self.drop else []
        elif stance == "avoid":
            _put(table, key, False)
        elif stance in _WANTING:
            _put(table, key, True)
            self.drop = [entry for entry in self.drop if entry != dropped]

    def _genres(self, names: Sequence[str], stance: str) -> None:
        """A genre asked for is a must; one said to be liked ("I love horror") is a taste,
        until the same message asks for it; any other stance takes the taste back."""
        for genre in names:
            if stance == "like" and not self.genres.get(genre):
                _put(self.tastes, genre, True)
                continue
            self.tastes.pop(genre, None)
            self._flag(self.genres, genre, stance, f"genre:{genre}")

    def _mood(self, mood: str, stance: str) -> None:
        self._flag(self.moods, mood, stance, f"mood:{mood}")
        if stance in _WANTING:
            for opposite in OPPOSITE_MOODS.get(mood, ()):
                if self.moods.get(opposite):
                    del self.moods[opposite]

    def _audience(self, audience: Audience, stance: str) -> None:
        """ "For my 6-year-old": children's films, nothing frightening (not when negated or
        merely mentioned: "my kids have seen it")."""
        if audience.adults and stance in _WANTING:  # "but for adults"
            for genre in CHILD_GENRES:
                self._flag(self.genres, genre, "avoid", f"genre:{genre}")
        if not audience.children or stance not in _WANTING:
            return
        for genre in CHILD_GENRES:
            self._flag(self.genres, genre, stance, f"genre:{genre}")
        # a must, not one genre among those asked for: "a comedy for my 8-year-old" is a
        # children's comedy, never any comedy (Superbad passed when either genre would do)
        self.combinations.append(CHILD_GENRES)
        for genre in CHILD_AVOID_GENRES:
            self._flag(self.genres, genre, "avoid", f"genre:{genre}")
        for mood in CHILD_AVOID_MOODS:
            if not self.moods.get(mood):
                self._flag(self.moods, mood, "avoid", f"mood:{mood}")

    def _era(self, era: Era, stance: str) -> None:
        if stance == "drop":
            self.year_min = self.year_max = self.shift = None
            self.exclude_years = []
            self.drop += ["years"] if "years" not in self.drop else []
            return
        if era.unknowable and stance in _WANTING:
            self.ignored += [era.unknowable] if era.unknowable not in self.ignored else []
        if era.allowed is not None and stance in _WANTING:
            # "ok, the 80s are fine": lifts an earlier "not from the 80s" (see apply_plan)
            lifted = f"years:{era.allowed[0]}-{era.allowed[1]}"
            self.drop += [lifted] if lifted not in self.drop else []
            return
        low, high = era.year_min, era.year_max
        if stance == "avoid" and not era.vague and low is not None and high is not None:
            # "a comedy that isn't from the 90s": a window in the middle, excluded as such
            span = (low, high)
            self.exclude_years += [span] if span not in self.exclude_years else []
            return
        flipped = _complement(era) if stance == "avoid" else era
        if era.vague or flipped is None or stance == "seen":
            return
        if flipped.shift is not None:
            self.shift = flipped.shift
        elif flipped.year_min is not None and flipped.year_max is not None:
            self.year_min, self.year_max = flipped.year_min, flipped.year_max
        elif flipped.year_min is not None:
            self.year_min = flipped.year_min
            if self.year_max is not None and self.year_max < flipped.year_min:
                self.year_max = None
        elif flipped.year_max is not None:
            self.year_max = flipped.year_max
            if self.year_min is not None and self.year_min > flipped.year_max:
                self.year_min = None

    def _title(self, title: Title | UnknownTitle, stance: str) -> None:
        """A shown title is feedback on its position; another goes to the liked or disliked
        titles by its display title, and one the catalog lacks as written."""
        self.last_item = title
        if isinstance(title, Title) and title.position is not None:
            self._feedback((title.position,), "like" if stance == "bare" else stance)
            return
        name = title.item.display_title if isinstance(title, Title) else title.written
        series = stance == "outside" or (stance == "avoid" and getattr(title, "series", False))
        if series and isinstance(title, Title):
            # "not a Matrix sequel", "outside of X": none of the series, X itself not disliked
            self.series += [name] if name not in self.series else []
            if stance == "outside":  # the anchor only when nothing else is ("outside of X")
                self._flag(self.titles, name, "similar", f"liked:{name}")
                self.outside.append(name)
            return
        if stance == "seen":
            self.feedback[name] = "seen"
        elif stance != "neutral":
            self._flag(self.titles, name, stance, f"liked:{name}")

    def _positions(self, ref: PositionRef, stance: str) -> None:
        """Feedback on positions; "it" / "that one" is the item last named in this message,
        else the focused one."""
        if ref.none:
            self._feedback(ref.positions, "avoid")
        elif not ref.demonstrative:
            self.last_item = ref if len(ref.positions) == 1 else self.last_item
            self._feedback(ref.positions, stance)
        elif isinstance(self.last_item, Title | UnknownTitle):
            self._title(self.last_item, stance)
        elif self.last_item is not None:
            self._feedback(self.last_item.positions, stance)
        elif self.shown:
            self._feedback((self.focus,), stance)

    def _feedback(self, positions: Sequence[int], stance: str) -> None:
        if stance == "similar" and positions:
            self.more_like = positions[0]
        elif stance in _FEEDBACK:
            for position in positions:
                _put(self.feedback, position, _FEEDBACK[stance])

    def plan(self, action: Action, vibe: str) -> Plan:
        liked = [title for title, liked in self.titles.items() if liked]
        said = [title for title in liked if title not in self.outside]
        return Plan(
            action=action,
            liked_titles=said or liked,
            disliked_titles=[title for title, liked in self.titles.items() if not liked],
            include_genres=[genre for genre, wanted in self.genres.items() if wanted],
            exclude_genres=[genre for genre, wanted in self.genres.items() if not wanted],
            prefer_genres=list(self.tastes),
            require_genres=dedupe(
                genre
                for combination in self.combinations
                if all(self.genres.get(genre) for genre in combination)
                for genre in combination
            ),
            year_min=self.year_min,
            year_max=self.year_max,
            exclude_years=[YearSpan(first=first, last=last) for first, last in self.exclude_years],
            # "older, 70s or 80s": the years said outright, not a shift from the last list
            era_shift=self.shift if self.year_min is None and self.year_max is None else None,  # type: ignore[arg-type]
            moods=[mood for mood, wanted in self.moods.items() if wanted],
            avoid_moods=[mood for mood, wanted in self.moods.items() if not wanted],
            vibe=vibe,
            ignored=list(self.ignored),
            exclude_series=list(self.series),
            feedback=[_shown_feedback(ref, kind) for ref, kind in self.feedback.items()],
            more_like_position=self.more_like,
            drop=self.drop,
        )

    def still_wants(self, what: Meaning) -> bool:
        """Whether the plan, as built, still wants this genre or mood phrase."""
        if isinstance(what, Genres):
            return all(self.genres.get(g) or self.tastes.get(g) for g in what.names)
        return isinstance(what, MoodWord) and bool(self.moods.get(what.mood))

    def has_signal(self, vibe: str) -> bool:
        """Whether the message said anything beyond "start over"."""
        dropped = [entry for entry in self.drop if entry != "all"]
        return bool(
            self.titles
            or self.genres
            or self.tastes
            or self.moods
            or self.feedback
            or dropped
            or vibe
            or self.series
            or self.exclude_years
        ) or any(v is not None for v in (self.year_min, self.year_max, self.shift, self.more_like))


def _as_genres(what: Meaning) -> tuple[str, ...]:
    """The genres a genre phrase names, or the one genre a mood stands for ("romantic")."""
    if isinstance(what, Genres):
        return what.names
    if isinstance(what, MoodWord) and what.mood in MOODS and len(MOODS[what.mood].genres_up) == 1:
        return tuple(MOODS[what.mood].genres_up)
    return ()


def _complement(era: Era) -> Era | None:
    """What "not <era>" leaves: the other side of a one-sided era, the opposite shift."""
    if era.shift is not None:
        return Era(shift="older" if era.shift == "newer" else "newer")
    if era.year_min is not None and era.year_max is None:
        return Era(None, era.year_min - 1)
    if era.year_max is not None and era.year_min is None:
        return Era(era.year_max + 1, None)
    return None


def _shown_feedback(ref: int | str, kind: FeedbackKind) -> ShownFeedback:
    if isinstance(ref, int):
        return ShownFeedback(kind=kind, position=ref)
    return ShownFeedback(kind=kind, title=ref)


# --- The vibe ------------------------------------------------------------------------------------


def vibe_text(
    words: Sequence[Word],
    claimed: Sequence[bool],
    negated: Sequence[bool],
    mentions: Sequence[Mention],
    wanted: Callable[[Meaning], bool],
) -> str:
    """The descriptive rest of the message: free content words and the genre and mood words
    the plan still wants, with the function words between them ("heist in dreams")."""
    keep = [
        not claimed[i] and not negated[i] and _describes(word.norm) for i, word in enumerate(words)
    ]
    for mention in mentions:
        if _stance(mention.cue) in _WANTING and wanted(mention.span.what):
            keep[mention.span.start : mention.span.end] = [True] * (
                mention.span.end - mention.span.start
            )
    kept: list[int] = []
    waiting: list[int] = []
    for i, word in enumerate(words):
        if re.search(r"[.,;:!?()\"“”]", word.sep) or HARD_BREAK.search(word.sep):
            waiting = []
        if keep[i]:
            kept += [*waiting, i]
            waiting = []
        elif kept and not claimed[i] and not negated[i] and word.norm in STOPWORDS:
            waiting.append(i)
        else:
            waiting = []
    vibe = _join_tokens(words, kept)
    return vibe if len(vibe) <= MAX_VIBE_CHARS else vibe[:MAX_VIBE_CHARS].rsplit(" ", 1)[0]


def _describes(norm: str) -> bool:
    return (
        norm not in STOPWORDS
        and norm not in FILLER_WORDS
        and not norm.isdigit()
        and len(norm) <= MAX_WORD_CHARS
    )


def _join_tokens(words: Sequence[Word], kept: Sequence[int]) -> str:
    """The kept words as written (lowercase), hyphenated words kept whole: "mind-bending"."""
    out = ""
    previous = -2
    for i in kept:
        word = words[i]
        if previous >= 0 and words[previous].start == word.start:
            previous = i
            continue  # another normalised piece of the same token
        glue = "-" if previous == i - 1 and word.sep == "-" else " "
        out = f"{out}{glue}{word.text.lower()}" if out else word.text.lower()
        previous = i
    return out
