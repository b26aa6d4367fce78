"""The ``recbot`` command line: one function per command that parses, calls and renders.

Errors from the layers below arrive as :class:`catalog.errors.RecbotError` and are printed as
their message with exit code 1; usage errors exit with 2 (argparse's convention).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from catalog.build import BuildConfig, Manifest, load_manifest
from catalog.embeddings import Embedder
from catalog.errors import RecbotError, RequestError
from catalog.search import ItemFilter
from ui.settings import WebSettings

if TYPE_CHECKING:
    from ranker.train import TrainConfig


@dataclass
class Context:
    """What every command gets: the settings and the embedder (tests pass a fake one)."""

    settings: WebSettings
    fixed_embedder: Embedder | None = None

    @property
    def config(self) -> BuildConfig:
        return self.settings.build_config()

    @property
    def train_config(self) -> TrainConfig:
        return self.settings.train_config()

    def embedder(self, *, progress: bool = False) -> Embedder:
        if self.fixed_embedder is not None:
            return self.fixed_embedder
        from catalog.embeddings import SentenceTransformerEmbedder

        size = self.settings.embedding_batch_size
        return SentenceTransformerEmbedder(batch_size=size, progress=progress)


def cmd_build(args: argparse.Namespace, ctx: Context) -> int:
    from jobs.build import build_all

    quiet = args.quiet
    log = (lambda _msg: None) if quiet else print
    manifest = build_all(
        ctx.settings,
        ctx.embedder(progress=not quiet),
        force=args.force,
        progress=not quiet,
        log=log,
        ray_address=args.ray,
    )
    print(_describe(manifest, ctx.config))
    return 0


def cmd_train(args: argparse.Namespace, ctx: Context) -> int:
    from ranker.pipeline import ensure_ranker

    ranker, _status = ensure_ranker(
        ctx.config, ctx.train_config, force=True, progress=not args.quiet, log=print
    )
    print(f"ranker        {ranker.get('checkpoint')}")
    print(f"validation    {_metrics(ranker.get('valid_metrics', {}))}")
    dialogues = args.dialogues or ctx.settings.dialogues_dir
    if dialogues is not None:
        from agent.wiring import build_deps
        from jobs.conversation_training import train_conversation_model

        train_conversation_model(
            build_deps(ctx.settings, embedder=ctx.embedder()),
            dialogues,
            ctx.config.artifacts,
            progress=not args.quiet,
        )
    return 0


def cmd_eval(args: argparse.Namespace, ctx: Context) -> int:
    from ranker.offline_eval import run_eval

    out = args.out or ctx.settings.results_dir
    if args.dialogues is not None:
        from jobs.dialogue_systems import run_dialogue_benchmark

        run_dialogue_benchmark(
            ctx.settings,
            args.dialogues,
            out / "dialogues",
            limit=args.limit,
            systems=args.systems.split(",") if args.systems else None,
            embedder=ctx.embedder(),
            progress=not args.quiet,
        )
        return 0
    if args.llm_rerank is not None:
        return _eval_llm_rerank(args, ctx, out / "llm-rerank")
    rerank_only = (args.rerank_top, args.users, args.seed, args.call_timeout)
    if any(value is not None for value in rerank_only):
        print(
            "recbot: --rerank-top, --users, --seed and --call-timeout go with --llm-rerank",
            file=sys.stderr,
        )
        return 2
    run_eval(ctx.config, ctx.train_config, ctx.embedder(), out, funnel=not args.no_funnel)
    return 0


def _eval_llm_rerank(args: argparse.Namespace, ctx: Context, out: Path) -> int:
    """``recbot eval --llm-rerank MODE``: the DNN alone vs the DNN's top K reranked by the LLM."""
    from jobs.rerank_eval import RerankEvalConfig, run_rerank_eval

    settings = ctx.settings
    given = {"seed": args.seed, "call_timeout": args.call_timeout}
    try:
        config = RerankEvalConfig(
            mode=args.llm_rerank,
            top=settings.rerank_top if args.rerank_top is None else args.rerank_top,
            users=args.users,
            history_items=settings.llm_history_items,
            max_history=settings.ranker_max_history,
            **{name: value for name, value in given.items() if value is not None},
        )
    except ValueError as error:
        print(f"recbot: {error}", file=sys.stderr)
        return 2
    run_rerank_eval(settings, config, out, progress=not args.quiet)
    return 0


