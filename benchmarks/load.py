"""Load benchmark: N simulated browser conversations over socket.io against `recbot serve`.

Each conversation signs in as a new visitor, opens the chat as the browser does and sends
``--turns`` messages (the offline planner unless the home's settings say otherwise), waiting for
each answer (and, with ``--think-s``, a person's reading pause between turns; with ``--ramp-s``,
the conversations arrive at random times within that many seconds instead of all in the same
instant). Reported per concurrency level: p50 / p95 / p99 turn latency (message sent → the
turn's ``task_end``), errors (a failed connect, a turn without an answer or an error message),
turns per second over the level's wall time, and each replica's resident memory afterwards.

Baselines from the same run: one conversation alone (the latency ratio says what concurrency
costs) and, with ``--replicas 2``, one replica on the same Postgres (the throughput ratio says
what the second replica buys; on a 2-core machine both share the same cores).

The servers are started here from a built home (RECBOT_HOME / RECBOT_DATA_DIR as for
`recbot serve`): one replica on the home's SQLite files, and for ``--replicas 2`` both replicas
on a Postgres server this script starts in a temp dir (tests/postgres.py; Debian's server must
be installed), after one `recbot build` into it. Results go to ``results/load-<date>.json``.

    python benchmarks/load.py [--levels 10,50,100] [--turns 5] [--replicas 1|2] [--think-s S]
                              [--ramp-s S]
"""

# ruff: noqa: E402  (the path fix below must run before the project imports)
from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from tests.e2e.test_protocol import Chat, of, sign_in
from tests.postgres import start_postgres
from tests.served import E2EHome, Server, build_into_postgres, free_port

MESSAGES = [
    "Something like Toy Story",
    "more please",
    "something scary but not gory",
    "a feel-good comedy from the 90s",
    "more like the first one, but newer",
]


@dataclass
class Level:
    conversations: int
    replicas: int
    latencies_ms: list[float] = field(default_factory=list)
    first_ms: list[float] = field(default_factory=list)  # each conversation's first turn
    errors: int = 0
    wall_s: float = 0.0
    rss_mb: list[float] = field(default_factory=list)
    cpu_s: float = 0.0  # CPU time the replicas spent during the level (user + system)
    client_cpu_s: float = 0.0  # CPU time this load generator spent (it shares the machine)

    def row(self) -> dict[str, float | int]:
        values = self.latencies_ms or [float("nan")]
        later = sorted(self.latencies_ms)
        for first in self.first_ms:
            later.remove(first)
        return {
            "conversations": self.conversations,
            "replicas": self.replicas,
            "turns": len(self.latencies_ms),
            "errors": self.errors,
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(float(np.percentile(values, 95)), 1),
            "p99_ms": round(float(np.percentile(values, 99)), 1),
            # the first turns of conversations arriving together queue behind one another
            "first_turn_p95_ms": round(float(np.percentile(self.first_ms or [np.nan], 95)), 1),
            "later_turns_p95_ms": round(float(np.percentile(later, 95)), 1) if later else 0,
            "turns_per_s": round(len(self.latencies_ms) / self.wall_s, 2) if self.wall_s else 0,
            "rss_mb": round(max(self.rss_mb), 1) if self.rss_mb else 0,
            # server CPU per answered turn: the capacity figure other work on the machine
            # inflates least (turns/s per core ~ 1000 / this)
            "cpu_ms_per_turn": round(1000 * self.cpu_s / len(self.latencies_ms), 1)
            if self.latencies_ms
            else 0,
            # the simulated browsers run on the same cores: what they took from the servers
            "client_cpu_ms_per_turn": round(1000 * self.client_cpu_s / len(self.latencies_ms), 1)
            if self.latencies_ms
            else 0,
        }


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the server runs in one process)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def conversation(
    url: str, turns: int, level: Level, think_s: float = 0.0, ramp_s: float = 0.0
) -> None:
    if ramp_s:  # people arrive one by one over the ramp, not all in the same millisecond
        await asyncio.sleep(ramp_s * random.random())
    try:
        chat = await Chat(url, await sign_in(url)).open()
    except Exception as error:  # a refused connection counts, the run goes on
        print(f"  connect failed: {error!r}", file=sys.stderr)
        level.errors += 1
        return
    try:
        for n in range(turns):
            if n and think_s:  # a person reads the answer before the next message
                await asyncio.sleep(think_s * (0.5 + random.random()))
            started = time.perf_counter()
            try:
                events = await chat.say(MESSAGES[n % len(MESSAGES)])
            except Exception as error:
                print(f"  turn failed: {error!r}", file=sys.stderr)
                level.errors += 1
                return
            level.latencies_ms.append((time.perf_counter() - started) * 1000)
            if n == 0:
                level.first_ms.append(level.latencies_ms[-1])
            answered = [
                m for m in of(events, "new_message") if m.get("type") == "assistant_message"
            ]
            if not answered or any(m.get("isError") for m in of(events, "new_message")):
                level.errors += 1
    finally:
        await chat.close()


async def run_level(
    urls: list[str],
    count: int,
    turns: int,
    level: Level,
    think_s: float = 0.0,
    ramp_s: float = 0.0,
) -> None:
    started = time.perf_counter()
    await asyncio.gather(
        *(conversation(urls[i % len(urls)], turns, level, think_s, ramp_s) for i in range(count))
    )
    level.wall_s = time.perf_counter() - started


