"""docs/agent.md carries a Mermaid drawing of the graph; this test keeps it true.

Regenerate with: UPDATE_DOCS=1 python -m pytest tests/unit/agent/test_graph_doc.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from agent.graph import build_graph

DOC = Path(__file__).resolve().parents[3] / "docs" / "agent.md"
BLOCK = re.compile(r"```mermaid\n(.*?)```", re.S)


def test_the_documented_graph_is_the_built_graph() -> None:
    drawing = build_graph().get_graph().draw_mermaid()
    text = DOC.read_text()
    match = BLOCK.search(text)
    assert match is not None, "docs/agent.md has no mermaid block"
    if os.environ.get("UPDATE_DOCS") == "1":
        DOC.write_text(text[: match.start(1)] + drawing + text[match.end(1) :])
        return
    assert match.group(1) == drawing, "the graph changed: regenerate docs/agent.md (see docstring)"


def test_every_stage_is_a_node() -> None:
    nodes = set(build_graph().get_graph().nodes)
    assert {
        "understand",
        "clarify",
        "retrieve",
        "filter",
        "rank",
        "rerank",
        "respond",
        "answer",
        "smalltalk",
    } <= nodes
