"""The offline planner: rules over a lexicon, no network, the same :class:`Plan` as the LLM.

How a message is read (each step claims words, so later steps see only what is left):

1. The message is cut to ``MAX_SCAN_CHARS`` (a 100 KB paste is read by its start, in a few
   milliseconds) and split into normalised words (:func:`~agent.planner.words.read_words`).
2. Titles (exact and typo-tolerant, with the false-positive rules of
   :mod:`agent.planner.title_spotter`), eras ("the 90s", "before 1990", "recent", "older",
   :mod:`agent.planner.eras`), positions in the last list ("the second one", "#3", "the first
   two", "it", :mod:`agent.planner.positions`), titles the catalog lacks
   (:mod:`agent.planner.unknown_titles`), then the genre and mood phrases of
   :mod:`agent.lexicon` and the cue phrases of :mod:`agent.planner.cues`, longest first.
3. A left-to-right walk (:mod:`agent.planner.walk`) gives each mention the cue in force
   before it in its clause: "no",
   "not", "less", "too", "anything but" exclude; "hated", "can't stand", "not a fan of"
   dislike; "like", "loved", "similar to" want; "seen" marks seen; "forget", "never mind"
   drop; "start over" drops everything. A clause ends at . ! ? ; "but", "though", and at a
   comma unless a bare list follows ("no horror, gore or slashers"). A negation right before
   a liking cue flips it ("don't really like", "nothing like").
4. The plan is built from the mentions in order (:mod:`agent.planner.building`), so later
   statements win inside the message ("comedy... actually no comedy" excludes Comedy); the
   agent does the same across turns.

Decisions worth knowing:

* "that one" / "it" mean ``context.focus_position``, else the top item (position 1); "it"
  after a title in the same message means that title ("I saw Inception and loved it").
* Titles on show become feedback by position; other titles go to liked/disliked titles as the
  catalog's display title ("Matrix, The (1999)"), which ``Catalog.search_titles`` resolves
  exactly. "seen X" for an X not on show gives ``ShownFeedback(kind="seen", title=...)`` so
  the agent can leave it out.
* A title-like phrase after a liking, disliking or similarity cue, or in quotes, that links
  to no item ("I loved Blorptastic Zingwhirl 3000", "something like Toy Story 5") goes to
  liked/disliked titles as written and stays out of the vibe, so the agent can say it could
  not find it.
* "recent" / "new releases" are the last ``RECENT_YEARS`` years before ``current_year``;
  "classic" / "old movies" end at ``CLASSIC_END``. Negating a one-sided era takes its
  complement ("nothing recent" sets ``year_max``); a negated decade or range is excluded as
  such (``Plan.exclude_years``: "a comedy that isn't from the 90s" is 1990-1999 left out).
* A new request starts a new topic (``drop=["topic"]``: the last description and moods go;
  genres, years and liked titles stay): after "a movie for date night", "something like the
  office" is searched as itself, not as "office romantic". A new request is asked as one
  ("something like ...", "I want ...") or is a bare ask ("scary"). A message refines instead
  when it only narrows ("without romance", "from the 90s"), points at the
  list ("more like the second", "older", "not that one"), compares ("funnier", "less dark")
  or says it adds ("also", "too", "but", "and ..." first); naming liked films adds taste.
  Measured on 150 ReDial dialogues (recbot-untrained, Recall@10 / @50; 0.099 / 0.233 with no
  new topics): dropping genres, years and liked films too and counting every message with a
  description as new gave 0.081 / 0.182; this narrower rule 0.088 / 0.226. Seekers there
  build one request over many messages, so a wider reset costs recall.
* "surprise me", "whatever", "up for anything" -> recommend with no constraints.
* Too little signal -> clarify, or recommend when ``context.has_preferences``. How many
  questions to ask before recommending anyway is the router's business.
* A question naming an item (a position, "it", a title) -> answer, with no preference updates;
  ``question`` is the message itself. A title not on show goes to ``question_title``, as the
  catalog displays it or, when the catalog lacks it, as written.
* The vibe is what is left once cues, titles, eras, positions, filler and anything negated
  are removed; wanted genre and mood words stay, as they help retrieval.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from agent.lexicon import MOOD_SYNONYMS
from agent.plan import Action, Plan
from agent.planner.audience import find_audiences
from agent.planner.base import PlannerContext
from agent.planner.building import PlanBuilder, vibe_text
from agent.planner.cues import (
    SERIES_WORDS,
    STATEMENT_CUE_KINDS,
    TITLE_CUE_KINDS,
    TITLE_CUE_QUESTIONS,
    UNKNOWN_TITLE_CUE_KINDS,
)
from agent.planner.eras import find_eras
from agent.planner.off_topic import off_topic
from agent.planner.positions import PositionRef, find_positions
from agent.planner.title_spotter import TitleSpotter
from agent.planner.unknown_titles import UnknownTitleFinder
from agent.planner.unsupported import CLAIMED_KINDS, find_unsupported
from agent.planner.walk import (
    Cue,
    Mention,
    Span,
    Title,
    UnknownTitle,
    Walk,
    build_phrase_table,
    walk_mentions,
)
from agent.planner.words import (
    COMMON_WORDS,
    FILLER_WORDS,
    STOPWORDS,
    TypoFixer,
    Word,
    read_words,
    tagged_phrases,
    word_set,
)
from catalog.domain import Catalog
from catalog.subjects import catalog_words, tag_vocabulary
from catalog.titles import series_key, title_key

# no vowel, five consonants in a row, or one letter three times: "zzzp", "asdkjh"
_UNPRONOUNCEABLE = re.compile(r"^[^aeiouy]+$|[^aeiouy\d]{5}|(\w)\1\1")
MAX_SCAN_CHARS = 2000  # longer messages are read by their start
MAX_QUESTION_CHARS = 500
_REQUESTS = frozenset({"recommend", "suggest", "show me", "give me", "looking for", "want"})
_QUESTION_STARTS = word_set(
    "what whats who whos which how hows is are does do did was were can could tell describe"
    " explain why when where has"
)
_REQUEST_WORDS = word_set("recommend suggest watch movie movies film films something anything show")
# A question with these asks for new items, not about one: "anything like the second one?"
_BLOCKS_ANSWER = frozenset({"similar", "seen", "dislike", "drop", "drop_all", "again"})
_ASKS_FOR_ITEMS = word_set("recommend suggest something anything")


@dataclass(frozen=True)
class _Reading:
    """One message, read: its words, what they mention under which cues, and which words
    are taken by a mention or a cue (``claimed``) or sit under a negation (``negated``)."""

    text: str
    words: list[Word]
    walk: Walk
    claimed: list[bool]
    negated: list[bool]
    unsupported: list[str] = field(default_factory=list)  # as written, for Plan.ignored

    @property
    def kinds(self) -> set[str]:
        return {cue.kind for cue in self.walk.cues}

    @property
    def requests(self) -> bool:
        return any(cue.phrase in _REQUESTS for cue in self.walk.cues) or any(
            word.norm in _REQUEST_WORDS for word in self.words
        )

    @property
    def is_question(self) -> bool:
        return _is_question(self.text, self.words)


def _is_question(text: str, words: Sequence[Word]) -> bool:
    return "?" in text or words[0].norm in _QUESTION_STARTS


def _named_series(mention: Mention, words: Sequence[Word]) -> Mention:
    """ "sci-fi, not Star Wars": a title excluded by the series' own name ("star wars", not
    "the empire strikes back") means the whole series, as "not a Star Wars sequel" does; a
    dislike ("I hated Star Wars") stays a dislike of the film."""
    what = mention.span.what
    if not (
        isinstance(what, Title)
        and mention.cue is not None
        and mention.cue.kind == "neg"
        and what.position is None
        and not what.series
    ):
        return mention
    written = title_key(
        " ".join(word.norm for word in words[mention.span.start : mention.span.end])
    )
    key = series_key(what.item.title)
    if not key or written != key:
        return mention
    return Mention(
        Span(mention.span.start, mention.span.end, replace(what, series=True)), mention.cue
    )


class OfflinePlanner:
    """Rule-based :class:`~agent.planner.base.Planner` over a catalog (see the module docstring).

    Builds its phrase table and title index once; each message then takes a few milliseconds.
    """

    def __init__(self, catalog: Catalog, *, current_year: int | None = None) -> None:
        genres = [genre for genre in catalog.genres if not genre.startswith("(")]
        self._phrases = build_phrase_table(genres)
        phrases = self._phrases.phrases()
        self._spotter = TitleSpotter(catalog.items, reserved=phrases)
        self._tags = tag_vocabulary(catalog)
        self._typos = TypoFixer(
            self._phrases.subject_words(),
            # words meant as written: the catalog's, every phrase's (cues: "start over") and
            # common English ones
            catalog_words(catalog)
            | {word for phrase in phrases for word in phrase.split()}
            | STOPWORDS
            | FILLER_WORDS
            | COMMON_WORDS,
        )
        self._unknown = UnknownTitleFinder(
            vocabulary={word for phrase in phrases for word in phrase.split()}, tags=set(self._tags)
        )
        years = [item.year for item in catalog.items if item.year]
        self.current_year = current_year or (max(years) if years else datetime.date.today().year)

    def plan(self, message: str, context: PlannerContext) -> Plan:
        """The plan for one message in its context; never raises on odd input."""
        text = message[:MAX_SCAN_CHARS]
        words = [self._spelt(word) for word in read_words(text)]
        if not words:
            return Plan(action="clarify")
        reading = self._read(text, words, context)
        mentions, cues = reading.walk.mentions, reading.walk.cues
        if off_topic(words, mentions, cues, self._spotter.famous, question_mark="?" in text):
            # "what's the weather in Paris tomorrow?": not about films; say so, search nothing
            return Plan(action="smalltalk", off_topic=True)
        answer = _answer_target(reading, context)
        if answer is not None:
            position, title = answer
            return Plan(
                action="answer",
                question_position=position,
                question_title=title,
                question=" ".join(message.split())[:MAX_QUESTION_CHARS],
            )
        joined = frozenset(i for i, word in enumerate(words) if i and not word.sep.strip(" -"))
        builder = PlanBuilder(len(context.shown), _focus(context), joined)
        for mention in reading.walk.mentions:
            builder.add(_named_series(mention, words))
        vibe = vibe_text(
            words, reading.claimed, reading.negated, reading.walk.mentions, builder.still_wants
        )
        subjects = self._negated_subjects(reading)
        if (
            vibe
            and not (builder.has_signal("") or subjects or reading.walk.cues)
            and self._gibberish(vibe)
        ):
            # "asdkjh qwe zzzp": no word anyone uses, so nothing to search for; say so, ask
            builder.ignored.append(" ".join(message.split())[:MAX_QUESTION_CHARS])
            vibe = ""
        action = _action(reading, builder.has_signal(vibe) or bool(subjects), context)
        plan = builder.plan(action, vibe if action in ("recommend", "refine") else "")
        plan.ignored += [text for text in reading.unsupported if text not in plan.ignored]
        plan.exclude_tags = subjects if action in ("recommend", "refine") else []
        if context.has_preferences and _new_topic(reading, plan):
            plan.drop = ["topic", *plan.drop]
        return plan

    def _gibberish(self, vibe: str) -> bool:
        """Whether no word of the vibe is one the catalog or everyday English uses, and at
        least half of them are unpronounceable: an unknown but word-like word ("wuxia", a
        name) may still mean something to the text search."""
        words = [
            word for word in vibe.split() if word not in STOPWORDS and word not in FILLER_WORDS
        ]
        if not words or any(self._typos.knows(word) for word in words):
            return False
        # names the catalog lacks ("Meryl Streep" in a small catalog) are pronounceable
        unpronounceable = sum(1 for word in words if _UNPRONOUNCEABLE.search(word))
        return 2 * unpronounceable >= len(words)

    def _spelt(self, word: Word) -> Word:
        """The word, or the genre or mood word it misspells (:class:`TypoFixer`)."""
        meant = self._typos.fix(word.norm)
        return word if meant is None else replace(word, norm=meant, text=meant)

    def _negated_subjects(self, reading: _Reading) -> list[str]:
        """Subjects under a negation that no mention took and the catalog tags: "nothing with
        zombies", "no Tom Hanks", "not too violent" (the longest tag first, up to three words).
        A negated word no film is tagged with excludes nothing."""
        words = reading.words
        free = [
            reading.negated[i]
            and not reading.claimed[i]
            and words[i].norm not in STOPWORDS
            and words[i].norm not in FILLER_WORDS  # "no children movies": "movies" is no subject
            for i in range(len(words))
        ]
        runs: list[list[str]] = [[]]
        for word, keep in zip(words, free, strict=True):
            if keep:
                runs[-1].append(word.norm)
            elif runs[-1]:
                runs.append([])
        return tagged_phrases(runs, self._tags)

    def _read(self, text: str, words: list[Word], context: PlannerContext) -> _Reading:
        claimed = [False] * len(words)
        # "a comedy for grown-ups" asks for adults' films before any title: not *Grown Ups*
        adults = [Span(*found) for found in find_audiences(words, claimed) if found[2].adults]
        _claim(claimed, adults)
        cues = [span for span in self._phrases.find(words, claimed) if isinstance(span.what, Cue)]
        slots = _title_slots(words, cues)
        shown = {item.item_id: item.position for item in context.shown}
        spans = [
            _title_span(words, spot.start, spot.end, Title(spot.item, shown.get(spot.item.id)))
            for spot in self._spotter.spot(words, slots, prefer=shown)
        ]
        _claim(claimed, spans)
        linked = [(span.start, span.end) for span in spans]
        spans += adults
        spans += _claim(claimed, [Span(*found) for found in find_audiences(words, claimed)])
        unsupported = find_unsupported(words, claimed)  # "under 90 minutes", "on Netflix"
        for first, last, kind in unsupported:
            if kind in CLAIMED_KINDS:
                claimed[first:last] = [True] * (last - first)
        spans += _claim(
            claimed, [Span(*found) for found in find_eras(words, claimed, self.current_year)]
        )
        found = find_positions(words, claimed, len(context.shown), slots)
        spans += _claim(claimed, [Span(*ref) for ref in found])
        unknown = self._unknown_titles(text, words, claimed, cues, linked)
        replaced = {span.start for span in unknown}  # "Toy Story 5" is no "Toy Story"
        spans = [span for span in spans if span.start not in replaced]
        spans += _claim(claimed, unknown)
        spans = [_as_topic(words, span) for span in spans]
        spans += _claim(claimed, self._phrases.find(words, claimed))
        walk, negated = walk_mentions(words, sorted(spans, key=lambda span: span.start))
        written = [text[words[first].start : words[last - 1].end] for first, last, _ in unsupported]
        return _Reading(text, words, walk, claimed, negated, written)

    def _unknown_titles(
        self,
        text: str,
        words: list[Word],
        claimed: list[bool],
        cues: list[Span],
        linked: list[tuple[int, int]],
    ) -> list[Span]:
        """Title-like phrases that link to no item, after the cues that expect a title."""
        kinds = UNKNOWN_TITLE_CUE_KINDS | ({"question"} if _is_question(text, words) else set())
        slots = {span.end for span in cues if _cue_kind(span) in kinds} | _quote_starts(words)
        stops = {span.start for span in cues if _cue_kind(span) in STATEMENT_CUE_KINDS}
        found = self._unknown.find(text, words, claimed, slots, linked, stops)
        return [Span(spot.start, spot.end, UnknownTitle(spot.written)) for spot in found]


def _title_span(words: Sequence[Word], start: int, end: int, title: Title) -> Span:
    """A title's span; followed by a series word ("a Matrix sequel") it means the series."""
    if end < len(words) and words[end].norm in SERIES_WORDS and not words[end].sep.strip():
        return Span(start, end + 1, Title(title.item, title.position, series=True))
    return Span(start, end, title)