def measure(
    servers: list[Server],
    levels: list[int],
    turns: int,
    think_s: float = 0.0,
    ramp_s: float = 0.0,
) -> list[Level]:
    urls = [server.url for server in servers]
    out = []
    for count in levels:
        level = Level(count, len(servers))
        pids = [s.process.pid for s in servers if s.process is not None]
        before, client_before = sum(cpu_s(pid) for pid in pids), time.process_time()
        asyncio.run(run_level(urls, count, turns, level, think_s, ramp_s))
        level.cpu_s = sum(cpu_s(pid) for pid in pids) - before
        level.client_cpu_s = time.process_time() - client_before
        level.rss_mb = [rss_mb(s.process.pid) for s in servers if s.process is not None]
        print(json.dumps(level.row()), flush=True)
        out.append(level)
    return out


def home_from_env() -> E2EHome:
    home = Path(os.environ.get("RECBOT_HOME", Path.home() / ".recbot")).resolve()
    data = Path(os.environ.get("RECBOT_DATA_DIR", "")).resolve()
    return E2EHome(home, data, real=True)


def start(home: E2EHome, logs: Path, count: int, **env: str) -> list[Server]:
    servers = [
        Server(home, free_port(), logs / f"load-{n}.log", extra_env=dict(env)) for n in range(count)
    ]
    for server in servers:
        server.start()
    return servers


def with_postgres(
    home: E2EHome,
    logs: Path,
    levels: list[int],
    turns: int,
    think_s: float,
    ramp_s: float,
    env: dict[str, str],
) -> list[Level]:
    """One and two replicas on a Postgres server started here, the catalog built into it once."""
    base = Path(tempfile.mkdtemp(prefix="recbot-load-pg-"))
    postgres = start_postgres(base)
    work = Path(tempfile.mkdtemp(prefix="recbot-load-home-")) / "home"
    try:
        postgres.psql("CREATE DATABASE load")
        built = build_into_postgres(home, work, postgres.url("load"))
        results = []
        for replicas in (1, 2):
            servers = start(built.home, logs, replicas, **built.env(), **env)
            try:
                results += measure(servers, levels, turns, think_s, ramp_s)
            finally:
                for server in servers:
                    server.stop()
        return results
    finally:
        postgres.stop()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(work.parent, ignore_errors=True)


def report(levels: list[Level], baseline: Level) -> None:
    base = baseline.row()
    print(f"\nbaseline: one conversation alone, p95 {base['p95_ms']} ms")
    header = f"{'replicas':>8}{'convs':>7}{'turns':>7}{'errors':>7}{'p50 ms':>9}{'p95 ms':>9}"
    header += f"{'p99 ms':>9}{'turns/s':>9}{'RSS MB':>8}{'p95 ×1':>8}{'CPU ms/turn':>12}"
    print(header + f"{'client CPU':>11}")
    for level in levels:
        r = level.row()
        ratio = r["p95_ms"] / base["p95_ms"] if base["p95_ms"] else float("nan")
        print(
            f"{r['replicas']:>8}{r['conversations']:>7}{r['turns']:>7}{r['errors']:>7}"
            f"{r['p50_ms']:>9}{r['p95_ms']:>9}{r['p99_ms']:>9}{r['turns_per_s']:>9}"
            f"{r['rss_mb']:>8}{ratio:>8.2f}{r['cpu_ms_per_turn']:>12}"
            f"{r['client_cpu_ms_per_turn']:>11}"
        )
    by = {(lv.replicas, lv.conversations): lv.row() for lv in levels}
    for (replicas, count), row in sorted(by.items()):
        one = by.get((1, count))
        if replicas == 2 and one and one["turns_per_s"]:
            print(
                f"two replicas vs one at {count} conversations: throughput "
                f"×{row['turns_per_s'] / one['turns_per_s']:.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", default="10,50,100", help="concurrent conversations")
    parser.add_argument("--turns", type=int, default=5, help="turns per conversation")
    parser.add_argument("--replicas", type=int, choices=(1, 2), default=1)
    parser.add_argument(
        "--think-s",
        type=float,
        default=0.0,
        help="mean pause between a conversation's turns (uniform 0.5-1.5x); 0: back to back",
    )
    parser.add_argument(
        "--ramp-s",
        type=float,
        default=0.0,
        help="conversations start at uniform random times within this many seconds; "
        "0: all at once (every first turn in the same instant)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for every server started (e.g. RECBOT_TURN_SLOTS=0); repeatable",
    )
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    env = dict(pair.split("=", 1) for pair in args.server_env)
    home = home_from_env()
    logs = ROOT / "results" / "load-logs"
    logs.mkdir(parents=True, exist_ok=True)
    servers = start(home, logs, 1, **env)
    try:
        (baseline,) = measure(servers, [1], args.turns)
        results = (
            measure(servers, levels, args.turns, args.think_s, args.ramp_s)
            if args.replicas == 1
            else []
        )
    finally:
        for server in servers:
            server.stop()
    if args.replicas == 2:
        results = with_postgres(home, logs, levels, args.turns, args.think_s, args.ramp_s, env)
    report(results, baseline)
    out = ROOT / "results" / f"load-{date.today().isoformat()}.json"
    rows = {
        "think_s": args.think_s,
        "ramp_s": args.ramp_s,
        "server_env": env,
        "baseline": baseline.row(),
        "levels": [lv.row() for lv in results],
    }
    out.write_text(json.dumps(rows, indent=2))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
