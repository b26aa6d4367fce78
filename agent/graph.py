"""The agent graph: every stage named in one place (node bodies live in ``agent/nodes``)."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agent.context import Deps
from agent.nodes.recommend import filter_stage, rank, rerank, retrieve
from agent.nodes.respond import answer, clarify, respond, smalltalk
from agent.nodes.understand import replay, understand
from agent.routing import after_rank, after_understand, at_start
from agent.state import AgentState


def build_graph(checkpointer: Any = None) -> Any:
    """[replay →] understand → route → clarify | retrieve → filter → rank → [rerank] → respond; answer; smalltalk."""
    graph = StateGraph(AgentState, context_schema=Deps)
    graph.add_node("replay", replay)
    graph.add_node("understand", understand)
    graph.add_node("clarify", clarify)
    graph.add_node("retrieve", retrieve)
    graph.add_node("filter", filter_stage)
    graph.add_node("rank", rank)
    graph.add_node("rerank", rerank)
    graph.add_node("respond", respond)
    graph.add_node("answer", answer)
    graph.add_node("smalltalk", smalltalk)

    graph.add_conditional_edges(START, at_start)
    graph.add_edge("replay", "understand")
    graph.add_conditional_edges("understand", after_understand)
    graph.add_edge("retrieve", "filter")
    graph.add_edge("filter", "rank")
    graph.add_conditional_edges("rank", after_rank)
    graph.add_edge("rerank", "respond")
    for last in ("clarify", "respond", "answer", "smalltalk"):
        graph.add_edge(last, END)
    return graph.compile(checkpointer=checkpointer)
