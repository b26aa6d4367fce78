"""The rule-based simulated user: offline, deterministic for a seed, and the LLM user's fallback.

It reveals a seeded plan of its target's attributes (:mod:`simulations.attributes`) through
varied templates (:mod:`simulations.templates`), with the odd typo, and redoes any draft the
strict leak guard flags. It reads the agent's reply as a person would: the films shown, and a
question when a sentence ends with "?" (what it asks about, from the simulator's own cue words).

A persona shapes how it talks (see ``PERSONAS``): *cooperative* answers and elaborates;
*terse* says the bare phrase; *impatient* leaves after two lists without its film; *contrarian*
rejects the first list whatever it holds; *target-free* speaks only from its own history (what a
real user's liked films say), and succeeds when its held-out item shows up.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence

from agent.llm import Usage
from catalog.domain import Catalog
from simulations.attributes import (
    SKIP_GENRES,
    Attr,
    Similar,
    plan_attributes,
    plan_from_history,
    similar_by_genres,
    singles_out,
    spoken_title,
)
from simulations.leak import leaks
from simulations.templates import ASKS, POSTFIX, TERSE, T, genre_phrase, typo, with_article
from simulations.types import PERSONAS, Persona, Target

AVOID_SHARE, MAX_AVOIDS = 0.35, 2  # how often a rejection says "no <genre>", and how many times
TYPO_SHARE = {"terse": 0.3}  # how often a message has a typo, by persona (default below)
DEFAULT_TYPO_SHARE = 0.12
SEEN_SHARE = 0.15  # how often a rejection says "seen it" about one of the shown films
IMPATIENT_MISSES = 2  # lists without the film before the impatient user leaves


class RuleBasedUser:
    """A deterministic simulated user: a seeded plan of the target's attributes, revealed one
    (two in the opening) at a time. A draft that leaks the target is redone (``leak_retries``)."""

    def __init__(
        self,
        target: Target,
        catalog: Catalog,
        seed: int,
        similar: Similar | None = None,
        persona: Persona = "cooperative",
    ) -> None:
        if persona not in PERSONAS:
            raise ValueError(f"unknown persona {persona!r}; use one of {PERSONAS}")
        self.target, self.persona = target, persona
        self.leak_retries = 0
        self.fallbacks = 0  # rules are the fallback; kept for the LLMUser's interface
        self.left = False  # the user gave up and left
        self.excluded: set[int] = set()  # shown and rejected, or "seen it"
        self.said: list[str] = []  # every message, for the leak measure
        self._catalog, self._item = catalog, catalog.get(target.item_id)
        self._rng = random.Random(f"{seed}:{target.user_id}:{target.item_id}:{persona}")
        self._revealed: list[Attr] = []
        self._shown: list[int] = []
        self._avoided: list[str] = []
        self._lists = 0  # lists seen without the film
        self._last = ""
        planner = plan_from_history if persona == "target-free" else plan_attributes
        self._plan = planner(target, catalog, self._rng, similar or similar_by_genres(catalog))
        self.liked = next((a.phrase for a in self._plan if a.kind == "similar"), None)

    @property
    def usage(self) -> Usage:
        return Usage()

    def plan_phrases(self) -> dict[str, list[str]]:
        """What the user may still say, by kind (the LLM user's facts)."""
        phrases: dict[str, list[str]] = {}
        for attr in [*self._revealed, *self._plan]:
            phrases.setdefault(attr.kind, []).append(attr.phrase)
        return phrases

    def opening(self) -> str:
        """The first request: a real person's first message when the target carries one (and it
        passes the leak guard), else one or two attributes in an opening template."""
        if self.target.opening and not self._leaks(self.target.opening):
            self._last = self.target.opening
            self.said.append(self._last)
            return self._last
        count = min(len(self._plan), self._rng.choice((1, 2)))
        attrs = [a for a in (self._take(()) for _ in range(count)) if a is not None]
        for n in range(len(attrs), -1, -1):  # when every draft leaks, drop an attribute
            templates = self._terse("any") or [t.replace("{np}", "{x}") for t in T["opening"]]
            drafts = [t.format(x=self._noun_phrase(attrs[:n])) for t in templates]
            text = self._first_clean(self._shuffled(drafts))
            if text:
                self._revealed += attrs[:n]
                return self._said(text)
        return self._said(self._safe())

    def accepts(self, recommended: Sequence[int]) -> bool:
        """The user takes the list: its film is there, and (contrarian) it is not the first list."""
        first = self.persona == "contrarian" and self._lists == 0 and not self._shown
        return self.target.item_id in recommended and not first

    def reply(self, action: str, reply_text: str, recommended: list[int]) -> str:
        """The message after a turn without the film: answer a question, or reject what was
        shown, revealing one more attribute either way; the impatient user may leave instead.
        ``action`` is not read: the reply is read as a person reads it."""
        if self.accepts(recommended):
            return self.accept_message()
        self.excluded.update(i for i in recommended if i != self.target.item_id)
        self._shown += [i for i in recommended if i not in self._shown]
        self._lists += bool(recommended)
        if self.persona == "impatient" and self._lists >= IMPATIENT_MISSES:
            self.left = True
            leave = self._terse("leave") or T["leave"]
            return self._said(self._first_clean(self._shuffled(leave)) or self._safe())
        self._queue_avoid()
        question = asked_question(reply_text)
        if question and not recommended:
            asked = [k for k, cue in ASKS.items() if re.search(rf"\b(?:{cue})", question)]
            said = [a for a in self._revealed if a.kind in asked]
            if said and not any(a.kind in asked for a in self._plan):  # asked again: restate
                said_np = self._noun_phrase(said[:1])
                return self._reveal([f"Like I said, {said_np}.", f"As I said, {said_np}."], [])
            return self._reveal(T["clarify"], asked)
        if recommended:
            leads = self._seen_it(recommended) or T["reject"]
            return self._reveal(leads, ["avoid"] if self._rng.random() < AVOID_SHARE else [])
        return self._reveal(T["nudge"], [])

    def _seen_it(self, recommended: Sequence[int]) -> list[str]:
        """Now and then "I've seen X" about a shown film (whether or not it was named before)."""
        others = [i for i in recommended if i != self.target.item_id and i in self._catalog]
        if self.persona == "terse" or not others or self._rng.random() >= SEEN_SHARE:
            return []
        name = spoken_title(self._catalog.get(self._rng.choice(others)))
        return [t.format(x=name) for t in T["seen"]]

    def accept_message(self) -> str:
        accept = self._terse("accept") or T["accept"]
        return self._said(self._first_clean(self._shuffled(accept)) or self._safe())

    def _terse(self, part: str) -> list[str]:
        """A terse user's templates for a part; empty for the other personas."""
        return list(TERSE[part]) if self.persona == "terse" else []

    def _queue_avoid(self) -> None:
        """Keep one pending "no <genre>": the genre the shown films had most, the target lacks."""
        self._plan = [a for a in self._plan if a.kind != "avoid"]
        if len(self._avoided) >= MAX_AVOIDS:
            return
        shown = Counter(
            g for i in self._catalog.known(self._shown) for g in self._catalog.get(i).genres
        )
        skip = set(self._item.genres) | SKIP_GENRES
        options = [genre_phrase(g, 2) for g, _ in shown.most_common() if g not in skip]
        self._plan += [Attr("avoid", g) for g in options if g not in self._avoided][:1]

    def _take(self, kinds: Sequence[str]) -> Attr | None:
        """The next attribute, of an asked kind if the plan has one; leaking ones are dropped."""
        while self._plan:
            pick = next((a for a in self._plan if a.kind in kinds), self._plan[0])
            self._plan.remove(pick)
            self._avoided += [pick.phrase] if pick.kind == "avoid" else []
            if not self._leaks(pick.phrase):
                return pick
            self.leak_retries += 1
        return None

    def _reveal(self, leads: Sequence[str], kinds: Sequence[str]) -> str:
        while (attr := self._take(kinds)) is not None:
            phrase, cap = attr.phrase, attr.phrase[:1].upper() + attr.phrase[1:]
            templates = self._terse("any") or T[attr.kind]
            leads = [""] if self.persona == "terse" else leads
            filled = [t.format(x=phrase, X=cap, a=with_article(phrase)) for t in templates]
            if text := self._first_clean(self._led(leads, filled)):
                self._revealed.append(attr)
                return self._said(text)
        for _ in range(4):  # nothing new to say: restate, never verbatim
            pool = self._revealed
            nps = [
                self._noun_phrase(self._rng.sample(pool, min(len(pool), 2))) for _ in T["restate"]
            ]
            drafts = self._led(
                leads, [t.format(np=np) for t, np in zip(T["restate"], nps, strict=True)]
            )
            if text := self._first_clean([d for d in drafts if d != self._last]):
                return self._said(text)
        return self._said(self._safe())

    def _led(self, leads: Sequence[str], sentences: Sequence[str]) -> list[str]:
        """The sentences shuffled, each after a lead ("Hmm," + "Something dark.")."""
        lead_order, drafts = self._shuffled(leads), []
        for n, sentence in enumerate(self._shuffled(sentences)):
            lead = lead_order[n % len(lead_order)]
            if lead.endswith(",") and not sentence.startswith(("I ", "I'")):
                sentence = sentence[:1].lower() + sentence[1:]
            drafts.append(f"{lead} {sentence}".strip())
        return drafts

    def _noun_phrase(self, attrs: Sequence[Attr]) -> str:
        """ "a dark sci-fi film from the 90s like The Matrix", from any attributes."""
        by = {a.kind: a.phrase for a in attrs}
        if "era2" in by:
            by["era"] = by.pop("era2")
        noun = self._rng.choice(("movie", "film"))
        genre, mood = by.pop("genre", None), by.pop("mood", None)
        if genre:
            core = with_article(" ".join(filter(None, (mood, genre, noun))))
        elif mood:
            core = self._rng.choice((f"something {mood}", with_article(f"{mood} {noun}")))
        else:
            core = self._rng.choice(("something", f"a {noun}"))
        return " ".join([core, *(POSTFIX[k].format(x=by[k]) for k in POSTFIX if k in by)])

    def _leaks(self, text: str) -> bool:
        """The draft names the film, or says a rare word or a name of its overview or tags."""
        return leaks(text, self.target.title, strict=True) or singles_out(
            text, self._item, self._catalog
        )

    def _shuffled(self, options: Sequence[str]) -> list[str]:
        return self._rng.sample(list(options), len(options))

    def _first_clean(self, drafts: Sequence[str]) -> str | None:
        for draft in drafts:
            if not self._leaks(draft):
                return draft
            self.leak_retries += 1
        return None

    def _safe(self) -> str:
        """A message with no attribute, for when every draft leaked."""
        options = ("Something else, please.", "Other ideas?", "Hmm.")
        return next((o for o in options if not self._leaks(o) and o != self._last), "...")

    def _said(self, text: str) -> str:
        if self._rng.random() < TYPO_SHARE.get(self.persona, DEFAULT_TYPO_SHARE):
            slipped = typo(text, self._rng)
            text = slipped if not self._leaks(slipped) else text
        self._last = text
        self.said.append(text)
        return text


def asked_question(reply: str) -> str:
    """The last sentence of the reply that ends with "?", lowercased ("" when none)."""
    sentences = re.findall(r"[^.!?\n]*\?", reply)
    return sentences[-1].strip().lower() if sentences else ""
