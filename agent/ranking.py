"""How a turn's candidates are found beyond plain retrieval, and how they are scored.

The rank node and the training job (``jobs/conversation_training.py``) both call
:func:`pool_signals`, so the weights learned from real conversations are learned on exactly the
signals the agent ranks by (``tools/scoring.py`` defines them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from langchain_core.messages import BaseMessage

from agent.context import Deps
from agent.lexicon import GENRE_SYNONYMS, MOOD_SYNONYMS, normalize_text
from agent.planner.words import FILLER_WORDS, STOPWORDS, tagged_phrases
from agent.state import Candidate, Preferences, UserFacts
from agent.turn import liked_items, preferences, query_text
from catalog.domain import Catalog
from catalog.sequences import dedupe
from catalog.subjects import items_described, tag_vocabulary
from catalog.titles import series_key, title_aliases, title_key
from tools.catalog_tools import user_context
from tools.scoring import COLD_WEIGHTS, WARM_WEIGHTS, Request, raw_signals

EXTRA_CANDIDATES = 200  # per extra source: followed in conversations, most recommended
_DATED = re.compile(r"\((1[89]\d\d|20\d\d)\)")  # "(1999)" after a title
TITLE_WORDS = 12  # words before a year looked through for the title it dates
SERIES_FIRST = 2  # films of one series placed before other series have had their place
# added to a candidate's score (spread BLEND_SPREAD) per subject of the request it is about:
# "a movie about a dog" opened with Forrest Gump and Anchorman, the text search's weak pull
# outweighed by their quality
SUBJECT_BONUS = 1.0
RARE_SUBJECT_ITEMS = 20
RARE_SUBJECT_BONUS = 3.0


def mentioned_items(state: Mapping[str, Any], catalog: Catalog) -> list[int]:
    """Every movie the conversation named, by either side, liked or not: what the planner and
    the replay understood, and every title written with its year in any message."""
    prefs = preferences(state)
    return dedupe(
        [
            *liked_items(prefs),
            *prefs.disliked,
            *state.get("shown", []),
            *state.get("seen", []),
            *state.get("rejected", []),
            *written_items(state.get("messages", []), catalog),
        ]
    )


def written_items(messages: list[BaseMessage], catalog: Catalog) -> list[int]:
    """Catalog items written as "Title (Year)" anywhere in ``messages``, first written first.

    People (and human recommenders in a shared transcript) write a title with its year inside
    a sentence: "have you seen Man on Wire (2008)?". The replay only reads recbot's own lists,
    so these would be missed; here the longest run of words before the year that is a catalog
    title of that year (or one off: release dates differ by country) names the item.
    """
    found: list[int] = []
    for message in messages:
        if isinstance(message.content, str):
            found += _written_in(message.content, catalog)
    return dedupe(found)


@lru_cache(maxsize=8192)
def _written_in(text: str, catalog: Catalog) -> tuple[int, ...]:
    """The items one message writes as "Title (Year)". Cached by text: every turn reads the
    whole transcript again (twice), and recbot's own replies date ten titles each; only the
    newest messages are new (py-spy on a busy server: ~6% of its time before the cache)."""
    dated = _dated_titles(catalog)
    found: list[int] = []
    for match in _DATED.finditer(text):
        words = text[: match.start()].split()[-TITLE_WORDS:]
        year = int(match.group(1))
        for start in range(len(words)):
            key = title_key(" ".join(words[start:]))
            item = next(
                (dated[(key, y)] for y in (year, year - 1, year + 1) if (key, y) in dated), None
            )
            if item is not None:
                found.append(item)
                break
    return tuple(found)


@lru_cache(maxsize=4)
def _dated_titles(catalog: Catalog) -> dict[tuple[str, int], int]:
    """Every title alias's key with its item's year → the item (the best known one wins)."""
    out: dict[tuple[str, int], int] = {}
    for item in sorted(catalog.items, key=lambda i: (-i.popularity, i.id)):
        if item.year is None:
            continue
        for alias in title_aliases(item.title):
            out.setdefault((title_key(alias), item.year), item.id)
    return out


def mood_only(prefs: Preferences) -> bool:
    """Whether a mood is all the person asked for: no genre, no film to be like, and no word
    in the request beyond mood and genre words and filler ("something scary", "a sad movie",
    "I need a good laugh"). Then the mood bounds the genres (``mood_genre_bounds``) and the
    request's words do not rank by text similarity: "scary" alone finds *Scary Movie*,
    *Running Scared* and *Are You Scared?* by their titles, "sad" finds *Sorrow* and *Misery*.
    """
    if not prefs.moods or prefs.include_genres or prefs.require_genres or liked_items(prefs):
        return False
    return not _descriptive_words(prefs.vibe)


def _descriptive_words(vibe: str) -> tuple[str, ...]:
    """The vibe's words that are neither filler nor part of a mood or genre phrase."""
    return tuple(word for run in _descriptive_runs(vibe) for word in run)


