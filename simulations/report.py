"""The simulation report: ``report.json``, ``report.md`` and PNG plots, plus the CLI's summary table.

Plots are drawn on bare ``matplotlib.figure.Figure`` objects rendered by Agg: no pyplot, so no GUI
backend, no global figure registry to leak and nothing to close; matplotlib is imported only when
a report is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulations.levers import is_lever, lever_markdown, lever_rows, plot_levers
from simulations.metrics import (
    Metrics,
    Price,
    SystemSummary,
    UsagePerSession,
    summarize,
    turn_latencies,
)
from simulations.types import BUCKETS, PERSONAS, SessionRecord

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BASELINES = ("one-shot", "popularity")
LLM_HEADERS = [
    "System",
    "Calls",
    "Tokens",
    "Sim calls",
    "Sim tokens",
    "Cost rec.",
    "Cost sim.",
    "Cost",
]
DASH = "—"


__all__ = [
    "Price",  # re-exported: what a caller of write_report needs
    "ReportPaths",
    "plot_hit_curve",
    "plot_hits_by_bucket",
    "plot_latency",
    "render_markdown",
    "summary_table",
    "write_report",
]


@dataclass(frozen=True)
class ReportPaths:
    """What ``write_report`` wrote, and the summaries it computed (for ``summary_table``)."""

    markdown: Path
    json: Path
    hit_curve_png: Path
    hits_by_bucket_png: Path
    latency_png: Path
    summaries: tuple[SystemSummary, ...] = ()

    @property
    def plots(self) -> tuple[Path, Path, Path]:
        return (self.hit_curve_png, self.hits_by_bucket_png, self.latency_png)


def _pct(x: float | None) -> str:
    return DASH if x is None else f"{x:.1%}"


def _num(x: float | None, spec: str = ".2f") -> str:
    return DASH if x is None else format(x, spec)


def _calls(use: UsagePerSession | None) -> str:
    return DASH if use is None else f"{use.calls:.1f}"


def _tokens(use: UsagePerSession | None) -> str:
    return DASH if use is None else f"{use.tokens:.0f}"


def _money(m: Metrics) -> str:
    return DASH if m.cost_per_1000 is None else f"${m.cost_per_1000.total:.2f}"


# (header, cell) — the headline columns, shared by the per-system and per-bucket tables
COLUMNS: tuple[tuple[str, Callable[[Metrics], str]], ...] = (
    ("Sessions", lambda m: str(m.sessions)),
    ("Errors", lambda m: str(m.errors)),
    ("Success@T", lambda m: _pct(m.success_rate)),
    ("Avg turns", lambda m: _num(m.avg_turns)),
    ("Halluc.", lambda m: _pct(m.hallucination_rate)),
    ("Repeat", lambda m: _pct(m.repeat_rate)),
    ("Diversity", lambda m: _num(m.diversity, ".3f")),
    ("Coverage", lambda m: _pct(m.coverage)),
    ("Pop. bias", lambda m: _pct(m.popularity_bias)),
    ("p50 ms", lambda m: _num(m.latency_p50_ms, ".0f")),
    ("p95 ms", lambda m: _num(m.latency_p95_ms, ".0f")),
    ("LLM calls/sess.", lambda m: _calls(m.llm)),
    ("Tokens/sess.", lambda m: _tokens(m.llm)),
    ("Cost/1k", _money),
)


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _horizon(summaries: Sequence[SystemSummary]) -> int:
    return max((len(s.overall.hit_curve) for s in summaries), default=0)


def _lift_lines(summaries: Sequence[SystemSummary]) -> list[str]:
    rates = {s.system: s.overall.success_rate for s in summaries}
    lines = []
    for system, rate in rates.items():
        if system in BASELINES or rate is None:
            continue
        for baseline in BASELINES:
            base = rates.get(baseline)
            if base is None:
                continue
            ratio = f" (×{rate / base:.2f})" if base else ""
            lines.append(f"- **{system}** vs {baseline}: {100 * (rate - base):+.1f} pp{ratio}")
    return lines


def _ranking(summaries: Sequence[SystemSummary]) -> str:
    """ "agent > one-shot = popularity": the systems by success rate, ties marked."""
    ranked = sorted(summaries, key=lambda s: -(s.overall.success_rate or 0.0))
    text = ranked[0].system if ranked else DASH
    for before, after in pairwise(ranked):
        tie = before.overall.success_rate == after.overall.success_rate
        text += (" = " if tie else " > ") + after.system
    return text


def _how_to_read(summaries: Sequence[SystemSummary]) -> str:
    notes = [
        "## How to read this",
        "",
        "- *Success@T*: the hidden target was recommended within the session's T turns. "
        "*Avg turns* counts a miss as T+1, so lower is better.",
        "- *Halluc.* must be 0%: shown items outside the simulator's own read of the catalog, "
        "items the user had excluded (rejected, seen, not wanted) shown again, and titles the "
        "reply's text names that the catalog lacks.",
        "- *Leak*: sessions whose user's words alone put the target in the top 10 of a plain "
        "text retrieval over the catalog; *Kept success* is success over the other sessions.",
        "- Personas: cooperative, terse (bare phrases), impatient (leaves after two lists "
        "without the film), contrarian (rejects the first list whatever it holds), target-free "
        "(talks only from its own history; success = its held-out item shows up).",
        "- *Repeat*: later-turn recommendations of an item the user already passed over.",
        "- *Diversity*: mean pairwise genre Jaccard distance within a turn's list (0 = same genres).",
        "- *Pop. bias*: share of recommendations from the most popular 1% of the catalog.",
        "- Latency is per turn; LLM calls, tokens (the recommender's) are per session; "
        "cost is per 1000 sessions, recommender and simulator together. Failed sessions count as misses.",
    ]
    lift = _lift_lines(summaries)
    if lift:
        notes += ["", "**Lift** in success rate (percentage points, and the ratio):", "", *lift]
    return "\n".join(notes)


def render_markdown(
    summaries: Sequence[SystemSummary],
    title: str,
    plots: Mapping[str, str],
    meta: Mapping[str, Any],
) -> str:
    """The report's markdown; ``plots`` maps a caption to an image path relative to the report."""
    headers = [h for h, _ in COLUMNS]
    per_system = [[s.system, *(cell(s.overall) for _, cell in COLUMNS)] for s in summaries]
    per_bucket = [
        [s.system, bucket, *(cell(m) for _, cell in COLUMNS)]
        for s in summaries
        for bucket, m in s.by_bucket.items()
        if m.sessions
    ]
    horizon = _horizon(summaries)
    curve = [
        [
            s.system,
            *(_pct(x) for x in s.overall.hit_curve),
            *[DASH] * (horizon - len(s.overall.hit_curve)),
        ]
        for s in summaries
    ]
    llm_rows = [
        [
            s.system,
            _calls(s.overall.llm),
            _tokens(s.overall.llm),
            _calls(s.overall.simulator_llm),
            _tokens(s.overall.simulator_llm),
            *(
                [DASH] * 3
                if (c := s.overall.cost_per_1000) is None
                else [f"${c.recommender:.2f}", f"${c.simulator:.2f}", f"${c.total:.2f}"]
            ),
        ]
        for s in summaries
    ]
    persona_rows = [
        [
            s.system,
            *(_pct(s.by_persona[p].success_rate) if p in s.by_persona else DASH for p in PERSONAS),
            _pct(s.overall.success_rate),
        ]
        for s in summaries
    ]
    leak_rows = [
        [
            s.system,
            _pct(s.overall.leak_rate),
            _pct(s.overall.success_rate),
            str(s.overall.kept_sessions),
            _pct(s.overall.kept_success_rate),
        ]
        for s in summaries
    ]
    ranking = "Systems by simulated success: " + _ranking(summaries) + "."
    settings = ", ".join(f"{k}={v}" for k, v in meta.items()) or "none recorded"
    parts = [
        f"# {title}",
        f"Settings: {settings}." + (f" Success@T with T = {horizon} turns." if horizon else ""),
        "## Results by system",
        _md_table(["System", *headers], per_system),
        ranking,
        "## Success by persona",
        _md_table(["System", *PERSONAS, "overall"], persona_rows),
        "## Target leak: do the user's words alone give the film away?",
        _md_table(["System", "Leak", "Success (all)", "Kept sessions", "Kept success"], leak_rows),
        "## Results by history bucket",
        _md_table(["System", "Bucket", *headers], per_bucket),
        "## Hit curve (share of sessions with the target shown by turn t)",
        _md_table(["System", *(f"t={t}" for t in range(1, horizon + 1))], curve),
        "## LLM use per session and cost per 1000 sessions",
        _md_table(LLM_HEADERS, llm_rows),
        "## Plots",
        "\n\n".join(f"![{caption}]({path})" for caption, path in plots.items()),
        _how_to_read(summaries),
    ]
    return "\n\n".join(parts) + "\n"