def cmd_export_finetune(args: argparse.Namespace, ctx: Context) -> int:
    from jobs.finetune import FORMATS, FinetuneConfig, export_from_build

    try:
        config = FinetuneConfig(
            formats=FORMATS if args.format == "both" else (args.format,),
            max_history=args.max_history,
            min_history=args.min_history,
            candidates=args.candidates,
            negatives=args.negatives,
            like_threshold=args.like_threshold,
            seed=args.seed,
            limit_users=args.limit_users,
            valid_share=args.valid_share,
        )
    except ValueError as error:
        print(f"recbot: {error}", file=sys.stderr)
        return 2
    out = args.out or ctx.settings.results_dir / "finetune"
    log = (lambda _msg: None) if args.quiet else print
    manifest = export_from_build(ctx.config, out, config, progress=not args.quiet, log=log)
    for name, written in manifest["files"].items():
        print(f"{name:<24}{written['records']:>10} records")
    print(f"manifest                {out / 'manifest.json'}")
    return 0


def cmd_enrich(args: argparse.Namespace, ctx: Context) -> int:
    """Describe items once, offline: with the configured LLM, else by rules (``jobs.enrich``).
    Exits 1 when some items failed; they are left for the next run."""
    from jobs.enrich import enrich_catalog

    if args.limit is not None and args.limit < 1:
        print("recbot: --limit must be at least 1", file=sys.stderr)
        return 2
    report = enrich_catalog(
        ctx.settings, limit=args.limit, rules=args.rules, progress=not args.quiet
    )
    print(report.summary())
    if report.enriched and ctx.settings.use_enriched_text:
        print("Run `recbot build` to embed the new descriptions.")
    return 1 if report.failed else 0


def _metrics(metrics: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))


def cmd_info(args: argparse.Namespace, ctx: Context) -> int:
    config = ctx.config
    manifest = load_manifest(config)
    if args.json:
        print(json.dumps({"home": str(config.home), **vars(manifest)}, indent=2, sort_keys=True))
    else:
        print(_describe(manifest, config))
    return 0


def _describe(manifest: Manifest, config: BuildConfig) -> str:
    counts = manifest.counts
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in manifest.timings_s.items())
    stages = ", ".join(f"{k} {v}" for k, v in manifest.stages.items())
    return "\n".join(
        [
            f"recbot home   {config.home}",
            f"catalog       {manifest.data_dir} ({manifest.data_format}, sha256 {manifest.data_hash[:12]})",
            f"built at      {manifest.built_at}",
            f"database      {manifest.database_url}",
            f"items         {counts.get('items', 0)}   interactions {counts.get('interactions', 0)}"
            f"   users {counts.get('users', 0)}   skipped rows {counts.get('skipped_rows', 0)}",
            f"embeddings    {manifest.model_name} ({manifest.dim}-d) → {config.embeddings_path}"
            f" ({counts.get('enriched', 0)} items with enriched text)",
            f"index         {manifest.index.get('kind')} over {manifest.index.get('count')} items"
            f" → {config.index_dir}"
            + (f"\n              ({why})" if (why := manifest.index.get("kind_reason")) else ""),
            f"ranker        {_ranker_line(config)}",
            f"stages        {stages}",
            f"timings       {timings}",
        ]
    )


def _ranker_line(config: BuildConfig) -> str:
    try:
        ranker = json.loads((config.artifacts / "ranker.json").read_text())
    except (OSError, ValueError):
        return "not trained (run `recbot build` or `recbot train`)"
    seconds = ranker.get("train_seconds", 0)
    return (
        f"{ranker.get('checkpoint')} ({ranker.get('epochs')} epochs, {seconds}s; "
        f"validation {_metrics(ranker.get('valid_metrics', {}))})"
    )


