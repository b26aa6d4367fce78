"""``recbot simulate``: simulated users with hidden targets talk to each system; transcripts as
JSONL, resumable; then the report.

One run replays the same targets, in the same history buckets, against every system, so the
report's differences come from the systems alone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from agent.context import Deps
from agent.llm import Usage
from agent.recommender import Recommender
from catalog.domain import Catalog
from catalog.search import Retriever
from ranker.protocol import Split, leave_last_out
from simulations.dialogue_seeds import dialogue_targets
from simulations.honesty import ShownTitles, leak_rank
from simulations.levers import LEVER_PREFIX
from simulations.profiles import SimulatedProfiles
from simulations.systems import ONE_SHOT, AgentSystem, PopularitySystem
from simulations.targets import held_out_targets, history_needed, replay, verify_unseen
from simulations.types import BUCKETS, PERSONAS, SessionRecord, Target, TurnRecord

TRANSCRIPTS = "transcripts.jsonl"
RUN_FILE = "run.json"


@dataclass
class SimConfig:
    """A scenario: what `recbot simulate` flags and `--config scenario.toml` set."""

    sessions: int = 40  # per system: targets × buckets
    max_turns: int = 5
    k: int = 10
    seed: int = 0
    simulator: str = "rules"  # or "llm"
    buckets: list[str] = field(default_factory=lambda: list(BUCKETS))
    personas: list[str] = field(default_factory=lambda: list(PERSONAS))  # cycled over sessions
    # a ReDial-format folder: seed the sessions from real conversations instead (first seeker
    # turn as the opening, a liked film as the target; the "0" bucket only)
    dialogues: str = ""
    systems: list[str] = field(default_factory=list)  # empty: every system that applies
    # cost levers, each an extra LLM-rerank system: "cache=on", "history=5", "rerank_top=50",
    # "rerank_warm=off" (route known users away from the LLM), "mode=verbalizer|pointwise"
    levers: list[str] = field(default_factory=list)
    workers: int = 1

    def identity(self) -> dict[str, Any]:
        """What must match for a run to be resumed."""
        out = asdict(self)
        out.pop("workers")
        return out


def similar_by_content(deps: Deps) -> Callable[[int, Sequence[int]], int | None]:
    """The history item whose content vector is closest to the target's (the simulator's
    "I loved X")."""
    index = deps.tools.retriever.index

    def pick(target: int, history: Sequence[int]) -> int | None:
        usable = [i for i in history if i in index and i != target]
        if not usable or target not in index:
            return None
        sims = index.vectors(usable) @ index.vector(target)
        return int(usable[int(np.argmax(sims))])

    return pick


class Simulation:
    """Targets, systems and simulated users for one run over one set of artifacts."""

    def __init__(
        self,
        deps: Deps,
        config: SimConfig,
        *,
        llm_configured: bool,
        make_user: Callable[..., Any],
        lever_deps: Callable[[str], Deps] | None = None,
    ) -> None:
        self.config = config
        self.catalog = deps.tools.catalog
        # the simulator's own read of the catalog: its users talk about it and every shown item
        # is checked against it, never against what the agent loaded
        self.reference: Catalog = deps.users.store.load_catalog()
        self.shown_titles = ShownTitles(self.reference)
        self.retriever: Retriever = deps.tools.retriever
        interactions = deps.users.store.interactions()
        self.split: Split = leave_last_out(interactions)
        self.profiles = SimulatedProfiles()
        self.deps = replace(deps, users=self.profiles)
        self.make_user = make_user
        self.similar = similar_by_content(deps)
        if config.dialogues:
            targets = dialogue_targets(
                config.dialogues, self.reference, count=config.sessions, seed=config.seed
            )
            self.plan = list(targets)
        else:
            per_bucket = max(1, -(-config.sessions // len(config.buckets)))
            targets = held_out_targets(
                self.split,
                self.catalog,
                count=per_bucket,
                seed=config.seed,
                min_history=history_needed(config.buckets),
            )
            self.plan = replay(targets, config.buckets, config.seed)[: config.sessions]
        verify_unseen(targets, self.split.train)
        self.full = {t.user_id: t for t in targets}  # what a target-free user knows of itself
        unknown = set(config.personas) - set(PERSONAS)
        if unknown or not config.personas:
            raise ValueError(f"unknown personas {sorted(unknown)}; use some of {PERSONAS}")
        self.lever_deps = lever_deps
        self.systems = self._systems(llm_configured)
        self._lock = threading.Lock()

    def _systems(self, llm_configured: bool) -> dict[str, Any]:
        recommender = Recommender(self.deps)
        counts: dict[int, int] = {}
        for interaction in self.split.train_interactions():
            counts[interaction.item_id] = counts.get(interaction.item_id, 0) + 1
        ranking = sorted(counts, key=lambda i: (-counts[i], i))
        available: dict[str, Any] = {
            "agent": AgentSystem("agent", recommender, llm_rerank=False),
            ONE_SHOT: AgentSystem(ONE_SHOT, recommender, llm_rerank=False, one_shot=True),
            "popularity": PopularitySystem(ranking, {}),
        }
        if llm_configured:
            available["agent+llm-rerank"] = AgentSystem(
                "agent+llm-rerank", recommender, llm_rerank=True
            )
        if self.config.levers and not (llm_configured and self.lever_deps is not None):
            raise ValueError("cost levers need an LLM: set RECBOT_LLM_BASE_URL")
        for lever in self.config.levers:
            assert self.lever_deps is not None
            name = f"{LEVER_PREFIX}{lever}]"
            variant = Recommender(replace(self.lever_deps(lever), users=self.profiles))
            available[name] = AgentSystem(name, variant, llm_rerank=True)
        wanted = self.config.systems or list(available)
        unknown = [s for s in wanted if s not in available]
        if unknown:
            raise ValueError(f"unknown or unavailable systems {unknown}; have {list(available)}")
        return {name: available[name] for name in wanted}

    def session_ids(self) -> Iterator[tuple[str, str, int, Target]]:
        for system in self.systems:
            for index, target in enumerate(self.plan):
                yield f"{system}/{self.config.seed}/{index}", system, index, target

    def persona_of(self, index: int) -> str:
        return self.config.personas[index % len(self.config.personas)]

    def run_session(
        self, session_id: str, system_name: str, index: int, target: Target
    ) -> SessionRecord:
        """One conversation; failures end it with ``error`` set rather than stopping the run."""
        system = self.systems[system_name]
        max_turns = 1 if system_name == ONE_SHOT else self.config.max_turns
        persona = self.persona_of(index)
        record = SessionRecord(
            session_id=session_id,
            system=system_name,
            seed=self.config.seed,
            simulator="llm" if self.config.simulator == "llm" else "rules",
            persona=persona,  # type: ignore[arg-type]
            target=target,
            bucket=target.bucket,
            max_turns=max_turns,
            k=self.config.k,
        )
        if isinstance(system, PopularitySystem):
            system.histories[session_id] = set(target.history)
        knows = self.full.get(target.user_id, target) if persona == "target-free" else target
        user = self.make_user(
            knows, self.reference, self.config.seed * 100_003 + index, self.similar, persona
        )
        user_id = self.profiles.register(target)
        try:
            self._converse(user, system, record, session_id, user_id)
        except Exception as error:  # a broken session is reported, not fatal
            record.error = f"{type(error).__name__}: {error}"
        said = " ".join(turn.user for turn in record.turns)
        record.leak_rank = leak_rank(self.retriever, said, target.item_id) if said else None
        record.leak_measured = bool(said)
        return record

    def _converse(
        self, user: Any, system: Any, record: SessionRecord, session_id: str, user_id: int | None
    ) -> None:
        target = record.target
        message, spent, retries = _said(user, user.opening)
        for turn in range(1, record.max_turns + 1):
            excluded = set(getattr(user, "excluded", ()))
            answer = system.answer(message, session_id=session_id, user_id=user_id, k=record.k)
            accepts = getattr(user, "accepts", lambda shown: target.item_id in shown)
            hit = bool(accepts(answer.recommended))
            record.turns.append(
                TurnRecord(
                    turn=turn,
                    user=message,
                    action=answer.action,
                    reply=answer.reply,
                    recommended=answer.recommended,
                    outside_catalog=[i for i in answer.recommended if i not in self.reference],
                    outside_candidates=answer.outside_candidates,
                    excluded_shown=[i for i in answer.recommended if i in excluded],
                    unknown_titles=self.shown_titles.unknown(answer.reply),
                    hit=hit,
                    latency_ms=answer.latency_ms,
                    llm=answer.llm,
                    simulator_llm=spent,
                    leak_retries=retries,
                )
            )
            if hit:
                record.hit_turn = turn
                return
            if turn < record.max_turns:
                message, spent, retries = _said(
                    user, partial(user.reply, answer.action, answer.reply, answer.recommended)
                )
                if getattr(user, "left", False):
                    record.turns[-1].left = True
                    return


def _said(user: Any, speak: Callable[[], str]) -> tuple[str, Usage, int]:
    """The simulated user's next message, its LLM use and its leak redos."""
    usage, retries = _usage(user), int(getattr(user, "leak_retries", 0))
    message = speak()
    return message, _usage(user) - usage, int(getattr(user, "leak_retries", 0)) - retries