_TOPIC_WORDS = word_set("about involving featuring")


def _as_topic(words: Sequence[Word], span: Span) -> Span:
    """A title not on show right after "about" is the subject asked for, not a film liked."""
    what = span.what
    after = span.start > 0 and words[span.start - 1].norm in _TOPIC_WORDS
    if not after or not isinstance(what, Title | UnknownTitle):
        return span
    if isinstance(what, Title) and what.position is not None:
        return span
    return Span(span.start, span.end, replace(what, topic=True))


def _claim(claimed: list[bool], spans: list[Span]) -> list[Span]:
    for span in spans:
        claimed[span.start : span.end] = [True] * (span.end - span.start)
    return spans


def _title_slots(words: Sequence[Word], cues: Sequence[Span]) -> set[int]:
    """Where a title may start: right after a title cue, and at the start of a quotation."""
    slots = {
        span.end
        for span in cues
        if isinstance(span.what, Cue)
        and (span.what.kind in TITLE_CUE_KINDS or span.what.phrase in TITLE_CUE_QUESTIONS)
    }
    slots |= _quote_starts(words)
    return {slot for slot in slots if slot < len(words)}


def _quote_starts(words: Sequence[Word]) -> set[int]:
    """The first word of every quoted passage."""
    return {
        i
        for i, word in enumerate(words)
        if word.quote >= 0 and (i == 0 or words[i - 1].quote != word.quote)
    }


