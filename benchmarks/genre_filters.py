"""Where the hard genre filters that remove the dialogue benchmark's targets come from.

Replays every sample of a ReDial folder the way the agent does (recbot's numbered lists and
every user turn through the offline planner, ``agent.dialog.fold_plan``), remembers for each
wanted genre which user turn last stated it and under which cue, and counts the (sample, target)
pairs the turn's genre filter would remove, by where the genre came from:

* ``current request``: the last seeker message asks for it ("any comedies?", "a horror movie");
* ``current preference``: the last seeker message states a taste ("I like comedies");
* ``earlier request`` / ``earlier preference``: the same, in an earlier seeker message;
* ``recommender first``: the genre word was in a recommender turn before the seeker's (the
  planner never reads the recommender's words, so this is an echo: "do you like horror?" "yes");
* ``label mismatch``: the target's own tags or overview use a word of the asked genre although
  its MovieLens genres lack it (a comedy-drama labelled only Drama).

It also reports, for every source, how many of the targets that source's filter sees pass it:
a filter whose targets mostly fail is not what the seeker's words meant as a must-have.

Needs a built home (RECBOT_HOME / RECBOT_DATA_DIR as for ``recbot eval``); reads only the
catalog, no index or ranker, so it runs in about a minute::

    python benchmarks/genre_filters.py /work/shared/data/redial-dev [--examples 5] [--json F]
"""

# ruff: noqa: E402  (the path fix below must run before the project imports)
from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from agent.dialog import fold_plan, planner_context, titles_in
from agent.lexicon import GENRE_SYNONYMS, MOODS, normalize_text
from agent.planner import OfflinePlanner
from agent.planner.audience import Audience
from agent.planner.building import CHILD_GENRES
from agent.planner.walk import Genres
from agent.planner.words import read_words
from agent.settings import Settings
from catalog.domain import Catalog, Item
from catalog.redial import DialogueSample, all_samples, load_dialogues
from catalog.sequences import dedupe
from catalog.store import Store

PREFERENCE_CUES = frozenset({"pos"})  # "I like", "love", "fan of", "my favorite"


@dataclass
class Origin:
    """Where a wanted genre was last stated."""

    turn: int  # index of the seeker message among the context's seeker messages
    cue: str  # how it was said: "preference", "request" or "mention" (see cue_of)
    text: str
    recommender_first: bool = False


@dataclass
class Replay:
    prefs: Any = None
    origins: dict[str, Origin] = field(default_factory=dict)
    seeker_turns: int = 0


def genre_words(genre: str) -> set[str]:
    """Words that name ``genre`` in tags and overviews: the lexicon's genre phrases and the
    words of moods that stand for that one genre ("funny" for Comedy, "scary" for Horror)."""
    words = {normalize_text(p) for p, names in GENRE_SYNONYMS.items() if genre in names}
    for mood in MOODS.values():
        if mood.genres_up == {genre}:
            words |= set(mood.words)
    return {w for w in words if w}


def cue_of(planner: OfflinePlanner, text: str, context: Any) -> dict[str, str]:
    """How each genre the message names is said (first naming wins): ``preference`` under a
    liking cue ("I love comedies"), ``request`` under a wanting cue or in a message that asks
    ("looking for a comedy", "any horror?", "a comedy please"), else ``mention``."""
    words = read_words(text[:2000])
    if not words:
        return {}
    reading = planner._read(text[:2000], words, context)  # a diagnosis reads the planner's reading
    asks = reading.requests or reading.is_question
    out: dict[str, str] = {}
    for mention in reading.walk.mentions:
        what = mention.span.what
        names: tuple[str, ...] = ()
        if isinstance(what, Genres):
            names = what.names
        elif isinstance(what, Audience):
            names = tuple(CHILD_GENRES)
        kind = mention.cue.kind if mention.cue else "none"
        said = (
            "preference"
            if kind in PREFERENCE_CUES
            else "request"
            if kind == "want" or asks
            else "mention"
        )
        for genre in names:
            out.setdefault(genre, said)
    return out


def replay(sample: DialogueSample, planner: OfflinePlanner, deps: Any) -> Replay:
    """The sample's context read as the agent reads a transcript, with each genre's origin."""
    state: dict[str, Any] = {"shown": [], "last_shown": []}
    out = Replay()
    said_by_recommender: list[str] = []
    for turn in sample.context:
        if turn.role == "assistant":
            named = titles_in(turn.text, deps)
            state["shown"] = dedupe([*state["shown"], *named])
            if named:
                state["last_shown"], state["focus"] = named, None
            said_by_recommender.append(normalize_text(turn.text))
            continue
        context = planner_context(state, deps)
        plan = planner.plan(turn.text, context)
        cues = cue_of(planner, turn.text, context)
        state.update(fold_plan(state, plan, deps))
        for genre in [*plan.include_genres, *plan.require_genres]:
            earlier = " ".join(said_by_recommender)
            first = any(f" {w} " in f" {earlier} " for w in genre_words(genre))
            out.origins[genre] = Origin(
                out.seeker_turns, cues.get(genre, "none"), turn.text[:160], first
            )
        out.seeker_turns += 1
    out.prefs = state.get("preferences")
    return out