def summary_table(summaries: Sequence[SystemSummary]) -> str:
    """A compact fixed-width table, one row per system, for the end of ``recbot simulate``."""
    headers = [
        "system",
        "n",
        "success",
        "avg turns",
        "halluc.",
        "leak",
        "kept succ.",
        "repeat",
        "p50 ms",
        "p95 ms",
        "cost/1k",
    ]
    rows = [
        [
            s.system,
            str(m.sessions),
            _pct(m.success_rate),
            _num(m.avg_turns),
            _pct(m.hallucination_rate),
            _pct(m.leak_rate),
            _pct(m.kept_success_rate),
            _pct(m.repeat_rate),
            _num(m.latency_p50_ms, ".0f"),
            _num(m.latency_p95_ms, ".0f"),
            _money(m),
        ]
        for s in summaries
        for m in [s.overall]
    ]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [headers, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def _figure(title: str, xlabel: str, ylabel: str) -> Figure:
    from matplotlib.figure import Figure  # Agg via savefig; never pyplot, never a GUI

    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return fig


def _finish(fig: Figure, path: Path, has_data: bool) -> None:
    ax = fig.axes[0]
    if has_data:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # outside: never over the data
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    fig.savefig(path, dpi=100)


def plot_hit_curve(summaries: Sequence[SystemSummary], path: Path) -> None:
    fig = _figure("Hit curve by turn", "turn", "share of sessions with a hit")
    ax = fig.axes[0]
    for s in summaries:
        if s.overall.hit_curve:
            turns = range(1, len(s.overall.hit_curve) + 1)
            ax.plot(turns, s.overall.hit_curve, marker="o", label=s.system)
    ax.set_xticks(range(1, _horizon(summaries) + 1))
    ax.set_ylim(0, 1)
    _finish(fig, path, any(s.overall.hit_curve for s in summaries))


def plot_hits_by_bucket(summaries: Sequence[SystemSummary], path: Path) -> None:
    fig = _figure("Success by history bucket", "history items", "success rate")
    ax = fig.axes[0]
    width = 0.8 / max(len(summaries), 1)
    drawn = False
    for i, s in enumerate(summaries):
        bars = [
            (x + i * width, rate)
            for x, b in enumerate(BUCKETS)
            if (rate := s.by_bucket[b].success_rate if b in s.by_bucket else None) is not None
        ]
        if bars:
            drawn = True
            heights = [r for _, r in bars]
            container = ax.bar([x for x, _ in bars], heights, width=width, label=s.system)
            ax.bar_label(container, [f"{r:.0%}" for r in heights], fontsize=7)  # 0% ≠ no bar
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(BUCKETS))], list(BUCKETS))
    ax.set_ylim(0, 1.1)
    _finish(fig, path, drawn)


