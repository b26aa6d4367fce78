"""The rule-based simulated user: offline, deterministic for a seed, and the LLM user's fallback.

It reveals a seeded plan of its target's attributes (:mod:`simulations.attributes`) through
varied templates (:mod:`simulations.templates`), and redoes any draft the strict leak guard
flags.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence

from agent.llm import Usage
from catalog.domain import Catalog
from simulations.attributes import SKIP_GENRES, Attr, Similar, plan_attributes, similar_by_genres
from simulations.leak import leaks
from simulations.templates import ASKS, POSTFIX, T, genre_phrase, with_article
from simulations.types import Target

AVOID_SHARE, MAX_AVOIDS = 0.35, 2  # how often a rejection says "no <genre>", and how many times


class RuleBasedUser:
    """A deterministic simulated user: a seeded plan of the target's attributes, revealed one
    (two in the opening) at a time. A draft that leaks the target is redone (``leak_retries``)."""

    def __init__(
        self, target: Target, catalog: Catalog, seed: int, similar: Similar | None = None
    ) -> None:
        self.target = target
        self.leak_retries = 0
        self.fallbacks = 0  # rules are the fallback; kept for the LLMUser's interface
        self._catalog, self._item = catalog, catalog.get(target.item_id)
        self._rng = random.Random(f"{seed}:{target.user_id}:{target.item_id}")
        self._revealed: list[Attr] = []
        self._shown: list[int] = []
        self._avoided: list[str] = []
        self._last = ""
        self._plan = plan_attributes(
            target, catalog, self._rng, similar or similar_by_genres(catalog)
        )
        self.liked = next((a.phrase for a in self._plan if a.kind == "similar"), None)

    @property
    def usage(self) -> Usage:
        return Usage()

    def opening(self) -> str:
        """The first request: one or two attributes in an opening template."""
        count = min(len(self._plan), self._rng.choice((1, 2)))
        attrs = [a for a in (self._take(()) for _ in range(count)) if a is not None]
        for n in range(len(attrs), -1, -1):  # when every draft leaks, drop an attribute
            drafts = [t.format(np=self._noun_phrase(attrs[:n])) for t in T["opening"]]
            text = self._first_clean(self._shuffled(drafts))
            if text:
                self._revealed += attrs[:n]
                return self._said(text)
        return self._said(self._safe())

    def reply(self, action: str, reply_text: str, recommended: list[int]) -> str:
        """The message after a turn without the target: answer a clarifying question, or reject
        what was shown, revealing one more attribute either way."""
        if self.target.item_id in recommended:
            return self.accept_message()
        self._shown += [i for i in recommended if i not in self._shown]
        self._queue_avoid()
        if action == "clarify":
            asked = [k for k, cue in ASKS.items() if re.search(rf"\b(?:{cue})", reply_text.lower())]
            said = [a for a in self._revealed if a.kind in asked]
            if said and not any(a.kind in asked for a in self._plan):  # asked again: restate
                said_np = self._noun_phrase(said[:1])
                return self._reveal([f"Like I said, {said_np}.", f"As I said, {said_np}."], [])
            return self._reveal(T["clarify"], asked)
        if recommended:
            return self._reveal(T["reject"], ["avoid"] if self._rng.random() < AVOID_SHARE else [])
        return self._reveal(T["nudge"], [])

    def accept_message(self) -> str:
        return self._said(self._first_clean(self._shuffled(T["accept"])) or self._safe())

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
            filled = [t.format(x=phrase, X=cap, a=with_article(phrase)) for t in T[attr.kind]]
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
        return leaks(text, self.target.title, strict=True)

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
        self._last = text
        return text
