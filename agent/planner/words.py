"""Reading a message into words, and the everyday words the planner reads past.

A message becomes normalised :class:`Word` objects that remember where they came from (offsets,
the punctuation before them, sentence starts, quotes), so the later steps — titles
(:mod:`agent.planner.title_spotter`), eras, positions and cue phrases — work on words, not
characters.

The word lists: ``STOPWORDS`` are function words, kept inside a vibe phrase and trimmed at its
edges; ``FILLER_WORDS`` are request and chat words that describe nothing; ``COMMON_WORDS`` are
everyday English, and a title made only of them is "plain" (:mod:`agent.planner.title_spotter`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from catalog.subjects import MAX_SUBJECT_WORDS, subject_forms
from catalog.titles import normalize_title

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_QUOTED = re.compile(r"\"([^\"\n]{1,120})\"|“([^”\n]{1,120})”|(?<!\w)'([^'\n]{1,120})'(?!\w)")
_SENTENCE_END = re.compile(r"[.!?\n]")
SHOUTING_SHARE = 0.6  # capitalised words above this share carry no signal


@dataclass(frozen=True, slots=True)
class Word:
    """One normalised word of a message, with where it came from.

    A token such as "d'Amélie" gives two words ("d", "amelie") sharing the token's offsets.
    """

    norm: str  # "amelie"
    text: str  # the token as written, "Amélie"
    start: int  # character offsets of the token in the message
    end: int
    sep: str  # punctuation between the previous token and this one ("", ",", "#", "-")
    sentence_start: bool
    quote: int  # index of the quoted passage holding the word, -1 if none

    @property
    def capitalised(self) -> bool:
        """Written with a capital first letter; all caps ("IT", "UP") is shouting, not a name."""
        return self.text[:1].isupper() and not (len(self.text) > 1 and self.text.isupper())


def read_words(message: str) -> list[Word]:
    """Split a message into normalised words with offsets, separators and quote membership."""
    quotes = [match.span() for match in _QUOTED.finditer(message)]
    words: list[Word] = []
    previous_end = 0
    passage = 0  # the first quoted passage not yet behind us
    for match in _TOKEN.finditer(message):
        gap = message[previous_end : match.start()]
        sep = "".join(gap.split()) + ("\n" if "\n" in gap else "")
        first = not words or bool(_SENTENCE_END.search(gap))
        while passage < len(quotes) and quotes[passage][1] <= match.start():
            passage += 1
        inside = passage < len(quotes) and quotes[passage][0] < match.start()
        quote = passage if inside else -1
        for n, norm in enumerate(_normalize_token(match.group())):
            words.append(
                Word(norm, match.group(), *match.span(), sep if n == 0 else "", first, quote)
            )
            first = False
        previous_end = match.end()
    return words


@lru_cache(maxsize=8192)
def _normalize_token(token: str) -> tuple[str, ...]:
    return tuple(normalize_title(token).split())


def is_shouting(words: Sequence[Word]) -> bool:
    """Most words capitalised (Title Case Everywhere): capitals then mean nothing.

    Sentence starts and "I" are capitalised anyway, so they are not counted.
    """
    free = [w for w in words if w.text[:1].isalpha() and not w.sentence_start and w.norm != "i"]
    capitals = sum(1 for word in free if word.capitalised)
    return len(free) >= 3 and capitals > SHOUTING_SHARE * len(free)


# --- Everyday words ------------------------------------------------------------------------------


class WordText:
    """A message's normalised words joined by spaces, for patterns that span several words,
    and the words a pattern match covers."""

    def __init__(self, words: Sequence[Word]) -> None:
        self.text = " ".join(word.norm for word in words)
        self._starts: list[int] = []
        position = 0
        for word in words:
            self._starts.append(position)
            position += len(word.norm) + 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The words (first, last + 1) the characters ``start:end`` of :attr:`text` touch."""
        first = bisect.bisect_right(self._starts, start) - 1
        return first, bisect.bisect_left(self._starts, end)


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``, for word lists written as prose."""
    return frozenset(text.split())


# Function words: kept inside a vibe phrase ("heist in dreams"), trimmed at its edges.
STOPWORDS = word_set(
    """
    a an the and or nor but if then so than that this these those there here it its itself i me
    my mine myself we us our you your yours he him his she her hers they them their what which
    who whom whose when where why how all any both each few more most other some such no not
    only own same too very can will just should would could might must shall may am is are was
    were be been being have has had having do does did doing to of in on at by for with about
    against between into through during before after above below from up down out off over
    under again further once as until while because im ive id ill youre dont doesnt didnt isnt
    arent wasnt werent cant wont lets s t d ll re ve m o y one
    """
)

# Words of requests and chat that describe nothing: never part of a vibe.
FILLER_WORDS = word_set(
    """
    movie movies film films flick flicks show shows series watch watching watched see seeing
    recommend recommendation recommendations suggest suggestion suggestions want wanna need
    looking look find give gimme get got pick choose something anything everything stuff thing
    things kind sort type please pls thanks thank good great nice best decent cool awesome
    interesting fine ok okay sure yes yeah yep maybe perhaps really pretty quite bit little lot
    much many tonight today evening weekend now also even still else another ones part bot hi
    hello hey actually definitely probably especially super totally exactly basically mood
    feel feeling think guess know tell ideas idea options option choice similar else already
    watchable worth enjoy enjoyable new starring featuring
    """
)

# Everyday English, and words common in movie requests: a title made only of these ("Up",
# "Heat", "Alien", "Up in the Air") is "plain" and needs a signal before it counts as a title.
COMMON_WORDS = (
    STOPWORDS
    | FILLER_WORDS
    | word_set(
        """
    go goes going gone went come comes came make makes made take takes took taken say said know
    knew known think thought tell told ask asked work works worked seem feel felt try tried
    leave left call called keep kept let begin began help talk turn turned start started hear
    heard play played run runs running ran move moved live lived living believe hold held bring
    brought happen happened write wrote sit stand stood lose lost pay paid meet met include
    continue set learn change changed lead led understand follow followed stop create speak
    read spend grow grew open walk walked win won offer remember love loved loves loving
    consider appear buy bought wait serve die died dies dying send sent expect build built stay
    fall falls fell falling cut reach kill killed killing kills remain raise pass sell require
    decide pull enjoy enjoyed hate hated fight fighting drive driven driving fly flying crash
    jump dance dancing sing singing smile laugh cry sleep sleeping wake dream dreams dreaming
    hope wish miss missing catch break breaking broken hide hidden seek hunt hunted hunting
    escape rise rising shine shining burn burning freeze frozen hang kiss marry married save
    saved trust steal shoot shot speed click push pushed wanted signs sign contact saw seen
    split taken chase chasing hit hurt fix fixed count counting wear wore ride riding rush
    time year years people way day days man men thing woman women life lives child children
    world school state family student group country problem hand hands part place case week
    company system program question government number night nights point home water room
    mother area money story stories fact month lot right study book eye eyes job word
    business issue side kind head house service friend friends father power hour game games
    line end member law car cars city community name president team minute idea kid kids body
    back parent parents face others level office door health person art war wars history
    party result morning reason girl girls guy guys moment air teacher force education foot
    boy boys age music sense nation plan college death experience effect class control care
    field role rate heart drug drugs leader light voice wife husband police mind price son
    daughter sister sister brother brothers view relationship town road arm value building
    action model season society director position player record paper space ground form event
    center couple site star stars table court street image phone data picture piece land
    doctor wall news test north south east west baby computer type tree window king queen
    prince princess lord lady boss hero heroes villain god gods devil angel angels heaven
    hell paradise monster monsters alien aliens ghost ghosts zombie zombies vampire vampires
    robot robots shark sharks dinosaur dinosaurs dragon dragons witch witches wizard wizards
    pirate pirates ninja samurai cowboy cowboys spy spies superhero superheroes heist heists
    detective killer killers assassin soldier soldiers army navy planet planets moon mars earth
    sun ocean sea island jungle desert mountain river snow storm rain fire ice heat cold dark
    magic nightmare christmas halloween holiday wedding funeral prison jail hospital crime
    murder revenge survival disaster apocalypse virus outbreak conspiracy future past
    big small little old young new good bad best better worse worst real true false high low
    long short hard easy fast slow full empty free dead alive black white red blue green gold
    golden silver wild crazy mad happy sad funny strange perfect beautiful pretty ugly sweet
    hot warm cool last first second third next final lucky dirty dangerous deadly secret
    secrets lost inside outside together alone forever never always tomorrow yesterday today
    tonight zero two three four five six seven eight nine ten eleven twelve hundred thousand
    million us me her him them it up out down boat ship train plane hacker hackers iceberg
    computer internet robot dog cat horse bird fish
    """
    )
)


def one_edit_apart(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter added, dropped, changed, or two neighbours
    swapped ("horor" / "horror", "comdey" / "comedy"); False for equal words."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


class TypoFixer:
    """Reads a misspelt genre or mood word as the word meant: "an horor movie" is a horror
    movie. Only words of ``MIN_TYPO_CHARS`` or more that the catalog's own text never uses
    (``known``: its titles, tags and overviews, so "eastern" or "sunny" stay themselves),
    one edit from exactly one genre or mood word with the same first letter."""

    def __init__(self, targets: set[str], known: set[str]) -> None:
        self._targets = sorted(word for word in targets if len(word) >= MIN_TYPO_CHARS - 1)
        self._known = known | set(targets)

    def knows(self, norm: str) -> bool:
        """Whether a word is one the catalog, the phrases or everyday English use."""
        return norm in self._known

    def fix(self, norm: str) -> str | None:
        if len(norm) < MIN_TYPO_CHARS or norm in self._known or not norm.isalpha():
            return None
        meant = [
            word for word in self._targets if word[0] == norm[0] and one_edit_apart(norm, word)
        ]
        return meant[0] if len(meant) == 1 else None


MIN_TYPO_CHARS = 5


def names_a_tag(phrase: str, tags: frozenset[str]) -> bool:
    """Whether ``phrase`` may be a subject to leave out ("zombies", "tom hanks"): at most
    ``MAX_SUBJECT_WORDS`` words, not only filler ("movies", "the film"), and a catalog tag in
    either number. Both planners' subjects pass through it (the offline one to pick its words,
    the agent for whatever a planner named)."""
    words = phrase.split()
    return (
        0 < len(words) <= MAX_SUBJECT_WORDS
        and not set(words) <= FILLER_WORDS | STOPWORDS
        and not subject_forms(phrase).isdisjoint(tags)
    )


def tagged_phrases(runs: Iterable[Sequence[str]], tags: frozenset[str]) -> list[str]:
    """The catalog-tagged phrases (:func:`names_a_tag`) in runs of adjacent words, the longest
    first from each position: "no tom hanks" -> "tom hanks", not "tom"; each once."""
    found: list[str] = []
    for run in runs:
        i = 0
        while i < len(run):
            for n in range(min(MAX_SUBJECT_WORDS, len(run) - i), 0, -1):
                phrase = " ".join(run[i : i + n])
                if names_a_tag(phrase, tags):
                    found.append(phrase)
                    i += n
                    break
            else:
                i += 1
    return list(dict.fromkeys(found))
