"""Learning from real conversations: counts of what people recommend, and how to weigh signals.

``recbot train`` (with ``RECBOT_DIALOGUES_DIR``) and the dialogue benchmark share this:

1. a :class:`ConversationModel` of counts per cross-validation fold, each fitted without its
   fold's conversations;
2. for every sample, the agent replays the context (``must_recommend``) with the model of the
   sample's own fold, and the candidates it ranked are kept with their signals
   (``agent.ranking.pool_signals``) and which of them the human recommender named;
3. signal weights for each fold fitted on the other folds' pools
   (:func:`ranker.conversation.fit_weights`), so a sample is never scored by weights or counts
   learned from its own conversation.

The shipped model is then fitted on every conversation (counts) and every pool (weights).
Caveat, kept honest: the signals of a training pool come from counts that include the test
fold's conversations (the pools are captured once, not per outer fold); only the few global
weights can carry that, never a test sample's own targets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.messages import HumanMessage

from agent.context import Deps
from agent.ranking import pool_signals
from agent.recommender import Recommender, Reply
from agent.state import UserFacts
from catalog.redial import DialogueSample, all_samples, fold_of, load_dialogues
from jobs.dialogue_systems import transcript_of
from jobs.dialogues import FOLDS
from ranker.conversation import (
    CONVERSATION_FILE,
    ConversationExample,
    ConversationModel,
    Pool,
    fit_weights,
)
from tools.scoring import COLD_WEIGHTS, SIGNALS, standardised_signals

Log = Callable[[str], None]


def conversation_example(sample: DialogueSample) -> ConversationExample:
    """A sample as the counts see it, with its conversation (for the co-mention counts)."""
    return ConversationExample(sample.mentioned, sample.targets, sample.dialogue_id)


def fold_models(samples: Sequence[DialogueSample], folds: int = FOLDS) -> list[ConversationModel]:
    """One conversation model per fold, each fitted on the conversations of the other folds."""
    return [
        ConversationModel.fit(
            conversation_example(s) for s in samples if fold_of(s.dialogue_id, folds) != fold
        )
        for fold in range(folds)
    ]


@dataclass(frozen=True)
class CapturedPool:
    fold: int
    pool: Pool


def capture_pools(
    deps: Deps,
    samples: Sequence[DialogueSample],
    models: Sequence[ConversationModel],
    *,
    progress: bool = True,
) -> list[CapturedPool]:
    """Replay each sample with its fold's counts; keep the ranked pool's signals and labels."""
    from tqdm import tqdm

    recommenders = [Recommender(deps.with_conversation(model)) for model in models]
    out: list[CapturedPool] = []
    for sample in tqdm(samples, desc="learning from dialogues", disable=not progress):
        fold = fold_of(sample.dialogue_id, len(models))
        recommender = recommenders[fold]
        reply = recommender.reply(transcript_of(sample), k=1, must_recommend=True, keep_pool=True)
        ids, raw = pool_signals(ranked_state(recommender, reply), recommender.deps, UserFacts())
        if not ids:
            continue
        chosen = np.isin(np.array(ids), np.array(sample.targets))
        out.append(CapturedPool(fold, Pool(standardised_signals(raw), chosen)))
    return out


def ranked_state(recommender: Recommender, reply: Reply) -> dict[str, Any]:
    """The state as the rank node saw it: after the turn, less what the turn itself added (its
    picks in ``shown`` and its answer's message), with the pool the turn returned (``reply`` with
    ``keep_pool``). Counted as named, the turn's own picks would
    feed the signals built on the conversation's mentions, which the agent never sees when it
    ranks."""
    config = {"configurable": {"thread_id": reply.thread_id}}
    state = dict(recommender.graph.get_state(config).values)
    picked = {r.item_id for r in reply.recommendations}
    state["shown"] = [i for i in state.get("shown", []) if i not in picked]
    messages = list(state.get("messages", []))
    asked = max((n for n, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    state["messages"] = messages[: asked + 1]
    state["candidates"] = reply.pool  # not stored with the conversation; the turn returned it
    return state


CONVERSATION_SIGNALS = ("conversation", "follows", "together")


def without_conversation(pool: Pool) -> Pool:
    """The pool as a catalog without conversation counts sees it (those signals at 0)."""
    signals = pool.signals.copy()
    for name in CONVERSATION_SIGNALS:
        signals[:, SIGNALS.index(name)] = 0.0
    return Pool(signals, pool.chosen)


def weights_for(pools: Sequence[Pool], *, conversation: bool = True) -> dict[str, float]:
    """Signal weights fitted on ``pools``; without the conversation signals when a catalog
    will have no conversation counts to use (a fresh install's defaults)."""
    if not conversation:
        pools = [without_conversation(p) for p in pools]
    weights = fit_weights(pools, SIGNALS, prior=COLD_WEIGHTS)
    return {k: v for k, v in weights.items() if conversation or k not in CONVERSATION_SIGNALS}


def fold_weights(
    pools: Sequence[CapturedPool], folds: int = FOLDS, *, conversation: bool = True
) -> list[dict[str, float]]:
    """Per fold, weights fitted on the other folds' pools."""
    return [
        weights_for([p.pool for p in pools if p.fold != fold], conversation=conversation)
        for fold in range(folds)
    ]


def cross_validated_models(
    deps: Deps, samples: Sequence[DialogueSample], *, progress: bool = True
) -> tuple[list[ConversationModel], list[CapturedPool]]:
    """One fully learned model per fold (counts and weights without that fold), and the pools."""
    models = fold_models(samples)
    pools = capture_pools(deps, samples, models, progress=progress)
    weights = fold_weights(pools)
    return [m.with_weights(w) for m, w in zip(models, weights, strict=True)], pools


def train_conversation_model(
    deps: Deps,
    directory: Path,
    artifacts: Path,
    *,
    progress: bool = True,
    log: Log = print,
) -> ConversationModel:
    """``recbot train``: learn from every conversation in ``directory``; save to ``artifacts``."""
    data = load_dialogues(directory, deps.tools.catalog.ids)
    samples = all_samples(data.dialogues)
    log(f"Learning from {len(data.dialogues)} conversations ({len(samples)} recommendations) …")
    _models, pools = cross_validated_models(deps, samples, progress=progress)
    weights = weights_for([p.pool for p in pools])
    model = ConversationModel.fit(conversation_example(s) for s in samples).with_weights(weights)
    model.save(artifacts / CONVERSATION_FILE)
    log("weights       " + ", ".join(f"{k} {v:+.2f}" for k, v in weights.items()))
    plain = weights_for([p.pool for p in pools], conversation=False)
    log("without conversation counts " + ", ".join(f"{k} {v:+.2f}" for k, v in plain.items()))
    return model