def cmd_search(args: argparse.Namespace, ctx: Context) -> int:
    from catalog.artifacts import open_artifacts
    from catalog.index import configure_threads

    configure_threads(1)  # one query: a single thread is fastest (docs/architecture.md)
    artifacts = open_artifacts(ctx.config, ctx.embedder())
    catalog, retriever = artifacts.catalog, artifacts.retriever
    liked = []
    for title in args.like:
        matches = catalog.search_titles(title, limit=3)
        if not matches:
            print(f"No title in the catalog matches {title!r}.", file=sys.stderr)
            return 1
        best = matches[0]
        if not best.sure:
            others = "; ".join(m.item.display_title for m in matches[1:])
            print(
                f"Taking {best.item.display_title} for {title!r} (also: {others})", file=sys.stderr
            )
        liked.append(best.item.id)
    item_filter = ItemFilter(
        include_genres=frozenset(args.genre),
        exclude_genres=frozenset(args.exclude_genre),
        min_year=args.min_year,
        max_year=args.max_year,
    )
    if args.text:
        candidates = retriever.by_text(args.text, args.k, item_filter)
    elif len(liked) == 1:
        candidates = retriever.by_item(liked[0], args.k, item_filter)
    else:
        candidates = retriever.by_items(liked, args.k, item_filter)
    rows = [(c, catalog.get(c.item_id)) for c in candidates]
    if args.json:
        payload = [
            {"item_id": item.id, "title": item.display_title, "genres": list(item.genres),
             "score": round(c.score, 4)}
            for c, item in rows
        ]  # fmt: skip
        print(json.dumps(payload, indent=2))
        return 0
    if not rows:
        print("No item matches these filters.")
    for rank, (candidate, item) in enumerate(rows, start=1):
        genres = "|".join(item.genres)
        print(f"{rank:>3}. {candidate.score:.3f}  {item.display_title}  [{genres}]  (id {item.id})")
    return 0


def _recommender(ctx: Context, *, persistent: bool) -> Any:
    """The agent; ``persistent``: its memory in the checkpoint file (or Postgres, by
    ``RECBOT_DATABASE_URL``) and whose each conversation is in the app database
    (``recbot chat``), else both in memory (``recbot ask``)."""
    from agent.pg_checkpoints import checkpointer
    from agent.recommender import Recommender
    from agent.wiring import build_deps

    settings = ctx.settings
    saver = checkpointer(settings) if persistent else None
    return Recommender(build_deps(settings, embedder=ctx.fixed_embedder), saver)


def _render(reply: Any) -> str:
    return reply.reply


def cmd_chat(args: argparse.Namespace, ctx: Context) -> int:
    """A terminal REPL over one persisted conversation (``--thread`` resumes it)."""
    recommender = _recommender(ctx, persistent=True)
    try:
        return _chat(recommender, args)
    finally:
        recommender.close()


def _chat(recommender: Any, args: argparse.Namespace) -> int:
    import uuid

    thread = args.thread or uuid.uuid4().hex[:12]
    if args.thread:  # someone else's conversation: a plain message and exit code 1
        recommender.ensure_access(thread, args.user)
    print(
        f"recbot — conversation {thread} (resume with --thread {thread}). Ctrl-D or /quit to leave."
    )
    print("Feedback on the last list: /like N, /no N (not for me), /seen N.")
    last: list[int] = []
    while True:
        try:
            line = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        text = line.strip()
        if text in {"/quit", "/exit"}:
            return 0
        command = text.split()
        if command and command[0] in _FEEDBACK and len(command) == 2 and command[1].isdigit():
            position = int(command[1])
            if not 1 <= position <= len(last):
                print(f"recbot> There is no item {position} in the last list.")
                continue
            kind = _FEEDBACK[command[0]]
            recommender.record_feedback(thread, last[position - 1], kind, user_id=args.user)
            print(f"recbot> Noted ({kind}).")
            continue
        try:
            reply = recommender.reply(text, user_id=args.user, thread_id=thread, k=args.k)
        except RecbotError as error:
            print(f"recbot> Sorry, something went wrong: {error}")
            continue
        if reply.recommendations:
            last = [r.item_id for r in reply.recommendations]
        print("recbot> " + _render(reply))