def blocking_genres(item: Item, include: list[str], require: list[str]) -> list[str]:
    """The wanted genres that make the filter remove ``item`` ([] when it passes)."""
    have = {g.casefold() for g in item.genres}
    missing = [g for g in require if g.casefold() not in have]
    if include and not any(g.casefold() in have for g in include):
        missing = dedupe([*missing, *include])
    return missing


def source_of(origin: Origin, last_turn: int) -> str:
    when = "current" if origin.turn == last_turn else "earlier"
    return f"{when} {origin.cue}"


def mismatch(item: Item, genres: list[str]) -> bool:
    """The item's own words say it is of one of ``genres`` although its labels do not."""
    text = f" {normalize_text(' '.join([*item.tags, item.overview or '']))} "
    return any(f" {w} " in text for g in genres for w in genre_words(g))


@dataclass
class Tally:
    """The counts the report prints."""

    pairs: int = 0
    removed: int = 0
    by_year: int = 0
    by_excluded: int = 0
    under_filter: Counter[str] = field(default_factory=Counter)  # targets under such a filter
    removed_by: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    asked_vs_labels: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def count_sample(
    tally: Tally, sample: DialogueSample, read: Replay, catalog: Catalog, examples: int
) -> None:
    """Add one sample's (sample, target) pairs to ``tally``."""
    prefs, last = read.prefs, read.seeker_turns - 1
    include, require = list(prefs.include_genres), list(prefs.require_genres)
    sources = {source_of(read.origins[g], last) for g in [*include, *require] if g in read.origins}
    excluded = {g.casefold() for g in prefs.exclude_genres}
    for target in sample.targets:
        tally.pairs += 1
        item = catalog.get(target)
        tally.under_filter.update(sources)
        low, high = prefs.year_min, prefs.year_max
        tally.by_year += bool(
            item.year and ((low and item.year < low) or (high and item.year > high))
        )
        tally.by_excluded += bool({g.casefold() for g in item.genres} & excluded)
        blocking = blocking_genres(item, include, require)
        if not blocking:
            continue
        tally.removed += 1
        # the newest origin among the blocking genres decides the pair's source
        origins = [read.origins[g] for g in blocking if g in read.origins]
        origin = max(origins, key=lambda o: o.turn, default=None)
        source = source_of(origin, last) if origin else "unknown"
        tally.removed_by[source] += 1
        if origin and origin.recommender_first:
            tally.flags["recommender first"] += 1
        if mismatch(item, blocking):
            tally.flags["label mismatch"] += 1
            tally.flags[f"label mismatch, {source}"] += 1
        tally.asked_vs_labels[f"{'+'.join(blocking)} -> {'|'.join(item.display_genres)}"] += 1
        if origin and len(tally.examples[source]) < examples:
            tally.examples[source].append(f"{origin.text!r} -> {item.display_title}")


def report(tally: Tally, samples: int) -> None:
    removed = max(tally.removed, 1)
    print(f"{samples} samples, {tally.pairs} (sample, target) pairs")
    print(f"removed by a wanted-genre filter: {tally.removed} ({tally.removed / tally.pairs:.1%})")
    print(f"removed by a year range: {tally.by_year}; by an excluded genre: {tally.by_excluded}")
    print(
        "\n| source of the genre | pairs removed | share of removed | targets under such a filter"
        " | of them removed |\n| --- | --- | --- | --- | --- |"
    )
    for source, n in tally.removed_by.most_common():
        under = tally.under_filter.get(source, 0)
        rate = f"{n / under:.0%}" if under else "-"
        print(f"| {source} | {n} | {n / removed:.0%} | {under} | {rate} |")
    print("\nflags among removed pairs:")
    for flag, n in sorted(tally.flags.items()):
        print(f"  {flag}: {n} ({n / removed:.0%})")
    print("\nmost common (asked -> target's genres):")
    for what, n in tally.asked_vs_labels.most_common(12):
        print(f"  {n:4d}  {what}")
    for source, lines in tally.examples.items():
        print(f"\n{source}:\n" + "\n".join(f"  {line}" for line in lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dialogues", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="first N conversations")
    parser.add_argument("--examples", type=int, default=4, help="messages shown per source")
    parser.add_argument("--json", type=Path, default=None, help="write the counts here")
    args = parser.parse_args()
    config = Settings().build_config()
    catalog: Catalog = Store(config.database_url, create=False).load_catalog()
    planner = OfflinePlanner(catalog)
    deps = SimpleNamespace(tools=SimpleNamespace(catalog=catalog))
    data = load_dialogues(args.dialogues, catalog.ids)
    samples = all_samples(data.dialogues[: args.limit] if args.limit else data.dialogues)
    tally = Tally()
    for sample in samples:
        count_sample(tally, sample, replay(sample, planner, deps), catalog, args.examples)
    report(tally, len(samples))
    if args.json:
        counts = {k: v for k, v in vars(tally).items() if k not in ("examples", "asked_vs_labels")}
        args.json.write_text(json.dumps(counts, indent=2))


if __name__ == "__main__":
    main()
