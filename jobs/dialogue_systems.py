"""The systems the dialogue benchmark compares: recbot itself and the floors it has to beat."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from catalog.redial import DialogueSample
from jobs.dialogues import FOLDS, LIST_LENGTH, System, format_table, report, run_systems
from ranker.baselines import ItemKNNScorer
from ranker.conversation import ConversationModel
from ranker.types import UserContext

if TYPE_CHECKING:
    from agent.context import Deps
    from agent.recommender import Recommender
    from agent.settings import Settings
    from catalog.domain import Catalog, Interaction
    from catalog.embeddings import Embedder
    from catalog.search import Retriever

# the floors look a little past the list so that removing mentioned items never shortens it
POOL = LIST_LENGTH + 50


def transcript_of(sample: DialogueSample) -> list[dict[str, str]]:
    """The context as a chat transcript (seeker = user, recommender = assistant)."""
    return [{"role": turn.role, "content": turn.text} for turn in sample.context]


def recbot_system(
    make: Callable[[ConversationModel], Recommender], *, k: int = LIST_LENGTH
) -> System:
    """recbot on the whole context, never asking a question (``must_recommend``); ``make``
    builds the recommender that uses a fold's conversation model (once per fold)."""
    built: dict[int, Recommender] = {}
    spent = LLMSpend()

    def answer(sample: DialogueSample, model: ConversationModel) -> list[int]:
        if id(model) not in built:
            built[id(model)] = make(model)
        counters = built[id(model)].deps.counters
        before = counters.planner_fallbacks + counters.rerank_fallbacks
        reply = built[id(model)].reply(transcript_of(sample), k=k, must_recommend=True)
        fell_back = counters.planner_fallbacks + counters.rerank_fallbacks > before
        spent.add(reply.llm.calls, reply.llm.input_tokens + reply.llm.output_tokens, fell_back)
        return [r.item_id for r in reply.recommendations]

    answer.llm = spent  # type: ignore[attr-defined]  # read by run_dialogue_benchmark
    return answer


@dataclass
class LLMSpend:
    """LLM calls and tokens a system spent over the samples (0 on the offline path)."""

    calls: int = 0
    tokens: int = 0
    turns: int = 0
    fallbacks: int = 0  # turns in which an LLM step took the offline path (failure or deadline)

    def add(self, calls: int, tokens: int, fell_back: bool = False) -> None:
        self.calls += calls
        self.tokens += tokens
        self.turns += 1
        self.fallbacks += int(fell_back)

    def per_turn(self) -> dict[str, float]:
        turns = max(self.turns, 1)
        return {
            "llm_calls_per_turn": self.calls / turns,
            "llm_tokens_per_turn": self.tokens / turns,
            "llm_fallback_rate": self.fallbacks / turns,
        }


def popularity_system(popular: Sequence[int]) -> System:
    top = list(popular[:POOL])

    def answer(sample: DialogueSample, model: ConversationModel) -> list[int]:
        return top

    return answer


def ml_cooccurrence_system(interactions: Sequence[Interaction], catalog: Catalog) -> System:
    """Item-kNN on MovieLens ratings from every movie named in the context (popularity without)."""
    knn = ItemKNNScorer.fit(interactions, neighbours=100, recency=1.0)
    everything = catalog.ids

    def answer(sample: DialogueSample, model: ConversationModel) -> list[int]:
        context = UserContext(history=tuple(reversed(sample.mentioned)))
        scores = knn.score(context, everything)
        top = np.argsort(-scores, kind="stable")[:POOL]
        return [everything[j] for j in top]

    return answer


def content_system(retriever: Retriever) -> System:
    """Embedding retrieval: the named movies' centroid, else the seeker's words."""

    def answer(sample: DialogueSample, model: ConversationModel) -> list[int]:
        if sample.mentioned:
            hits = retriever.by_items(sample.mentioned, POOL)
        else:
            words = " ".join(t.text for t in sample.context if t.role == "user").strip()
            hits = retriever.by_text(words, POOL) if words else []
        return [hit.item_id for hit in hits]

    return answer


def dialogue_popularity_system() -> System:
    """How often each movie is recommended in the other folds' conversations."""

    def answer(sample: DialogueSample, model: ConversationModel) -> list[int]:
        return model.top_recommended(POOL)

    return answer


