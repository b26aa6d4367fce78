"""The LLM simulated user: a chat model writes each message, the rules speak when it cannot.

The model sees what the user knows of its target (never the title) and the conversation, in the
prompt of :func:`agent.prompts.simulated_user_prompt`. It gets the rule user's leak-free facts
only — the genres, the year, tags and plot words many films share, a liked film — never the raw
overview, and each draft passes the same guard as the rules' (the title, and no rare word or name
of the film's overview or tags). The persona's instructions (``PERSONA_NOTES``) are added to the
prompt; accepting, leaving and what the user excluded follow the persona's rules exactly. A
:class:`RuleBasedUser` runs alongside every turn, so it always knows what has been revealed and
can speak for a turn the model fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agent.llm import Usage, UsageCounter
from agent.prompts import (
    SIMULATED_USER_RETRY,
    FilmFacts,
    recommender_line,
    simulated_user_line,
    simulated_user_prompt,
)
from catalog.domain import Catalog
from simulations.attributes import SKIP_GENRES, Similar, singles_out
from simulations.leak import leaks
from simulations.rule_user import RuleBasedUser
from simulations.types import Persona, Target

MAX_REASKS = 2
MAX_MESSAGE_CHARS = 400
# The simulator's own persona instructions, added to the simulated-user prompt.
PERSONA_NOTES: dict[str, str] = {
    "cooperative": "Answer questions helpfully and add a detail when a list misses.",
    "terse": "Write at most five words per message; never explain.",
    "impatient": "You are in a hurry and show it; keep messages short.",
    "contrarian": "You are hard to please: you dislike the first list you are shown.",
    "target-free": "You have no particular film in mind: talk about your taste, the kinds of "
    "films you liked and one or two of them by name.",
}


class LLMUser:
    """A simulated user whose messages a chat model writes from the target's attributes (never
    its title). A leaking draft is re-asked up to ``MAX_REASKS`` times; then, or when the model
    errs or times out, the rules speak for the turn (``fallbacks``)."""

    def __init__(
        self,
        target: Target,
        catalog: Catalog,
        seed: int,
        model: BaseChatModel,
        *,
        counter: UsageCounter | None = None,
        similar: Similar | None = None,
        persona: Persona = "cooperative",
    ) -> None:
        self.target, self.persona = target, persona
        self.leak_retries = 0
        self.fallbacks = 0
        self.errors = 0  # model calls that raised
        self._model, self._counter, self._catalog = model, counter, catalog
        self._rules = RuleBasedUser(target, catalog, seed, similar, persona)
        self._facts = self._known_facts()
        self._transcript: list[str] = []
        self._usage = Usage()

    @property
    def usage(self) -> Usage:
        return self._usage

    @property
    def left(self) -> bool:
        return self._rules.left

    @property
    def excluded(self) -> set[int]:
        return self._rules.excluded

    def accepts(self, recommended: list[int]) -> bool:
        return self._rules.accepts(recommended)

    def opening(self) -> str:
        return self._turn(self._rules.opening, opening=True)

    def reply(self, action: str, reply_text: str, recommended: list[int]) -> str:
        if self.accepts(recommended):
            return self.accept_message()
        shown = [self._catalog.get(i).display_title for i in self._catalog.known(recommended)]
        self._transcript.append(recommender_line(reply_text, shown))
        return self._turn(
            lambda: self._rules.reply(action, reply_text, recommended), shown=bool(shown)
        )

    def accept_message(self) -> str:
        return self._rules.accept_message()

    def _known_facts(self) -> FilmFacts:
        """What the rules may say: genres, year, common tags and plot words, a liked film; the
        target-free user knows only its taste (what its plan holds)."""
        item = self._catalog.get(self.target.item_id)
        plan = self._rules.plan_phrases()
        if self.persona == "target-free":
            return FilmFacts(
                genres=(),
                year=None,
                tags=tuple(plan.get("genre", ())),
                plot="",
                liked=self._rules.liked,
            )
        return FilmFacts(
            genres=tuple(g for g in item.genres if g not in SKIP_GENRES),
            year=item.year,
            tags=tuple(plan.get("tag", ())) + tuple(plan.get("mood", ())),
            plot=" ".join(plan.get("plot", ())),
            liked=self._rules.liked,
        )

    def _turn(self, rules: Callable[[], str], *, opening: bool = False, shown: bool = False) -> str:
        """One message: the model's clean draft, else the rules' message for this turn."""
        before = self._rules.leak_retries
        fallback = rules()  # every turn, so the rules know what has been revealed
        prompt = simulated_user_prompt(self._facts, self._transcript, opening=opening, shown=shown)
        messages = prompt.messages()
        messages.append(HumanMessage(f"How you behave: {PERSONA_NOTES[self.persona]}"))
        text = None
        for _ in range(1 + MAX_REASKS):
            draft = self._ask(messages)
            if draft is None:  # the call failed: no point asking again this turn
                break
            if draft and not self._leaks(draft):
                text = draft
                break
            self.leak_retries += bool(draft)
            messages += [AIMessage(draft), HumanMessage(SIMULATED_USER_RETRY)] if draft else []
        if text is None:
            self.fallbacks += 1
            self.leak_retries += self._rules.leak_retries - before
            text = fallback
        self._transcript.append(simulated_user_line(text))
        return text

    def _leaks(self, draft: str) -> bool:
        item = self._catalog.get(self.target.item_id)
        return leaks(draft, self.target.title) or singles_out(draft, item, self._catalog)

    def _ask(self, messages: list[BaseMessage]) -> str | None:
        """The model's cleaned draft ("" when empty), or ``None`` when the call failed."""
        try:
            answer = self._model.invoke(messages)
        except Exception:  # timeouts, HTTP and parsing errors alike: the rules take over
            self.errors += 1
            return None
        if self._counter is not None:
            self._counter.record(answer)
        usage = getattr(answer, "usage_metadata", None) or {}
        self._usage = self._usage + Usage(
            calls=1,
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
        )
        text = " ".join(answer.text.split())
        text = re.sub(r"^(?:user|you|me)\s*:\s*", "", text, flags=re.IGNORECASE)
        return text.strip("\"'“” ")[:MAX_MESSAGE_CHARS]
