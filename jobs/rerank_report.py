"""The report of ``recbot eval --llm-rerank``: DNN alone vs DNN + LLM on the same users.

Metrics come from the targets' ranks (:mod:`ranker.metrics`); LLM figures from the calls
(:class:`jobs.rerank_eval.CallLog`) and the server's usage blocks (``agent.llm.UsageCounter``).
Written as ``<mode>.json`` (with a timestamped copy, as ``recbot eval`` keeps ``eval.json``) and
``<mode>.md``; the markdown is also what the command prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ranker.metrics import ndcg_at, recall_at
from ranker.offline_eval import write_report
from simulations.metrics import percentile

if TYPE_CHECKING:
    from jobs.rerank_eval import RerankEvalConfig, UserOutcome

COLUMNS = (
    ("R@1", "Recall@1"),
    ("R@5", "Recall@5"),
    ("R@10", "Recall@10"),
    ("R@20", "Recall@20"),
    ("N@5", "NDCG@5"),
    ("N@10", "NDCG@10"),
)
TOP_ERRORS = 5


def metrics_of(ranks: Sequence[int]) -> dict[str, float]:
    """Recall@1/5/10/20 and NDCG@5/10 of 1-based target ranks."""
    values = list(ranks)
    out = {f"Recall@{k}": recall_at(values, k) for k in (1, 5, 10, 20)}
    return out | {f"NDCG@{k}": ndcg_at(values, k) for k in (5, 10)}


def ratios(reranked: dict[str, float], dnn: dict[str, float]) -> dict[str, float | None]:
    """Each metric after the rerank over the DNN's own (None where the DNN's is 0)."""
    return {key: (reranked[key] / dnn[key] if dnn[key] else None) for key in dnn}


def llm_figures(outcomes: Sequence[UserOutcome]) -> dict[str, Any]:
    """Calls, answers, fallbacks, tokens per user and latency per call over every user."""
    users = len(outcomes) or 1
    latencies = [seconds for o in outcomes for seconds in o.latencies]
    errors = Counter(o.error for o in outcomes if o.error)
    fallbacks = sum(o.fell_back for o in outcomes)
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    return {
        "calls": sum(o.calls for o in outcomes),
        "answered_calls": sum(o.answered for o in outcomes),
        "fallbacks": fallbacks,
        "fallback_share": fallbacks / users,
        "dropped_answers": sum(len(o.dropped) for o in outcomes),
        "input_tokens_per_user": sum(o.input_tokens for o in outcomes) / users,
        "output_tokens_per_user": sum(o.output_tokens for o in outcomes) / users,
        "latency_p50_s": round(p50, 3) if p50 is not None else None,
        "latency_p95_s": round(p95, 3) if p95 is not None else None,
        "errors": dict(errors.most_common(TOP_ERRORS)),
    }


def build_report(
    outcomes: Sequence[UserOutcome], config: RerankEvalConfig, *, model: str, split_users: int
) -> dict[str, Any]:
    """The JSON record: both systems' metrics on the same users, ratios, LLM figures, and
    every user's ranks and calls."""
    dnn = metrics_of([o.dnn_rank for o in outcomes])
    reranked = metrics_of([o.llm_rank for o in outcomes])
    in_top = [o for o in outcomes if o.dnn_rank <= config.top]
    return {
        "protocol": {
            "name": "llamarec-leave-last-out",
            "ranking": "DNN over all protocol items, visible history excluded, ties pessimistic",
            "rerank": f"the DNN's top {config.top} reordered by the LLM ({config.mode}); the "
            f"prompt shows the newest {config.history_items} history titles, oldest first",
            "unchanged": f"ranks below {config.top} and every cutoff >= {config.top}: "
            f"Recall@10 can only move within the top {config.top}",
        },
        "config": asdict(config),
        "model": model,
        "users": {"evaluated": len(outcomes), "of": split_users, "seed": config.seed},
        "systems": {"dnn": dnn, f"dnn+{config.mode}": reranked},
        "ratios": ratios(reranked, dnn),
        "targets_in_top": len(in_top),
        "moved": {
            "up": sum(o.llm_rank < o.dnn_rank for o in in_top),
            "down": sum(o.llm_rank > o.dnn_rank for o in in_top),
            "same": sum(o.llm_rank == o.dnn_rank for o in in_top),
        },
        "llm": llm_figures(outcomes),
        "per_user": [asdict(o) for o in outcomes],
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def format_report(report: dict[str, Any]) -> str:
    """The table (markdown) with the ratio row, and the LLM's figures under it."""
    config, users, llm = report["config"], report["users"], report["llm"]
    lines = [
        f"LLM rerank ({config['mode']}, {report['model']}) of the DNN's top {config['top']}: "
        f"{users['evaluated']} of {users['of']} users (seed {users['seed']}), "
        f"stage {config['stage']}",
        "",
        "| system | " + " | ".join(short for short, _ in COLUMNS) + " |",
        "| --- |" + " --- |" * len(COLUMNS),
    ]
    for name, metrics in report["systems"].items():
        lines.append(f"| {name} | " + " | ".join(f"{metrics[k]:.4f}" for _, k in COLUMNS) + " |")
    ratio_cells = [_ratio(report["ratios"][key]) for _, key in COLUMNS]
    lines.append("| × dnn | " + " | ".join(ratio_cells) + " |")
    moved = report["moved"]
    lines += [
        "",
        f"Targets in the DNN's top {config['top']}: {report['targets_in_top']} "
        f"(moved up {moved['up']}, down {moved['down']}, same {moved['same']}); the rerank only "
        f"reorders the top {config['top']}, so Recall@10 can only move within it and "
        f"Recall@{config['top']} (and every cutoff beyond) is the DNN's.",
        f"LLM: {llm['calls']} calls, {llm['answered_calls']} answered, {llm['fallbacks']} "
        f"fallbacks ({llm['fallback_share']:.0%} of users kept the DNN's order), "
        f"{llm['dropped_answers']} answers dropped by the guard; tokens per user "
        f"{llm['input_tokens_per_user']:.0f} in + {llm['output_tokens_per_user']:.1f} out "
        f"(server usage); latency per call p50 {_seconds(llm['latency_p50_s'])}, "
        f"p95 {_seconds(llm['latency_p95_s'])}.",
    ]
    lines += [f"- {count}× {error}" for error, count in llm["errors"].items()]
    return "\n".join(lines)


def write_rerank_report(out_dir: Path, report: dict[str, Any]) -> Path:
    """``<mode>.json`` (and its timestamped copy) and ``<mode>.md`` in ``out_dir``."""
    mode = report["config"]["mode"]
    path = write_report(out_dir, report, name=mode)
    (out_dir / f"{mode}.md").write_text(f"# recbot eval --llm-rerank\n\n{format_report(report)}\n")
    return path


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"
