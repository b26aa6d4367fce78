"""Build benchmark for large catalogs: peak memory and embedding throughput of ``recbot build``.

Generates a synthetic MovieLens-format catalog (``movies.csv`` with titles made of words, a year
and 1-3 genres; ``ratings.csv`` with ``--ratings-per-item`` ratings per item on average from
``items / 10`` users; ``tags.csv`` with about one tag per item from a 400-word vocabulary),
then runs the catalog build (load → store → text → embed → index) in a child process and
reports its wall time per stage, peak resident memory (``ru_maxrss`` / ``VmHWM``) and embedding
items/s. ``--ranker`` then runs the ranker stage of ``recbot build`` (read the build, split,
features, train for ``--ranker-epochs``; ``0`` prepares every training input but takes no step)
in a second child on the same home and reports it the same way; ``--ranker-only`` measures
just that stage on the home a ``--keep`` run left.

``--embedder fake`` uses a hash-seeded random 384-d vector per text (microseconds each), for
memory and streaming runs at 10^6 items that the real model cannot embed in reasonable time on
two cores; ``minilm`` is the real all-MiniLM-L6-v2 (project default); ``--ray [ADDRESS]`` embeds
on Ray (a local instance without an address).

    python benchmarks/build_scale.py --items 100000 --embedder fake --index-kind flat
    python benchmarks/build_scale.py --items 10000 --embedder minilm [--ray]
    python benchmarks/build_scale.py --items 100000 --ranker --ranker-epochs 1 --keep /tmp/bs
    python benchmarks/build_scale.py --items 100000 --ranker-only --keep /tmp/bs
"""

# ruff: noqa: E402  (the path fix below must run before the project imports)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and benchmarks/ranker.py would
# shadow the `ranker` package; drop that entry.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import resource
import shutil
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

GENRES = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)  # fmt: skip
WORDS = (
    "silent", "river", "night", "city", "last", "king", "dark", "summer", "lost", "road", "star",
    "house", "winter", "blood", "love", "war", "secret", "garden", "storm", "shadow", "iron",
    "golden", "empire", "ghost", "island", "mountain", "fire", "ocean", "dream", "moon", "stone",
    "glass", "paper", "wolf", "crow", "heart", "queen", "devil", "angel", "train", "bridge",
    "north", "west", "midnight", "return", "escape", "journey", "echo", "mirror", "silver",
    "black", "white", "red", "blue", "little", "big", "long",
)  # fmt: skip


# --- the synthetic catalog ------------------------------------------------------------------


def generate(directory: Path, *, items: int, ratings_per_item: float, seed: int = 0) -> None:
    """Write movies.csv, ratings.csv and tags.csv for ``items`` synthetic films."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    chunk = 100_000
    tags = [f"{a} {b}" for a in WORDS[:20] for b in WORDS[20:40]]  # 400 two-word tags
    with (directory / "movies.csv").open("w") as movies, (directory / "tags.csv").open("w") as t:
        movies.write("movieId,title,genres\n")
        t.write("userId,movieId,tag,timestamp\n")
        for start in range(1, items + 1, chunk):
            ids = np.arange(start, min(start + chunk, items + 1))
            n = len(ids)
            words = rng.integers(0, len(WORDS), size=(n, 3))
            lengths = rng.integers(1, 4, size=n)
            years = rng.integers(1920, 2024, size=n)
            genre_ids = rng.integers(0, len(GENRES), size=(n, 3))
            n_genres = rng.integers(1, 4, size=n)
            lines = []
            for i in range(n):
                title = " ".join(WORDS[w].title() for w in words[i, : lengths[i]])
                genres = "|".join(dict.fromkeys(GENRES[g] for g in genre_ids[i, : n_genres[i]]))
                lines.append(f'{ids[i]},"{title} {ids[i]} ({years[i]})",{genres}\n')
            movies.writelines(lines)
            tag_users = rng.integers(1, max(items // 10, 2), size=n)
            tag_ids = rng.integers(0, len(tags), size=n)
            t.writelines(
                f"{u},{m},{tags[g]},0\n" for u, m, g in zip(tag_users, ids, tag_ids, strict=True)
            )
    total = int(items * ratings_per_item)
    users = max(items // 10, 2)
    with (directory / "ratings.csv").open("w") as ratings:
        ratings.write("userId,movieId,rating,timestamp\n")
        for start in range(0, total, chunk):
            n = min(chunk, total - start)
            user = rng.integers(1, users + 1, size=n)
            # popular items get more ratings, as in MovieLens (a Zipf-like head)
            movie = np.minimum((rng.pareto(1.2, size=n) * items / 20).astype(np.int64), items - 1)
            stars = rng.integers(1, 11, size=n) / 2
            when = 1_000_000_000 + start + np.arange(n)  # unique per row: no duplicate triples
            ratings.writelines(
                f"{u},{m + 1},{s:.1f},{w}\n"
                for u, m, s, w in zip(user, movie, stars, when, strict=True)
            )


class HashEmbedder:
    """A stand-in for the sentence model costing microseconds per text: a unit vector seeded by
    the text's CRC-32. Measures memory and streaming, not semantics."""

    model_name = "benchmark/hash-384"
    dim = 384

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            vector = np.random.default_rng(zlib.crc32(text.encode())).standard_normal(self.dim)
            out[row] = vector / np.linalg.norm(vector)
        return out