@lru_cache(maxsize=1024)
def _descriptive_runs(vibe: str) -> tuple[tuple[str, ...], ...]:
    """The vibe's runs of adjacent words that are neither filler nor part of a mood or genre
    phrase: "a scary movie about sharks at sea" -> (("sharks",), ("sea",))."""
    words = normalize_text(vibe).split()
    runs: list[tuple[str, ...]] = []
    run: list[str] = []
    i = 0
    while i < len(words):
        phrase = next(
            (
                n
                for n in (3, 2, 1)
                if i + n <= len(words) and " ".join(words[i : i + n]) in _MOOD_OR_GENRE
            ),
            0,
        )
        if not phrase and words[i] not in STOPWORDS and words[i] not in FILLER_WORDS:
            run.append(words[i])
        elif run:  # a mood or genre phrase, or filler, ends the run
            runs.append(tuple(run))
            run = []
        i += phrase or 1
    runs += [tuple(run)] if run else []
    return tuple(runs)


_MOOD_OR_GENRE = frozenset(MOOD_SYNONYMS) | frozenset(GENRE_SYNONYMS)


def request_subjects(vibe: str, catalog: Catalog) -> list[str]:
    """Subjects the request's words name that the catalog tags ("a movie about a dog": dog;
    "a road trip comedy": road trip), longest first within each run of descriptive words."""
    return tagged_phrases(_descriptive_runs(vibe), tag_vocabulary(catalog))


def subject_candidates(vibe: str, catalog: Catalog) -> list[int]:
    """The films about the request's subjects (tags or overview), up to
    ``EXTRA_CANDIDATES`` a subject: candidates the text search may have missed."""
    return dedupe(
        i
        for subject in request_subjects(vibe, catalog)
        for i in items_described(catalog, subject)[:EXTRA_CANDIDATES]
    )


def subject_adjustments(vibe: str, candidates: Sequence[int], catalog: Catalog) -> np.ndarray:
    """``SUBJECT_BONUS`` for each subject of the request a candidate's tags or overview say
    (never its title alone: that is the echo the text search already suffers from);
    ``RARE_SUBJECT_BONUS`` for a subject at most ``RARE_SUBJECT_ITEMS`` films have, which is
    mostly a name (a person, a studio): "starring Meryl Streep" wants her two films first."""
    subjects = request_subjects(vibe, catalog)
    out = np.zeros(len(candidates))
    for subject in subjects:
        about = set(items_described(catalog, subject))
        bonus = RARE_SUBJECT_BONUS if len(about) <= RARE_SUBJECT_ITEMS else SUBJECT_BONUS
        out += bonus * np.fromiter((i in about for i in candidates), float, len(candidates))
    return out