def _usage(user: Any) -> Usage:
    usage = getattr(user, "usage", None)
    return usage if isinstance(usage, Usage) else Usage()


def load_records(path: Path) -> dict[str, SessionRecord]:
    """Finished sessions of an earlier (interrupted) run, by session id."""
    if not path.exists():
        return {}
    records: dict[str, SessionRecord] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = SessionRecord.model_validate_json(line)
            records[record.session_id] = record
    return records


def run(
    simulation: Simulation,
    out_dir: Path,
    *,
    fresh: bool = False,
    progress: bool = True,
) -> list[SessionRecord]:
    """Run every session not already in ``out_dir/transcripts.jsonl``; return all of them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    transcripts, run_file = out_dir / TRANSCRIPTS, out_dir / RUN_FILE
    identity = simulation.config.identity()
    if fresh:
        transcripts.unlink(missing_ok=True)
    elif (
        run_file.exists() and json.loads(run_file.read_text()) != identity and transcripts.exists()
    ):
        raise ValueError(
            f"{out_dir} holds a run with other settings; use --fresh or another --out directory"
        )
    run_file.write_text(json.dumps(identity, indent=2) + "\n")
    done = load_records(transcripts)
    todo = [s for s in simulation.session_ids() if s[0] not in done]
    lock = threading.Lock()
    from tqdm import tqdm

    bar = tqdm(total=len(todo) + len(done), initial=len(done), disable=not progress, unit="session")
    with transcripts.open("a", encoding="utf-8") as handle:

        def one(job: tuple[str, str, int, Target]) -> None:
            record = simulation.run_session(*job)
            with lock:
                handle.write(record.model_dump_json() + "\n")
                handle.flush()
                done[record.session_id] = record
                bar.update(1)

        if simulation.config.workers > 1:
            with ThreadPoolExecutor(simulation.config.workers) as pool:
                list(pool.map(one, todo))
        else:
            for job in todo:
                one(job)
    bar.close()
    order = [s[0] for s in simulation.session_ids()]
    return [done[s] for s in order if s in done]