def plot_latency(records: Sequence[SessionRecord], systems: Sequence[str], path: Path) -> None:
    fig = _figure("Latency per turn", "ms", "turns")
    ax = fig.axes[0]
    per_system = {s: turn_latencies([r for r in records if r.system == s]) for s in systems}
    every = [x for xs in per_system.values() for x in xs]
    if every:
        low, high = min(every), max(every)
        bins = 30 if high > low else 1
        for system, values in per_system.items():
            if values:
                ax.hist(values, bins=bins, range=(low, high), alpha=0.5, label=system)
    _finish(fig, path, bool(every))


def write_report(
    records: Sequence[SessionRecord],
    out_dir: Path,
    *,
    genres: Mapping[int, Sequence[str]],
    popularity: Mapping[int, int],
    catalog_size: int,
    price: Price | None,
    simulator_price: Price | None = None,
    title: str = "recbot simulation",
    meta: Mapping[str, Any] | None = None,
) -> ReportPaths:
    """Summarize ``records`` and write report.json, report.md and three PNG plots to ``out_dir``.

    ``meta`` (seed, settings...) goes into both files; values JSON cannot encode are written as str."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summaries = summarize(
        records,
        genres=genres,
        popularity=popularity,
        catalog_size=catalog_size,
        price=price,
        simulator_price=simulator_price,
    )
    paths = ReportPaths(
        markdown=out_dir / "report.md",
        json=out_dir / "report.json",
        hit_curve_png=out_dir / "hit_curve.png",
        hits_by_bucket_png=out_dir / "hits_by_bucket.png",
        latency_png=out_dir / "latency.png",
        summaries=tuple(summaries),
    )
    plot_hit_curve(summaries, paths.hit_curve_png)
    plot_hits_by_bucket(summaries, paths.hits_by_bucket_png)
    plot_latency(records, [s.system for s in summaries], paths.latency_png)
    meta = dict(meta or {})
    # which simulated user produced these numbers: the rule-based one, or an LLM playing the user
    meta.setdefault("simulator", "+".join(sorted({r.simulator for r in records})) or "none")
    document = {
        "title": title,
        "meta": meta,
        "counts": {
            "sessions": len(records),
            "turns": sum(len(r.turns) for r in records),
            "errors": sum(bool(r.error) for r in records),
            "systems": [s.system for s in summaries],
        },
        "catalog_size": catalog_size,
        "price": None if price is None else asdict(price),
        "simulator_price": None if simulator_price is None else asdict(simulator_price),
        "summaries": [s.to_dict() for s in summaries],
    }
    paths.json.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    plots = {
        "Hit curve by turn": paths.hit_curve_png.name,
        "Success by history bucket": paths.hits_by_bucket_png.name,
        "Latency per turn": paths.latency_png.name,
    }
    markdown = render_markdown(summaries, title, plots, meta)
    rows = lever_rows(records, summaries)
    if any(is_lever(s.system) for s in summaries):
        plot_levers(rows, out_dir / "levers.png")
        markdown += (
            "\n## Cost levers: quality against tokens\n\n"
            "Each lever is the LLM-rerank agent with one setting changed, on the same targets; "
            "Δ and × compare it with `agent+llm-rerank`.\n\n"
            + lever_markdown(rows)
            + "\n\n![Cost levers](levers.png)\n"
        )
        document["levers"] = [asdict(row) for row in rows]
        paths.json.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    paths.markdown.write_text(markdown, encoding="utf-8")
    return paths