def _cue_kind(span: Span) -> str | None:
    return span.what.kind if isinstance(span.what, Cue) else None


def _focus(context: PlannerContext) -> int:
    """The shown position "it" means: the focused one if still on show, else the top one."""
    focus = context.focus_position
    return focus if focus is not None and 1 <= focus <= len(context.shown) else 1


def _answer_target(
    reading: _Reading, context: PlannerContext
) -> tuple[int | None, str | None] | None:
    """What a question is about: a shown position, or the title of an item not on show (as
    the catalog displays it, or as written when the catalog lacks it); ``None``: not a
    question about an item. A title the catalog lacks counts only when nothing else is named:
    in "is Tom Hanks in it?" the question is about "it"."""
    if not reading.is_question or reading.kinds & _BLOCKS_ANSWER:
        return None
    if any(word.norm in _ASKS_FOR_ITEMS for word in reading.words):
        return None
    unknown: str | None = None
    for mention in reading.walk.mentions:
        what = mention.span.what
        if isinstance(what, Title):
            if what.position is not None:
                return what.position, None
            return None, what.item.display_title
        if isinstance(what, UnknownTitle):
            unknown = unknown or what.written
        elif isinstance(what, PositionRef) and what.demonstrative:
            if context.shown:
                return _focus(context), None
        elif isinstance(what, PositionRef) and what.positions:
            return what.positions[0], None
    return None if unknown is None else (None, unknown)