def turn_request(state: Mapping[str, Any], deps: Deps, user: UserFacts) -> Request:
    """The signals' view of this turn (``user`` empty on the cold path)."""
    prefs: Preferences = preferences(state)
    context = user_context(
        deps.tools,
        history=user.history,
        ratings=user.ratings,
        liked=liked_items(prefs),
        disliked=prefs.disliked,
        wanted_genres=[*prefs.include_genres, *prefs.prefer_genres],
        unwanted_genres=prefs.exclude_genres,
        query=query_text(prefs),
    )
    catalog = deps.tools.catalog
    return Request(
        context=context,
        query_vector=context.query_vector,
        seeds=context.liked,
        mentioned=tuple(catalog.known(mentioned_items(state, catalog))),
        preferred_genres=frozenset(prefs.prefer_genres),
    )


def extra_candidates(state: Mapping[str, Any], deps: Deps) -> list[int]:
    """Candidates retrieval by similarity misses: what followed the named movies in real
    conversations, and what people recommend most (when conversations trained counts).

    Co-watched neighbours are a signal, not a source: on ml-latest-small the most co-watched
    films of almost anything are the same classics (Forrest Gump, Pulp Fiction), which is
    what a person asking for "more like Toy Story" does not want to see.
    """
    tools = deps.tools
    out: list[int] = []
    if tools.conversation:
        named = mentioned_items(state, tools.catalog)
        out += tools.conversation.top_following(named, EXTRA_CANDIDATES)
        out += tools.conversation.top_recommended(EXTRA_CANDIDATES)
    return dedupe(i for i in out if i in tools.catalog)


def signal_weights(deps: Deps, warm: bool) -> Mapping[str, float]:
    """Learned weights for the cold path when real conversations trained some; else defaults.

    A signal the learned weights do not name (learned before it existed) keeps its default."""
    if warm:
        return WARM_WEIGHTS
    learned = deps.tools.conversation.weights
    return {**COLD_WEIGHTS, **learned} if learned else COLD_WEIGHTS


def pool_signals(
    state: Mapping[str, Any], deps: Deps, user: UserFacts
) -> tuple[list[int], np.ndarray]:
    """The turn's candidates and their (n, S) raw signals (see ``tools/scoring.py``)."""
    candidates = state.get("candidates", [])
    ids = [c.item_id for c in candidates]
    relevance = [c.retrieval for c in candidates]
    return ids, raw_signals(deps.tools, ids, turn_request(state, deps, user), relevance)


def spread_series(
    ranked: list[Candidate], catalog: Catalog, named: Sequence[int] = ()
) -> list[Candidate]:
    """The ranking with no series taking more than ``SERIES_FIRST`` places before every film of
    other series has had its place, and the series of the films the person named (``named``)
    after all of them: "something like The Matrix" does not open with Reloaded and
    Revolutions, and a franchise does not fill the list. Nothing is dropped.

    Measured on the dialogue benchmark (full dev set, 5-fold, same run conditions): without
    this R@10 0.174, NDCG@10 0.091; one film per series 0.171 / 0.089 (human recommenders do
    suggest a film and its sequel together); two per series with the named films' series last,
    the rule kept, 0.173 / 0.090; R@50 0.382 in all three (docs/dialogues.md)."""
    roots = {series_key(catalog.get(i).title) for i in named if i in catalog} - {""}
    placed: dict[str, int] = {}
    first: list[Candidate] = []
    later: list[Candidate] = []
    for candidate in ranked:
        key = series_key(catalog.get(candidate.item_id).title)
        if key and any(_same_series(key, root) for root in roots):
            later.append(candidate)
            continue
        series = next((seen for seen in placed if _same_series(key, seen)), key) if key else ""
        if series and placed.get(series, 0) >= SERIES_FIRST:
            later.append(candidate)
            continue
        first.append(candidate)
        if series:
            placed[series] = placed.get(series, 0) + 1
    return first + later


def _same_series(key: str, root: str) -> bool:
    """ "matrix reloaded" and "matrix": one names the other's series as whole words."""
    return key == root or key.startswith(root + " ") or root.startswith(key + " ")
