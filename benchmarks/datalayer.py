"""CPU per chat-history write: the Chainlit data layer's calls of a chat turn, old tree against new.

What Chainlit asks of ``ui/datalayer.py`` while people chat, each call timed by the process's CPU
clock (on a shared machine wall time says mostly how busy it was): ``update_thread`` creating a
thread on its first message (name, user id) and storing its settings later (metadata);
``create_step`` then ``update_step`` of the same step, as ``Message.send`` and the end of a
streamed answer do (Chainlit writes about five steps a turn); ``create_element`` of a cards
element on a step. Threads get ``--steps`` steps each.

Each ``--tree`` is a checkout of recbot (e.g. ``git worktree add /tmp/old <commit>``); every tree
runs in a fresh process with its own code first on sys.path, alternately, ``--rounds`` times,
on a fresh SQLite file in a temp dir and, with ``--postgres-url``, on a fresh database the script
creates on that server (and drops after; the URL's user must be allowed to). The table gives
every tree's median CPU ms per call and its ratio to the first tree's, from the same run;
results go to ``results/datalayer-<date>.json``.

    python benchmarks/datalayer.py --tree /tmp/old --tree . [--threads 40] [--steps 10]
                                   [--rounds 5] [--postgres-url postgresql+psycopg://u@host/db]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
CALLS = ("thread create", "step create", "step update", "element create", "thread update")
SETTINGS = {"planner": "offline", "k": 8, "explain": True}


async def _measure(url: str, threads: int, steps: int) -> dict[str, Any]:
    """Run in the tree's own process (its packages first on sys.path): CPU ms per call."""
    from chainlit.context import ChainlitContext, context_var
    from chainlit.element import CustomElement
    from chainlit.session import HTTPSession
    from chainlit.step import StepDict
    from chainlit.user import User
    from chainlit.utils import utc_now

    import ui.datalayer
    from ui.datalayer import RecbotDataLayer

    layer = RecbotDataLayer(url)
    spent: dict[str, float] = dict.fromkeys(CALLS, 0.0)
    counted: dict[str, int] = dict.fromkeys(CALLS, 0)

    async def timed(call: str, write: Awaitable[None]) -> None:
        started = time.process_time()
        await write
        spent[call] += time.process_time() - started
        counted[call] += 1

    async def chat(thread_id: str, user_id: str) -> None:
        """One thread's writes, in the order a chat makes them."""
        await timed("thread create", layer.update_thread(thread_id, name="Hi", user_id=user_id))
        for _ in range(steps):
            step: dict[str, Any] = {
                "id": str(uuid.uuid4()),
                "threadId": thread_id,
                "name": "Assistant",
                "type": "assistant_message",
                "output": "",
                "metadata": {},
                "createdAt": utc_now(),  # what Message.send stamps: the thread's latest activity
            }
            await timed("step create", layer.create_step(cast("StepDict", step)))
            step = {**step, "output": "Try Heat (1995) or Collateral (2004). " * 8}
            await timed("step update", layer.update_step(cast("StepDict", step)))
        cards = CustomElement(
            name="MovieCards",
            props={"items": [{"item_id": i, "title": f"Film {i}", "score": 0.5} for i in range(8)]},
            thread_id=thread_id,
            for_id=step["id"],
        )
        await timed("element create", layer.create_element(cards))
        metadata = {"chat_settings": SETTINGS}
        await timed("thread update", layer.update_thread(thread_id, metadata=metadata))

    try:
        user = await layer.create_user(User(identifier="alice"))
        if user is None:
            raise SystemExit("create_user stored no user")
        context_var.set(ChainlitContext(HTTPSession(id="bench", client_type="webapp", user=user)))
        await chat(str(uuid.uuid4()), user.id)  # warm-up: caches, lazy imports, the tables
        for call in CALLS:
            spent[call], counted[call] = 0.0, 0
        for _ in range(threads):
            await chat(str(uuid.uuid4()), user.id)
    finally:
        await layer.close()
    return {
        "cpu_ms": {call: 1000 * spent[call] / counted[call] for call in CALLS},
        "calls": counted,
        "module": ui.datalayer.__file__,
    }


def _child(tree: Path, url: str, threads: int, steps: int) -> dict[str, Any]:
    """``_measure`` in a fresh process running ``tree``'s code."""
    code = (
        "import asyncio, importlib.util, json, os, sys\n"
        f"sys.path.insert(0, {str(tree)!r})\n"
        f"spec = importlib.util.spec_from_file_location('dl_bench', {__file__!r})\n"
        "bench = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(bench)\n"
        "url = os.environ['DL_BENCH_URL']  # not on the command line: it may hold a password\n"
        f"print(json.dumps(asyncio.run(bench._measure(url, {threads}, {steps}))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tree,
        env={**os.environ, "DL_BENCH_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{tree}: the measuring process failed\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


@contextmanager
def _sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite+aiosqlite:///{Path(folder) / 'chat.db'}"


def _postgres_urls(server_url: str) -> Callable[[], Any]:
    """A fresh database on the server for each run, dropped after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(
        make_url(server_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )

    @contextmanager
    def fresh() -> Iterator[str]:
        name = f"dl_bench_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        try:
            yield (
                make_url(server_url)
                .set(drivername="postgresql+psycopg", database=name)
                .render_as_string(hide_password=False)
            )
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    return fresh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", type=Path, required=True, help="a checkout")
    parser.add_argument("--threads", type=int, default=40, help="threads written per run")
    parser.add_argument("--steps", type=int, default=10, help="steps per thread")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres-url", help="a server where scratch databases may be made")
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.tree]
    backends: dict[str, Callable[[], Any]] = {"sqlite": _sqlite_url}
    if args.postgres_url:
        backends["postgres"] = _postgres_urls(args.postgres_url)
    cpu: dict[str, dict[str, dict[str, list[float]]]] = {
        backend: {str(tree): {call: [] for call in CALLS} for tree in trees} for backend in backends
    }
    for backend, fresh_url in backends.items():
        for round_ in range(args.rounds):
            for tree in trees:
                with fresh_url() as url:
                    result = _child(tree, url, args.threads, args.steps)
                for call in CALLS:
                    cpu[backend][str(tree)][call].append(result["cpu_ms"][call])
                shown = ", ".join(f"{call} {result['cpu_ms'][call]:.2f}" for call in CALLS)
                print(f"{backend} round {round_ + 1} {result['module']}: {shown}", flush=True)

    medians = {
        backend: {
            tree: {call: statistics.median(values) for call, values in per_call.items()}
            for tree, per_call in per_tree.items()
        }
        for backend, per_tree in cpu.items()
    }
    first = str(trees[0])
    print(f"\nCPU ms per call, median of {args.rounds} rounds (× the first tree's)")
    for backend, per_tree in medians.items():
        print(f"\n{backend:<10}" + "".join(f"{call:>22}" for call in CALLS))
        for tree, per_call in per_tree.items():
            cells = "".join(
                f"{per_call[call]:>14.2f} ({per_call[call] / medians[backend][first][call]:.2f}×)"
                for call in CALLS
            )
            print(f"{Path(tree).name:<10}{cells}")
    out = ROOT / "results" / f"datalayer-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    report = {
        "trees": [str(tree) for tree in trees],
        "threads": args.threads,
        "steps_per_thread": args.steps,
        "rounds": args.rounds,
        "cpu_ms_per_call": cpu,
        "median_cpu_ms_per_call": medians,
    }
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
