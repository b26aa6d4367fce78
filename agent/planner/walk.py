"""Which cue is in force for each mention: the left-to-right walk over one message.

Mentions are what a message names — genres, moods, eras, titles, positions in the last list —
found as :class:`Span` objects over its words; cues ("no", "loved", "more like", "seen") come
from the same :class:`PhraseTable`. The walk gives each mention the cue in force before it in
its clause: a clause ends at . ! ? ; "but", "though", and at a comma unless a bare list follows
("no horror, gore or slashers"); a negation right before a liking cue flips it ("don't really
like", "nothing like"); trailing cues reach back ("the second one looks good").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.lexicon import GENRE_SYNONYMS, MOOD_SYNONYMS
from agent.planner.audience import Audience
from agent.planner.cues import CUE_PHRASES, TRAILING_CUES
from agent.planner.eras import Era
from agent.planner.positions import PositionRef
from agent.planner.words import Word, word_set
from catalog.domain import Item
from catalog.titles import normalize_title

FLIP_DISTANCE = 2  # words between a negation and a liking cue it still flips
LIST_LOOKAHEAD = 12  # words read after a comma to tell a list from a new clause
_LIST_GLUE = word_set("or nor and either any stuff things movies films etc")
HARD_BREAK = re.compile(r"[.!?;…\n]")


@dataclass(frozen=True, slots=True)
class Cue:
    kind: str  # a key of agent.planner.cues.CUE_PHRASES
    phrase: str
    trailing: bool = False  # applies to what came before it ("the second one looks good")


@dataclass(frozen=True, slots=True)
class Genres:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MoodWord:
    mood: str


@dataclass(frozen=True, slots=True)
class Title:
    item: Item
    position: int | None  # in the last list, when on show
    series: bool = False  # "a Matrix sequel": the title's series, not the film itself
    topic: bool = False  # "a movie about X": named as a subject, not as a film liked


@dataclass(frozen=True, slots=True)
class UnknownTitle:
    """A title-like phrase no catalog item links to, as written ("Blorptastic Zingwhirl 3000")."""

    written: str
    topic: bool = False


Meaning = Cue | Genres | MoodWord | Era | Audience | PositionRef | Title | UnknownTitle


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    what: Meaning


@dataclass
class Mention:
    """A span with the cue in force for it (``None``: no cue, which means "wanted")."""

    span: Span
    cue: Cue | None


class PhraseTable:
    """Longest-first matching of normalised phrases against a message's words."""

    def __init__(self, entries: dict[str, Meaning]) -> None:
        self._entries = {
            tuple(normalize_title(phrase).split()): meaning for phrase, meaning in entries.items()
        }
        self._entries.pop((), None)
        self._longest: dict[str, int] = {}  # first word -> longest phrase starting with it
        for key in self._entries:
            self._longest[key[0]] = max(self._longest.get(key[0], 0), len(key))

    def phrases(self) -> set[str]:
        """Every phrase of the table, normalised."""
        return {" ".join(key) for key in self._entries}

    def subject_words(self) -> set[str]:
        """The one-word genre and mood phrases ("horror", "scary"): what a typo may mean."""
        return {
            key[0]
            for key, meaning in self._entries.items()
            if len(key) == 1 and isinstance(meaning, Genres | MoodWord)
        }

    def find(self, words: Sequence[Word], claimed: Sequence[bool]) -> list[Span]:
        spans: list[Span] = []
        start = 0
        while start < len(words):
            span = self._longest_at(words, claimed, start)
            spans += [span] if span else []
            start = span.end if span else start + 1
        return spans

    def _longest_at(
        self, words: Sequence[Word], claimed: Sequence[bool], start: int
    ) -> Span | None:
        longest = self._longest.get(words[start].norm, 0)
        for end in range(min(len(words), start + longest), start, -1):
            meaning = self._entries.get(tuple(word.norm for word in words[start:end]))
            if meaning is None or any(claimed[start:end]):
                continue
            if not any(re.search(r"[.,;!?:]", word.sep) for word in words[start + 1 : end]):
                return Span(start, end, meaning)
        return None


def build_phrase_table(genres: Sequence[str]) -> PhraseTable:
    """Cues, then genre and mood phrases (which win a tie); genres limited to the catalog's."""
    entries: dict[str, Meaning] = {}
    for kind, phrases in CUE_PHRASES.items():
        entries |= {phrase: Cue(kind, phrase) for phrase in phrases.split("|")}
    entries |= {phrase: Cue(kind, phrase, trailing=True) for phrase, kind in TRAILING_CUES.items()}
    entries |= {phrase: MoodWord(mood) for phrase, mood in MOOD_SYNONYMS.items()}
    known = set(genres)
    entries |= {genre.lower(): Genres((genre,)) for genre in genres}
    for phrase, names in GENRE_SYNONYMS.items():
        if set(names) <= known:
            entries[phrase] = Genres(names)
    return PhraseTable(entries)