# --- the measured build (child process) -----------------------------------------------------


def _status_mb() -> dict[str, float]:
    """VmHWM, RssAnon and RssFile of this process from /proc (empty where there is none)."""
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return out


class PeakSampler:
    """Samples RssAnon every 0.1 s: the peak of memory the process holds itself, without the
    pages of memory-mapped files (the embedding cache) that VmHWM / ru_maxrss also count and
    the kernel can drop at will."""

    def __init__(self) -> None:
        self.peak_anon = 0.0
        self.phase_peak = 0.0  # since the last phase()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()

    def _sample(self) -> float:
        now = _status_mb().get("RssAnon", 0.0)
        self.peak_anon = max(self.peak_anon, now)
        self.phase_peak = max(self.phase_peak, now)
        return now

    def phase(self) -> float:
        """Peak anonymous MB since the previous call (or the start); starts the next phase."""
        peak = max(self.phase_peak, self._sample())
        self.phase_peak = 0.0
        return round(peak, 1)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        status = _status_mb()
        return {
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_anon_mb": max(self.peak_anon, status.get("RssAnon", 0.0)),
            "end_file_mb": status.get("RssFile", 0.0),
        }


def run_build(args: argparse.Namespace) -> dict[str, Any]:
    from catalog.build import BuildConfig, build

    home = Path(args.home)
    config = BuildConfig(
        home=home,
        database_url=f"sqlite:///{home / 'app.db'}",
        data_dir=Path(args.data_dir),
        index_kind=args.index_kind,
    )
    embedder: Any
    if args.embedder == "fake":
        embedder = HashEmbedder()
    else:
        from catalog.embeddings import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(batch_size=64)
    if args.ray is not None:
        from jobs.ray_embed import RayEmbedder

        embedder = RayEmbedder(args.ray, num_cpus=args.ray_cpus, batch_size=64)
    sampler = PeakSampler()
    start = time.perf_counter()
    manifest = build(config, embedder, force=True, progress=False, log=lambda _m: None)
    wall = time.perf_counter() - start
    memory = sampler.stop()
    items = manifest.counts["items"]
    embed_s = manifest.timings_s.get("embed", 0.0)
    return {
        "items": items,
        "interactions": manifest.counts["interactions"],
        "embedder": args.embedder + ("+ray" if args.ray is not None else ""),
        "index_kind": manifest.index["kind"],
        "wall_s": round(wall, 1),
        "timings_s": manifest.timings_s,
        "embed_items_per_s": round(items / embed_s, 1) if embed_s else None,
        **{key: round(value, 1) for key, value in memory.items()},
    }


