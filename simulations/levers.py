"""The cost levers' part of the report: quality against tokens for each lever.

A lever is the LLM-rerank agent with one setting changed (prompt cache, history in prompts,
rerank depth, routing known users away, predictor mode); ``recbot simulate --lever …`` runs it
as an extra system on the same targets. Each row compares it with ``agent+llm-rerank``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from simulations.metrics import SystemSummary
from simulations.types import SessionRecord

REFERENCE = "agent+llm-rerank"
LEVER_PREFIX = REFERENCE + "["


def is_lever(system: str) -> bool:
    return system.startswith(LEVER_PREFIX)


@dataclass
class LeverRow:
    system: str
    lever: str
    success: float | None
    tokens_per_session: float
    calls_per_session: float
    cache_hits_per_session: float
    tokens_saved_per_session: float
    success_delta_pp: float | None = None
    tokens_vs_reference: float | None = None


def lever_rows(
    records: Sequence[SessionRecord], summaries: Sequence[SystemSummary]
) -> list[LeverRow]:
    """One row per LLM-rerank system: success, tokens, calls and cache use per session."""
    by_system = {s.system: s.overall for s in summaries}
    rows: list[LeverRow] = []
    for system in [REFERENCE, *sorted(s for s in by_system if is_lever(s))]:
        if system not in by_system:
            continue
        mine = [r for r in records if r.system == system]
        sessions = max(len(mine), 1)
        turns = [t for r in mine for t in r.turns]
        rows.append(
            LeverRow(
                system=system,
                lever=system[len(LEVER_PREFIX) : -1] if is_lever(system) else "(reference)",
                success=by_system[system].success_rate,
                tokens_per_session=sum(t.llm.input_tokens + t.llm.output_tokens for t in turns)
                / sessions,
                calls_per_session=sum(t.llm.calls for t in turns) / sessions,
                cache_hits_per_session=sum(t.llm.cache_hits for t in turns) / sessions,
                tokens_saved_per_session=sum(t.llm.tokens_saved for t in turns) / sessions,
            )
        )
    reference = next((r for r in rows if r.system == REFERENCE), None)
    for row in rows:
        if reference is None:
            continue
        if row.success is not None and reference.success is not None:
            row.success_delta_pp = 100 * (row.success - reference.success)
        if reference.tokens_per_session:
            row.tokens_vs_reference = row.tokens_per_session / reference.tokens_per_session
    return rows


def lever_markdown(rows: Sequence[LeverRow]) -> str:
    """The "quality against tokens" table."""
    lines = [
        "| Lever | Success@T | Δ success | Tokens/sess. | × tokens | Calls/sess. "
        "| Cache hits/sess. | Tokens saved/sess. |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        success = "—" if row.success is None else f"{100 * row.success:.1f}%"
        delta = "—" if row.success_delta_pp is None else f"{row.success_delta_pp:+.1f} pp"
        ratio = "—" if row.tokens_vs_reference is None else f"{row.tokens_vs_reference:.2f}"
        lines.append(
            f"| {row.lever} | {success} | {delta} | {row.tokens_per_session:.0f} | {ratio} "
            f"| {row.calls_per_session:.1f} | {row.cache_hits_per_session:.1f} "
            f"| {row.tokens_saved_per_session:.0f} |"
        )
    return "\n".join(lines)


def plot_levers(rows: Sequence[LeverRow], path: Path) -> None:
    """Success against tokens per session, one point per lever."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title("Cost levers: quality against tokens")
    ax.set_xlabel("LLM tokens per session")
    ax.set_ylabel("success within T turns")
    for row in rows:
        if row.success is None:
            continue
        ax.scatter([row.tokens_per_session], [row.success])
        ax.annotate(
            row.lever,
            (row.tokens_per_session, row.success),
            textcoords="offset points",
            xytext=(5, 5),
        )
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