def dialogue_follows_system() -> System:
    """Movies recommended after the context's mentions in other conversations, then the most
    recommended ones."""

    def answer(sample: DialogueSample, model: ConversationModel) -> list[int]:
        following = model.top_following(sample.mentioned, POOL)
        return list(dict.fromkeys([*following, *model.top_recommended(POOL)]))[:POOL]

    return answer


FLOORS = (
    "recbot-untrained",
    "recbot-defaults",
    "popularity",
    "ml-cooccurrence",
    "content",
    "dialogue-popularity",
    "dialogue-follows",
)


def run_dialogue_benchmark(
    settings: Settings,
    directory: Path,
    out_dir: Path,
    *,
    limit: int | None = None,
    systems: Sequence[str] | None = None,
    embedder: Embedder | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Load the dialogues, run recbot and the floors on every sample, write the report.

    ``limit`` keeps the first N conversations of the file (a slice for CI).
    """
    from agent.recommender import Recommender
    from agent.wiring import build_deps
    from catalog.redial import all_samples, load_dialogues
    from catalog.store import Store
    from ranker.pipeline import visible_interactions
    from ranker.protocol import leave_last_out

    deps: Deps = build_deps(settings, embedder=embedder)
    catalog = deps.tools.catalog
    data = load_dialogues(directory, catalog.ids)
    dialogues = data.dialogues[:limit] if limit else data.dialogues
    samples = all_samples(dialogues)
    log(
        f"{len(dialogues)} conversations, {len(samples)} samples, "
        f"{sum(len(s.targets) for s in samples)} (sample, target) pairs"
    )
    interactions = Store(settings.build_config().database_url, create=False).interactions()
    builders: dict[str, Callable[[], System]] = {
        "recbot": lambda: recbot_system(lambda model: Recommender(deps.with_conversation(model))),
        # what a fresh install gives: no conversation counts, the default weights
        "recbot-defaults": lambda: recbot_system(
            lambda _model: Recommender(deps.with_conversation(ConversationModel()))
        ),
        # a catalog without conversation counts, with weights learned on the other folds
        "recbot-untrained": lambda: recbot_system(
            lambda model: Recommender(
                deps.with_conversation(ConversationModel().with_weights(plain[id(model)]))
            )
        ),
        "popularity": lambda: popularity_system(deps.tools.popular),
        "ml-cooccurrence": lambda: ml_cooccurrence_system(
            visible_interactions(interactions, leave_last_out(interactions)), catalog
        ),
        "content": lambda: content_system(deps.tools.retriever),
        "dialogue-popularity": dialogue_popularity_system,
        "dialogue-follows": dialogue_follows_system,
    }
    systems = list(systems or ("recbot", *FLOORS))
    unknown = [name for name in systems if name not in builders]
    if unknown:
        raise ValueError(f"unknown systems {unknown}; choose from {sorted(builders)}")
    models = None
    plain: dict[int, dict[str, float]] = {}  # fold model → its weights without conversation signals
    if "recbot" in systems or "recbot-untrained" in systems:
        from jobs.conversation_training import cross_validated_models, fold_weights

        log("Learning from the other folds' conversations, per fold …")
        models, pools = cross_validated_models(deps, samples, progress=progress)
        plain.update(
            (id(m), w) for m, w in zip(models, fold_weights(pools, conversation=False), strict=True)
        )
        for fold, model in enumerate(models):
            log(f"  fold {fold}: " + ", ".join(f"{k} {v:+.2f}" for k, v in model.weights.items()))
    built = {name: builders[name]() for name in systems}
    results = run_systems(samples, built, models=models, progress=progress)
    for result in results:  # what the LLM cost, for the systems that may call one
        spend = getattr(built[result.name], "llm", None)
        if isinstance(spend, LLMSpend):
            result.extra.update(spend.per_turn())
    log(format_table(results))
    return report(
        results,
        samples,
        out_dir,
        {
            "folds": FOLDS,
            "dialogues_dir": directory.name,
            "conversations": len(dialogues),
            "unmapped_mentions": data.unmapped_mentions,
            "mapped_mentions": data.mapped_mentions,
            "catalog_items": len(catalog),
            "overviews": any(item.overview for item in catalog),
            "fold_weights": [m.weights for m in models or []],
        },
    )