def run_ranker(args: argparse.Namespace) -> dict[str, Any]:
    """The ranker stage of ``recbot build`` on a finished catalog build, phase by phase:
    read the build, split + features (+ training inputs), then the epochs."""
    from catalog.build import BuildConfig
    from ranker.pipeline import ensure_ranker, read_inputs
    from ranker.train import TrainConfig

    home = Path(args.home)
    config = BuildConfig(
        home=home, database_url=f"sqlite:///{home / 'app.db'}", data_dir=Path(args.data_dir)
    )
    train_config = TrainConfig(epochs=args.ranker_epochs, seed=1)
    marks: dict[str, float] = {}

    def log(message: str) -> None:  # the first line after split and features are ready
        if message.startswith("Training the ranker") and "prepare" not in marks:
            marks["prepare"] = time.perf_counter()
            peaks["prepare"] = sampler.phase()

    peaks: dict[str, float] = {}
    sampler = PeakSampler()
    start = time.perf_counter()
    inputs = read_inputs(config)
    read = time.perf_counter()
    peaks["read"] = sampler.phase()
    manifest, _ = ensure_ranker(
        config, train_config, inputs=inputs, force=True, progress=False, log=log
    )
    end = time.perf_counter()
    peaks["train"] = sampler.phase()
    memory = sampler.stop()
    split = manifest["split"]
    return {
        "stage": "ranker",
        "items": len(inputs.content),
        "interactions": split["interactions"],
        "protocol_items": split["items"],
        "users": split["users"],
        "epochs": manifest["epochs"],
        "wall_s": round(end - start, 1),
        "timings_s": {
            "read": round(read - start, 1),
            "prepare": round(marks.get("prepare", end) - read, 1),
            "train": round(end - marks.get("prepare", end), 1),
        },
        "peak_anon_mb_by_phase": peaks,
        "content": type(inputs.content).__name__,
        **{key: round(value, 1) for key, value in memory.items()},
    }


def _child(args: argparse.Namespace, home: Path, data_dir: Path, stage: str) -> dict[str, Any]:
    """Run one measured stage in a fresh interpreter; its JSON row."""
    child = [sys.executable, __file__, "--child", stage, "--home", str(home), "--data-dir"]
    child += [str(data_dir), "--embedder", args.embedder, "--index-kind", args.index_kind]
    child += ["--ranker-epochs", str(args.ranker_epochs)]
    if args.ray is not None:
        child += ["--ray", args.ray, "--ray-cpus", str(args.ray_cpus)]
    done = subprocess.run(child, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr[-4000:], file=sys.stderr)
        raise SystemExit(done.returncode)
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return row


# --- the driver -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--ratings-per-item", type=float, default=5.0)
    parser.add_argument("--embedder", choices=("fake", "minilm"), default="fake")
    parser.add_argument("--index-kind", default="auto", help="auto, flat, hnsw or ivfpq")
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS")
    parser.add_argument("--ray-cpus", type=int, default=2, help="CPUs of a local Ray instance")
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this directory")
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--ranker", action="store_true", help="measure the ranker stage too")
    parser.add_argument(
        "--ranker-only", action="store_true", help="only the ranker stage, on the --keep home"
    )
    parser.add_argument(
        "--ranker-epochs", type=int, default=1, help="0: prepare every training input, no step"
    )
    parser.add_argument("--child", choices=("build", "ranker"), help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ray is not None and args.embedder == "fake":
        parser.error("--ray embeds with the real model: use --embedder minilm")
    if args.ranker_only and args.keep is None:
        parser.error("--ranker-only measures the home a --keep run left: give --keep")
    if args.child:
        print(json.dumps(run_build(args) if args.child == "build" else run_ranker(args)))
        return 0
    work = args.keep or Path(tempfile.mkdtemp(prefix="build-scale-"))
    data_dir = work / f"ml-synthetic-{args.items}"
    home = work / f"home-{args.items}-{args.embedder}{'-ray' if args.ray else ''}"
    rows = []
    try:
        if not (data_dir / "ratings.csv").exists():
            started = time.perf_counter()
            generate(data_dir, items=args.items, ratings_per_item=args.ratings_per_item)
            print(f"generated {data_dir} in {time.perf_counter() - started:.0f} s", flush=True)
        if not args.ranker_only:
            shutil.rmtree(home, ignore_errors=True)
            rows.append(_child(args, home, data_dir, "build"))
        if args.ranker or args.ranker_only:
            rows.append(_child(args, home, data_dir, "ranker"))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    for row in rows:
        row.update(date=date.today().isoformat(), cpus=os.cpu_count(), load=os.getloadavg()[0])
        print(json.dumps(row, indent=2))
        with (args.out / "build_scale.jsonl").open("a") as handle:
            handle.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