BARE_ASK_WORDS = 3  # "scary", "a western": a new ask on its own
_ADDING = word_set("also too more less still same again instead even rather bit little slightly")
_ADDING_FIRST = word_set("but and or plus with without maybe just")


def _new_topic(reading: _Reading, plan: Plan) -> bool:
    """Whether the message asks for something new rather than refining the last request
    (module docstring)."""
    if plan.action not in ("recommend", "refine") or plan.drop:
        return False
    if not (plan.vibe or plan.include_genres or plan.moods):
        return False  # narrows ("without romance", "from the 90s") or adds taste ("loved X")
    if plan.era_shift or plan.more_like_position or plan.feedback:
        return False
    words = reading.words
    if words[0].norm in _ADDING_FIRST or any(word.norm in _ADDING for word in words):
        return False
    if any(_comparative(word.norm) for word in words):
        return False
    # asked as a request ("something like ...", "I want ..."), or a bare new ask ("scary")
    return reading.requests or len(words) <= BARE_ASK_WORDS


def _comparative(norm: str) -> bool:
    """ "funnier", "darker", "sadder", "scarier": a mood word compared with the last list."""
    if not norm.endswith("er") or len(norm) < 5:
        return False
    stems = {norm[:-2], norm[:-1], norm[:-3], norm[:-3] + "y"}
    return any(stem in MOOD_SYNONYMS for stem in stems)


def _action(reading: _Reading, signal: bool, context: PlannerContext) -> Action:
    """What to do, from how much the message says (module docstring)."""
    kinds = reading.kinds
    if "drop_all" in kinds:
        return "recommend" if signal else "clarify"
    if signal:
        return "refine" if context.shown else "recommend"
    if context.shown and kinds & {"again", "neg", "dislike"}:
        return "refine"  # "something else", "nope": the same wishes, other items
    if "surprise" in kinds:
        return "recommend"
    if "smalltalk" in kinds and not reading.requests:
        return "smalltalk"
    return "recommend" if context.has_preferences else "clarify"