# --- The walk: which cue is in force for each mention --------------------------------------------

_NEGATING = frozenset({"neg", "dislike", "drop", "drop_all", "outside"})
_TRANSPARENT = frozenset({"question", "smalltalk", "surprise", "again"})


@dataclass
class Walk:
    """State of the left-to-right walk over one message."""

    mentions: list[Mention] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)
    active: Cue | None = None
    active_end: int = -1  # the word after the active cue
    mentioned: bool = False  # a mention came after the active cue
    pending: list[Mention] = field(default_factory=list)  # this clause's mentions with no cue

    @property
    def negating(self) -> bool:
        return self.active is not None and self.active.kind in _NEGATING

    def end_clause(self) -> None:
        self._dangling()
        self.active, self.pending = None, []

    def _dangling(self) -> None:
        """ "Something similar." with nothing after it in its clause: similar to what was
        named before it ("it"), which the plan builder resolves like "more like that one"."""
        cue = self.active
        if cue is not None and cue.phrase == "similar" and not self.mentioned:
            end = self.active_end
            self.mentions.append(Mention(Span(end - 1, end, PositionRef((), True)), cue))

    def take(self, span: Span) -> None:
        if not isinstance(span.what, Cue):
            mention = Mention(span, self.active)
            self.mentions.append(mention)
            self.mentioned = True
            if self.active is None:
                self.pending.append(mention)
            return
        cue = span.what
        self.cues.append(cue)
        if cue.kind == "drop_all":
            self.mentions.append(Mention(span, cue))
        if cue.kind == "break":
            self.end_clause()
        elif cue.trailing or cue.kind == "seen":
            self._apply_back(cue)
        if cue.trailing or cue.kind in _TRANSPARENT or cue.kind in ("break", "drop_all"):
            return
        if self._flips(cue, span.start):
            cue = Cue("dislike", cue.phrase) if cue.kind != "want" else self.active or cue
        self._dangling()
        self.active, self.active_end, self.mentioned = cue, span.end, False

    def _flips(self, cue: Cue, start: int) -> bool:
        """ "don't really like", "nothing like": a negation right before a liking cue."""
        return (
            cue.kind in ("pos", "similar", "want")
            and self.active is not None
            and self.active.kind == "neg"
            and not self.mentioned
            and start - self.active_end <= FLIP_DISTANCE
        )

    def _apply_back(self, cue: Cue) -> None:
        """Trailing cues reach back to this clause's bare mentions; "seen" only to items."""
        for mention in self.pending:
            if cue.trailing or isinstance(mention.span.what, (PositionRef, Title, UnknownTitle)):
                mention.cue = cue
        self.pending = []


def walk_mentions(words: Sequence[Word], spans: Sequence[Span]) -> tuple[Walk, list[bool]]:
    """Give every mention its cue; also say which free words sit under a negation."""
    owner: list[Span | None] = [None] * len(words)
    for span in spans:
        owner[span.start : span.end] = [span] * (span.end - span.start)
    walk = Walk()
    negated = [False] * len(words)
    index = 0
    while index < len(words):
        if index and _breaks_clause(words, index, owner):
            walk.end_clause()
        owned = owner[index]
        if owned is None:
            negated[index] = walk.negating
            index += 1
        else:
            walk.take(owned)
            index = owned.end
    walk.end_clause()
    return walk, negated


def _breaks_clause(words: Sequence[Word], index: int, owner: Sequence[Span | None]) -> bool:
    sep = words[index].sep
    return bool(HARD_BREAK.search(sep)) or ("," in sep and not _list_follows(words, index, owner))


def _list_follows(words: Sequence[Word], index: int, owner: Sequence[Span | None]) -> bool:
    """After a comma, only mentions and joining words up to the clause end: "gore or slashers"."""
    content = False
    for at in range(index, min(len(words), index + LIST_LOOKAHEAD)):
        if at > index and HARD_BREAK.search(words[at].sep):
            break
        span = owner[at]
        if isinstance(span, Span) and isinstance(span.what, Cue):
            if span.what.kind == "break":
                break
            return False
        if span is None and words[at].norm not in _LIST_GLUE:
            return False
        content = content or span is not None
    return content