_FEEDBACK = {"/like": "liked", "/no": "rejected", "/seen": "seen"}


def cmd_ask(args: argparse.Namespace, ctx: Context) -> int:
    """JSON in (a file or stdin), JSON out, as in ../shared/DESIGN.md §5."""
    from ui.ask_request import parse_request, read_request

    try:
        request = parse_request(
            read_request(args.input or "-"),
            max_messages=ctx.settings.max_request_messages,
            max_message_chars=ctx.settings.max_request_message_chars,
        )
    except RequestError as error:
        print(json.dumps({"error": str(error)}))
        return 2
    recommender = _recommender(ctx, persistent=False)
    reply = recommender.reply(
        request.messages, user_id=request.user_id, k=request.k, must_recommend=args.must_recommend
    )
    print(reply.model_dump_json(indent=2, exclude={"thread_id"}))
    return 0


def cmd_simulate(args: argparse.Namespace, ctx: Context) -> int:
    from simulations.main import load_scenario, simulate

    try:
        config = load_scenario(
            args.config,
            sessions=args.sessions,
            max_turns=args.max_turns,
            seed=args.seed,
            k=args.k,
            workers=args.workers,
            simulator="llm" if args.llm else None,
            levers=args.lever or None,
        )
    except (ValueError, OSError) as error:
        print(f"recbot: {error}", file=sys.stderr)
        return 2
    out = args.out or ctx.settings.results_dir / "simulate"
    records, table = simulate(
        ctx.settings,
        config,
        out,
        fresh=args.fresh,
        progress=not args.quiet,
        embedder=ctx.fixed_embedder,
    )
    print(table)
    print(
        f"{len(records)} sessions; report: {out / 'report.md'}, transcripts: {out / 'transcripts.jsonl'}"
    )
    return 0


def cmd_serve(args: argparse.Namespace, ctx: Context) -> int:
    from jobs.build import build_all
    from ui.server import serve

    print("recbot: checking the build (only what is missing or changed is built)…", flush=True)
    build_all(ctx.settings, ctx.embedder(progress=True))
    host = args.host or ctx.settings.host
    port = args.port or ctx.settings.port
    return serve(ctx.settings, host=host, port=port, open_browser=args.open)


def cmd_widget_demo(args: argparse.Namespace, ctx: Context) -> int:
    from ui.server import LOCAL_HOSTS, serve_widget_demo

    host = "localhost" if ctx.settings.host in LOCAL_HOSTS else ctx.settings.host
    server = args.server or f"http://{host}:{ctx.settings.port}"
    port = args.port or ctx.settings.widget_port
    return serve_widget_demo(
        ctx.settings, server=server, host=args.host, port=port, identifier=args.user
    )


def cmd_forget(args: argparse.Namespace, ctx: Context) -> int:
    """Delete what recbot keeps about one person: conversations, feedback, account, chat
    history (``jobs/forget.py``; the LLM prompt cache holds nothing per person)."""
    from jobs.forget import forget
    from ui.datalayer import async_database_url, chat_history_eraser

    eraser = chat_history_eraser(async_database_url(ctx.settings.resolved_database_url))
    gone = forget(ctx.settings, args.user, erase_chat_history=eraser)
    signs_in = ", ".join(gone.identifiers) or "none"
    print(f"Forgot {args.user.strip()} (user id {gone.user_id}; sign-ins: {signs_in}). Deleted:")
    for what, count in gone.counts.items():
        print(f"  {what:<16} {count}")
    return 0


