"""The one composition root: builds the retriever, ranker, planner, LLM and stores from settings."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from agent.context import AgentConfig, Deps
from agent.persistence import UserData
from agent.planner.offline import OfflinePlanner
from agent.settings import Settings
from catalog.artifacts import open_artifacts
from catalog.embeddings import Embedder, SentenceTransformerEmbedder
from catalog.index import configure_threads
from catalog.store import Store
from ranker import neighbours
from ranker.conversation import CONVERSATION_FILE, ConversationModel
from ranker.features import ItemFeatures
from ranker.pipeline import RankerPaths, load_scorer, visible_interactions
from ranker.protocol import leave_last_out
from tools.deps import ToolDeps
from tools.reranker import Reranker, UsageSink

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agent.llm import UsageCounter
    from agent.planner.base import Planner


def agent_config(settings: Settings) -> AgentConfig:
    """The agent's knobs; their defaults live in ``Settings`` only."""
    return AgentConfig(
        k=settings.k,
        retrieve_k=settings.retrieve_k,
        rank_keep=settings.rank_keep,
        rerank_top=settings.rerank_top,
        warm_threshold=settings.warm_threshold,
        max_clarifications=settings.max_clarifications,
        max_history=settings.ranker_max_history,
        llm_rerank=settings.llm_rerank,
        llm_rerank_warm=settings.llm_rerank_warm,
        llm_rephrase=settings.llm_rephrase,
        llm_history_items=settings.llm_history_items,
        max_message_chars=settings.max_message_chars,
        turn_deadline_s=settings.turn_deadline_s,
        turn_slots=settings.turn_slots,
    )


@dataclass
class LLMParts:
    """What an LLM adds: its planner, reranker, usage counter and the chat model itself."""

    planner: Planner | None = None
    reranker: Reranker | None = None
    usage: UsageCounter | None = None
    model: BaseChatModel | None = None


def chat_model(settings: Settings, *, cache: bool | None = None) -> Any:
    """The configured OpenAI-compatible chat model (``ChatOpenAI``); with the prompt cache in
    the app database when ``cache`` (default: ``RECBOT_LLM_CACHE``) is on."""
    from agent.llm import make_chat_model

    prompt_cache = None
    if settings.llm_cache if cache is None else cache:
        from agent.llm_cache import PromptCache

        prompt_cache = PromptCache(Store(settings.resolved_database_url))
    return make_chat_model(
        _base_url(settings),
        settings.llm_model,
        settings.resolved_llm_api_key,
        temperature=settings.llm_temperature,
        seed=settings.llm_seed,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        cache=prompt_cache,
        max_tokens=settings.llm_max_tokens,
    )


def _base_url(settings: Settings) -> str:
    """The configured endpoint, or with ``RECBOT_LLM=local`` the llama.cpp server recbot runs
    (started on first use, stopped with the process: :mod:`agent.local_llm`)."""
    if settings.llm != "local":
        return settings.llm_base_url or ""
    from agent.local_llm import ensure_server

    server = ensure_server(
        settings.local_llm_model,
        alias=settings.llm_model,
        context=settings.local_llm_context,
        threads=settings.local_llm_threads,
    )
    return server.base_url


def llm_parts(settings: Settings, genres: tuple[str, ...]) -> LLMParts:
    """The LLM planner and reranker when an LLM is configured; nothing otherwise (offline)."""
    if not settings.llm_configured:
        return LLMParts()
    from agent.llm import UsageCounter
    from agent.planner.llm import LLMPlanner

    usage = UsageCounter()
    model = chat_model(settings)
    planner = (
        LLMPlanner(
            model,
            genres,
            method=settings.llm_structured_method,
            counter=usage,
            style=settings.llm_planner_prompt,
        )
        if settings.llm_planner
        else None  # the offline rules read every message; the LLM reranks (and may rephrase)
    )
    return LLMParts(planner, llm_reranker(settings, model, usage), usage, model)


def llm_reranker(settings: Settings, model: Any, counter: UsageSink | None) -> Reranker:
    """The reranker of ``settings.llm_rerank_mode`` (listwise, verbalizer or pointwise) on
    ``model``, counting into ``counter``; each returns a ``tools.reranker.RerankResult``."""
    from agent.prompts import pointwise_messages, rerank_messages, verbalizer_messages
    from tools.rerank_modes import PointwiseReranker, VerbalizerReranker
    from tools.reranker import LLMReranker

    if settings.llm_rerank_mode == "verbalizer":
        return VerbalizerReranker(model, prompt=verbalizer_messages, counter=counter)
    if settings.llm_rerank_mode == "pointwise":
        return PointwiseReranker(
            model,
            prompt=pointwise_messages,
            counter=counter,
            max_candidates=settings.llm_pointwise_max,
        )
    return LLMReranker(model, prompt=rerank_messages, counter=counter)


def build_deps(
    settings: Settings, *, embedder: Embedder | None = None, llm: LLMParts | None = None
) -> Deps:
    """Open the built artifacts and assemble every dependency the graph's nodes use.

    ``llm`` replaces the LLM parts the settings describe (tests inject fakes there)."""
    configure_threads(1)
    # one query at a time: a second intra-op thread makes embedding a request slower under
    # load (measured here: 34 → 19 ms for a short request, 152 → 83 ms for a long one)
    torch.set_num_threads(1)
    config = settings.build_config()
    embedder = embedder or SentenceTransformerEmbedder(batch_size=settings.embedding_batch_size)
    artifacts = open_artifacts(config, embedder)
    embedder.embed(["warm-up"])  # load the model now, not during someone's first message
    catalog = artifacts.catalog
    store = Store(config.database_url, create=False)
    content = artifacts.index.vectors(catalog.ids)
    # the same visible interactions the ranker trained on: held-out items never count
    interactions = store.interactions()
    visible = visible_interactions(interactions, leave_last_out(interactions))
    features = ItemFeatures.build(catalog, content, visible)
    scorer = load_scorer(RankerPaths(config.artifacts), features)
    tools = ToolDeps(
        catalog,
        artifacts.retriever,
        scorer,
        conversation=ConversationModel.load(config.artifacts / CONVERSATION_FILE),
        neighbours=neighbours.load_or_fit(config.artifacts, visible),
        trending=neighbours.recent_counts(visible),
    )
    return assemble_deps(settings, tools=tools, users=UserData(store), llm=llm)


def assemble_deps(
    settings: Settings,
    *,
    tools: ToolDeps,
    users: UserData,
    llm: LLMParts | None = None,
    offline_planner: Planner | None = None,
) -> Deps:
    """``Deps`` from parts already built: the second half of :func:`build_deps`, and the one
    place tests and lever runs put their own tools, stores, planners or LLM parts.

    ``llm`` None means the LLM the settings describe (none when offline); its reranker, if any,
    joins ``tools``.
    """
    offline = offline_planner or OfflinePlanner(tools.catalog)
    llm = llm if llm is not None else llm_parts(settings, tools.catalog.genres)
    if llm.reranker is not None:
        tools = copy.copy(tools)
        tools.reranker = llm.reranker
    return Deps(
        tools=tools,
        planner=llm.planner or offline,
        offline_planner=offline,
        users=users,
        config=agent_config(settings),
        llm_usage=llm.usage,
        explainer=llm.model,
    )
