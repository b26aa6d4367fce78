"""The composition root of `recbot simulate`: settings → artifacts → run → report."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from agent.settings import Settings
from catalog.embeddings import Embedder
from simulations.runner import SimConfig, Simulation, run


def load_scenario(path: Path | None, **overrides: Any) -> SimConfig:
    """A ``SimConfig`` from a scenario TOML (its top-level keys or a ``[simulate]`` table), then
    command-line overrides that are not None."""
    values: dict[str, Any] = {}
    if path is not None:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        values.update(data.get("simulate", data))
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(SimConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown scenario keys {unknown}; known: {sorted(known)}")
    config = SimConfig(**values)
    if config.sessions < 1 or config.max_turns < 1 or config.k < 1 or config.workers < 1:
        raise ValueError("sessions, max_turns, k and workers must be at least 1")
    if config.simulator not in ("rules", "llm"):
        raise ValueError("simulator must be 'rules' or 'llm'")
    for lever in config.levers:
        if lever.partition("=")[0] not in LEVERS or "=" not in lever:
            raise ValueError(f"unknown lever {lever!r}; use one of {[f'{k}=…' for k in LEVERS]}")
    return config


def simulate(
    settings: Settings,
    config: SimConfig,
    out_dir: Path,
    *,
    fresh: bool = False,
    progress: bool = True,
    embedder: Embedder | None = None,
) -> tuple[list[Any], str]:
    """Run the scenario and write the report; returns the records and the summary table."""
    from agent.wiring import build_deps
    from simulations.report import Price, summary_table, write_report
    from simulations.simulator import make_user

    if config.simulator == "llm" and not settings.llm_configured:
        raise ValueError("--llm needs an LLM: set RECBOT_LLM_BASE_URL (and RECBOT_LLM_MODEL)")
    deps = build_deps(settings, embedder=embedder)
    model, counter = _simulator_llm(settings) if config.simulator == "llm" else (None, None)

    def user_for(target: Any, catalog: Any, seed: int, similar: Any, persona: Any) -> Any:
        return make_user(
            config.simulator,  # type: ignore[arg-type]
            target,
            catalog,
            seed,
            model=model,
            counter=counter,
            similar=similar,
            persona=persona,
        )

    simulation = Simulation(
        deps,
        config,
        llm_configured=settings.llm_configured,
        make_user=user_for,
        lever_deps=lambda lever: lever_deps(settings, deps, lever),
    )
    records = run(simulation, out_dir, fresh=fresh, progress=progress)
    catalog = deps.tools.catalog
    paths = write_report(
        records,
        out_dir,
        genres={item.id: item.genres for item in catalog},
        popularity={item.id: item.popularity for item in catalog},
        catalog_size=len(catalog),
        price=Price(settings.llm_price_input_per_million, settings.llm_price_output_per_million),
        meta={
            "config": config.identity(),
            "llm_model": settings.llm_model if settings.llm_configured else None,
        },
    )
    return records, summary_table(paths.summaries)


LEVERS: dict[str, tuple[str, Callable[[str], object]]] = {
    "cache": ("llm_cache", lambda v: _on(v)),
    "history": ("llm_history_items", int),
    "rerank_top": ("rerank_top", int),
    "rerank_warm": ("llm_rerank_warm", lambda v: _on(v)),
    "mode": ("llm_rerank_mode", str),
}


def _on(value: str) -> bool:
    if value not in ("on", "off"):
        raise ValueError(f"expected on or off, got {value!r}")
    return value == "on"


def lever_settings(settings: Settings, lever: str) -> Settings:
    """The settings with one cost lever pulled: ``"history=5"`` → ``llm_history_items=5``."""
    name, sep, value = lever.partition("=")
    if not sep or name not in LEVERS:
        raise ValueError(f"unknown lever {lever!r}; use one of {[f'{k}=…' for k in LEVERS]}")
    field_name, parse = LEVERS[name]
    try:
        return Settings.model_validate({**settings.model_dump(), field_name: parse(value)})
    except ValueError as error:
        raise ValueError(f"lever {lever!r}: {error}") from error


def lever_deps(settings: Settings, deps: Any, lever: str) -> Any:
    """The agent's dependencies with their own LLM parts and knobs for one lever."""
    from agent.wiring import assemble_deps

    pulled = lever_settings(settings, lever)
    return assemble_deps(
        pulled, tools=deps.tools, users=deps.users, offline_planner=deps.offline_planner
    )


def _simulator_llm(settings: Settings) -> tuple[Any, Any]:
    from agent.llm import UsageCounter
    from agent.wiring import chat_model

    return chat_model(settings), UsageCounter()