def _llm_rerank_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--llm-rerank",
        choices=["verbalizer", "listwise", "pointwise"],
        help="instead: the DNN alone vs its top K reranked by the configured LLM, same users",
    )
    p.add_argument(
        "--rerank-top", type=int, metavar="K", help="with --llm-rerank: K (RECBOT_RERANK_TOP, 20)"
    )
    p.add_argument(
        "--users", type=int, metavar="N", help="with --llm-rerank: a seeded sample of N users"
    )
    p.add_argument("--seed", type=int, help="with --users: which sample (default 0)")
    p.add_argument(
        "--call-timeout",
        type=float,
        metavar="S",
        help="with --llm-rerank: seconds one LLM call may take (default 180; not retried; "
        "no chat-turn deadline applies)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recbot", description="A conversational recommender.")
    parser.add_argument("--home", type=Path, help="artifact directory (RECBOT_HOME)")
    parser.add_argument("--data-dir", type=Path, help="catalog directory (RECBOT_DATA_DIR)")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("build", help="load, store, embed and index the catalog")
    p.add_argument("--force", action="store_true", help="rebuild every stage, ignoring caches")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="embed on a Ray cluster (without ADDRESS: a local Ray instance); needs recbot[ray]",
    )
    p.set_defaults(run=cmd_build)

    p = commands.add_parser(
        "train", help="retrain the DNN ranker (and learn from conversations, when given)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--dialogues",
        type=Path,
        metavar="DIR",
        help="real conversations to learn from (ReDial format; RECBOT_DIALOGUES_DIR)",
    )
    p.set_defaults(run=cmd_train)

    p = commands.add_parser("eval", help="offline metrics of the ranker and its baselines")
    p.add_argument("--out", type=Path, help="results directory (RECBOT_RESULTS_DIR)")
    p.add_argument("--no-funnel", action="store_true", help="skip the retrieval-recall report")
    p.add_argument(
        "--dialogues",
        type=Path,
        metavar="DIR",
        help="instead: the dialogue benchmark on real conversations (a ReDial-format folder)",
    )
    p.add_argument("--limit", type=int, help="with --dialogues: the first N conversations only")
    p.add_argument(
        "--systems", help="with --dialogues: comma-separated systems (default: recbot and floors)"
    )
    _llm_rerank_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_eval)

    p = commands.add_parser(
        "export-finetune", help="TallRec / LlamaRec JSONL from the ranker's training split"
    )
    p.add_argument("--out", type=Path, help="output directory (default RESULTS_DIR/finetune)")
    p.add_argument("--format", choices=["tallrec", "llamarec", "both"], default="both")
    p.add_argument("--max-history", type=int, default=10, help="history items (default 10)")
    p.add_argument("--min-history", type=int, default=1, help="before a target (default 1)")
    p.add_argument("--candidates", type=int, default=20, help="LlamaRec pool size (default 20)")
    p.add_argument("--negatives", type=int, default=0, help="extra TallRec No. per target")
    p.add_argument("--like-threshold", type=float, default=4.0, help="a like (default 4.0)")
    p.add_argument("--seed", type=int, default=0, help="sampling and user split (default 0)")
    p.add_argument("--limit-users", type=int, help="a seeded sample of this many users")
    p.add_argument("--valid-share", type=float, default=0.1, help="users in valid (default 0.1)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(run=cmd_export_finetune)

    p = commands.add_parser("enrich", help="describe items with the LLM (or rules) for embedding")
    p.add_argument("--limit", type=int, help="describe at most N items (to try it on a few)")
    p.add_argument("--rules", action="store_true", help="use rules even when an LLM is configured")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_enrich)

    p = commands.add_parser("chat", help="talk to the recommender in the terminal")
    p.add_argument("--user", type=int, help="a known user id (their history drives the warm path)")
    p.add_argument("--thread", help="resume this conversation id")
    p.add_argument("-k", type=int, default=None, help="recommendations per answer")
    p.set_defaults(run=cmd_chat)

    p = commands.add_parser(
        "forget", help="delete a person's conversations, feedback, account and chat history"
    )
    p.add_argument("--user", required=True, help="their user id or sign-in identifier")
    p.set_defaults(run=cmd_forget)

    p = commands.add_parser("simulate", help="simulated users with hidden targets; a report")
    p.add_argument("--sessions", type=int, help="sessions per system (default 40)")
    p.add_argument("--max-turns", type=int, help="turns before a session gives up (default 5)")
    p.add_argument("--seed", type=int, help="picks targets and phrasing (default 0)")
    p.add_argument("-k", type=int, help="recommendations per answer (default 10)")
    p.add_argument("--llm", action="store_true", help="the simulated users are the configured LLM")
    p.add_argument("--config", type=Path, help="a scenario TOML (flags override it)")
    p.add_argument("--workers", type=int, help="sessions in parallel (helps with an LLM)")
    p.add_argument(
        "--lever",
        action="append",
        metavar="NAME=VALUE",
        help="also run the LLM rerank with a cost lever: cache=on, history=5, rerank_top=50, "
        "rerank_warm=off, mode=verbalizer (repeatable)",
    )
    p.add_argument("--out", type=Path, help="report directory (default RESULTS_DIR/simulate)")
    p.add_argument("--fresh", action="store_true", help="start over instead of resuming")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_simulate)

    p = commands.add_parser("serve", help="the chat in the browser (builds first if needed)")
    p.add_argument("--host", help="interface to listen on (RECBOT_HOST, default localhost)")
    p.add_argument("--port", type=int, help="port (RECBOT_PORT, default 8000)")
    p.add_argument("--open", action="store_true", help="open a browser tab")
    p.set_defaults(run=cmd_serve)

    p = commands.add_parser("widget-demo", help="serve the widget example page (ui/widget)")
    p.add_argument("--server", help="the recbot server (default http://RECBOT_HOST:RECBOT_PORT)")
    p.add_argument("--host", default="localhost", help="interface for the page (default localhost)")
    p.add_argument("--port", type=int, help="port for the page (RECBOT_WIDGET_PORT, default 8001)")
    p.add_argument("--user", default="widget-demo", help="who the widget signs in as")
    p.set_defaults(run=cmd_widget_demo)

    p = commands.add_parser("ask", help="one request as JSON in, JSON out")
    p.add_argument("input", nargs="?", default="-", help="a JSON file, or - for stdin (default)")
    p.add_argument("--must-recommend", action="store_true", help="never ask a clarifying question")
    p.set_defaults(run=cmd_ask)

    p = commands.add_parser("info", help="print what is built and where")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_info)

    p = commands.add_parser("search", help="top catalog items for a text or for liked titles")
    p.add_argument("text", nargs="?", default="", help="what you are looking for")
    p.add_argument(
        "--like", action="append", default=[], metavar="TITLE", help="more like this title"
    )
    p.add_argument("-k", type=int, default=10, help="how many results (default 10)")
    p.add_argument(
        "--genre", action="append", default=[], help="keep items with any of these genres"
    )
    p.add_argument(
        "--exclude-genre", action="append", default=[], help="drop items with this genre"
    )
    p.add_argument("--min-year", type=int)
    p.add_argument("--max-year", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_search)
    return parser


def main(argv: Sequence[str] | None = None, *, embedder: Embedder | None = None) -> int:
    """Entry point of the ``recbot`` console script; ``embedder`` replaces the model in tests."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "search" and not args.text.strip() and not args.like:
        parser.error("search needs a text or at least one --like TITLE")
    overrides: dict[str, Any] = {}
    if args.home:
        overrides["home"] = args.home
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    try:
        ctx = Context(WebSettings(**overrides), embedder)
        return int(args.run(args, ctx))
    except ValidationError as error:
        print(f"recbot: invalid setting: {error}", file=sys.stderr)
        return 2
    except RecbotError as error:
        print(f"recbot: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
