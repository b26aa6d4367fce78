"""Simulated users: each holds a hidden target and asks the recommender for it without naming it.

:class:`RuleBasedUser` (the default; offline, deterministic for a seed) reveals a seeded plan of
the target's attributes — genres, era, mood, tags, plot words, a similar film the user liked, and
genres to avoid — through varied templates. :class:`LLMUser` has a chat model write each message
and lets the rules speak when the model fails or keeps leaking. Every message passes the leak
guard (:mod:`simulations.leak`). Neither sees the recommender's internals: only its action, its
reply text and the ids it showed.

This module is the public face: :func:`make_user` picks a user for a mode. The parts live in
:mod:`simulations.attributes` (what a user knows, in what order), :mod:`simulations.templates`
(how it says it), :mod:`simulations.rule_user` and :mod:`simulations.llm_user`.
"""

from __future__ import annotations

from typing import Literal

from langchain_core.language_models import BaseChatModel

from agent.llm import UsageCounter
from catalog.domain import Catalog
from catalog.errors import ConfigurationError
from simulations.attributes import Similar, similar_by_genres
from simulations.llm_user import LLMUser
from simulations.rule_user import RuleBasedUser
from simulations.types import Persona, Target

__all__ = ["LLMUser", "RuleBasedUser", "Similar", "make_user", "similar_by_genres"]


def make_user(
    mode: Literal["rules", "llm"],
    target: Target,
    catalog: Catalog,
    seed: int,
    *,
    model: BaseChatModel | None = None,
    counter: UsageCounter | None = None,
    similar: Similar | None = None,
    persona: Persona = "cooperative",
) -> RuleBasedUser | LLMUser:
    """The simulated user for a mode and persona; ``"llm"`` needs a chat ``model``."""
    if mode == "rules":
        return RuleBasedUser(target, catalog, seed, similar, persona)
    if model is None:
        raise ConfigurationError("the LLM simulator needs a chat model")
    return LLMUser(target, catalog, seed, model, counter=counter, similar=similar, persona=persona)
