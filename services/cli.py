"""The ``workledger`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING
from uuid import UUID

from services.cli_backup import BACKUP_COMMANDS, add_backup_commands, run_backup_command
from services.cli_deploy import DEPLOY_COMMANDS, add_deploy_commands, run_deploy_command
from services.cli_history import add_history_commands, run_history_command
from services.cli_tokens import add_token_commands, run_token_command, sign_in_link
from services.infrastructure.logs import configure_logging
from services.infrastructure.settings import Settings, SettingsError

if TYPE_CHECKING:
    from services.app import Runtime
    from services.infrastructure.store import EventStore

# How long a thread may hold the interpreter lock while another waits for it, in `serve`. There
# the event loop answering requests shares the lock with five projection workers whose pages are
# CPU work; Python's default of 5 ms lets a page keep a waiting request that long. Under a paced
# 500 commands/s (`test_lag.py`, seven alternating runs each) 1 ms gave a median commit-to-view
# p99 of 166 ms against 179 ms at the default.
SERVE_SWITCH_INTERVAL = 0.001


def _serve(settings: Settings, args: argparse.Namespace, *, scheduler: bool) -> int:
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    workers = args.workers or settings.workers
    if workers > 1 and not settings.database_url:
        print(
            "workledger: several workers need PostgreSQL (WORKLEDGER_DATABASE_URL)", file=sys.stderr
        )
        return 2
    if workers > 1 and scheduler:
        print(
            "workledger: serve runs everything in one process; for several API processes run"
            " `workledger api --workers N` beside `workledger worker`",
            file=sys.stderr,
        )
        return 2
    if workers > 1:
        from services.infrastructure.metrics import multiprocess_directory

        # The API processes count in one directory, so that any of them answers a scrape for all.
        # It exists before anything is measured: prometheus-client writes there once imported.
        with multiprocess_directory():
            return _start_serving(settings, args, host, port, workers, scheduler=False)
    return _start_serving(settings, args, host, port, workers, scheduler=scheduler)


def _start_serving(
    settings: Settings,
    args: argparse.Namespace,
    host: str,
    port: int,
    workers: int,
    *,
    scheduler: bool,
) -> int:
    import uvicorn

    from services.app import build_runtime, create_app, settle_heap

    runtime = build_runtime(
        settings, run_scheduler=scheduler, run_workers=scheduler, run_relay=scheduler
    )
    store = "PostgreSQL" if settings.database_url else f"SQLite at {settings.sqlite_path}"
    print(f"workledger: events in {store}", flush=True)
    token = None
    if args.admin_token or not settings.database_url:
        token = runtime.tokens.create("admin", _admin_member(runtime))
        print(f"workledger: admin token  {token}", flush=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    # The workspace, signed in with the admin token when one was printed.
    workspace = sign_in_link(base, token) if token else f"{base}/"
    print(f"workledger: open         {workspace}", flush=True)
    print(f"workledger: API docs     {base}/docs", flush=True)
    if workers > 1:
        runtime.close()
        from services.api_processes import run_api_processes

        try:
            run_api_processes(
                uvicorn.Config(
                    "services.app:api_app",
                    factory=True,
                    workers=workers,
                    host=host,
                    port=port,
                    log_level=settings.log_level,
                    log_config=None,
                    access_log=False,
                    timeout_graceful_shutdown=10,
                )
            )
        except OSError as error:
            print(f"workledger: can't listen on {host}:{port}: {error}", file=sys.stderr)
            return 1
        return 0
    from services.stream.feed import FeedServer

    config = uvicorn.Config(
        create_app(runtime),
        host=host,
        port=port,
        log_level=settings.log_level,
        log_config=None,
        access_log=False,
    )
    settle_heap()
    if scheduler:
        sys.setswitchinterval(SERVE_SWITCH_INTERVAL)
    try:
        # Ends open event streams on shutdown, which would otherwise keep the server waiting.
        FeedServer(config, runtime.event_feed).run()
    finally:
        runtime.close()
    return 0


ADMIN_EMAIL = "admin@workledger.localhost"


def _admin_member(runtime: Runtime) -> UUID:
    """The member the printed admin token acts for, registered on the first start: so that
    what the token does is recorded as a person's, and ``/v1/views/queue/me`` is theirs."""
    from contracts.commands import CreateMember
    from services.command.actions import members
    from services.command.handler import CommandContext
    from services.command.outcomes import ClaimConflict
    from services.infrastructure.ids import new_id

    runtime.committer.start()
    context = CommandContext(
        actor="system",
        principal="system:serve",
        now=runtime.clock(),
        correlation_id=new_id(),
        causation_id=new_id(),
    )
    body = CreateMember(name="Admin", email=ADMIN_EMAIL, role="admin", weekly_capacity=0)
    try:
        return UUID(runtime.handler.execute(context, members.create_member(body)).body["id"])
    except ClaimConflict as taken:
        return taken.owner_id


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    import signal
    import threading

    from services.app import build_runtime, settle_heap
    from services.infrastructure.metrics_server import serve_metrics_port
    from services.projections.views import all_projections

    names = [projection.name for projection in all_projections()]
    if args.view is not None and args.view not in names:
        print(f"workledger: no view {args.view!r}; views: {', '.join(names)}", file=sys.stderr)
        return 2
    views = [args.view] if args.view else None
    runtime = build_runtime(settings, run_scheduler=not args.no_scheduler, views=views)
    settle_heap()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    runtime.start()
    metrics_server = serve_metrics_port(runtime.metrics, settings)
    running = ", ".join(worker.name for worker in runtime.workers)
    print(f"workledger: worker running views: {running}", flush=True)
    try:
        stop.wait()
    finally:
        if metrics_server is not None:
            metrics_server.close()
        runtime.close()
    return 0


@contextmanager
def _opened_store(settings: Settings) -> Iterator[EventStore]:
    """The log the settings name, for a command that reads or writes it and is done."""
    from services.app import make_codec, open_backend, utc_now
    from services.infrastructure.store import EventStore

    backend = open_backend(settings)
    try:
        yield EventStore(backend, make_codec(), utc_now)
    finally:
        backend.close()


def _rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    from services.projections.runner import (
        PositionLost,
        RebuildInProgress,
        RebuildProgress,
        rebuild,
    )
    from services.projections.views import all_projections

    projections = {projection.name: projection for projection in all_projections()}
    if args.view not in projections:
        print(
            f"workledger: no view {args.view!r}; views: {', '.join(projections)}", file=sys.stderr
        )
        return 2
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("position {task.completed:>12,.0f}  {task.fields[rate]:>9,.0f} events/s"),
    )
    with (
        _opened_store(settings) as store,
        Progress(*columns, console=Console(stderr=True)) as bar,
    ):
        task = bar.add_task(args.view, total=None, rate=0.0)

        def progress(step: RebuildProgress) -> None:
            bar.update(task, completed=step.position, total=step.target or None, rate=step.rate)

        try:
            result = rebuild(store, store.backend, projections[args.view], progress=progress)
        except (RebuildInProgress, PositionLost) as refused:
            bar.stop()
            print(f"workledger: {refused}; nothing was changed", file=sys.stderr)
            return 1
    print(
        f"workledger: rebuilt {args.view} from the log up to position {result.position:,} "
        f"({result.applied:,} of its events applied) in {result.seconds:.1f} s "
        f"({result.rate:,.0f} events/s of the log)"
    )
    return 0


def _status(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from rich.console import Console
    from rich.table import Table

    from services.projections.health import ensure_health_table, views_health
    from services.projections.views import all_projections

    def moment(seconds: float | None) -> str:
        if seconds is None:
            return "-"
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")

    with _opened_store(settings) as store:
        ensure_health_table(store.backend)
        names = [projection.name for projection in all_projections()]
        table = Table(title=f"log: {store.last_position():,} events")
        for heading in ("view", "position", "lag events", "lag s", "last page (UTC)", "failures"):
            table.add_column(heading, justify="left" if heading == "view" else "right")
        table.add_column("last error", overflow="fold")
        for view in views_health(store, names):
            table.add_row(
                view.name,
                f"{view.position:,}",
                f"{view.lag_events:,}",
                f"{view.lag_seconds:.1f}",
                moment(view.last_page_at),
                str(view.failures),
                f"[red]{view.last_error}[/red] ({moment(view.failed_at)})"
                if view.last_error
                else "-",
            )
        console = Console(width=max(Console().width, 120))
        console.print(table)
        if settings.kafka_bootstrap_servers:
            from services.stream.relay_positions import relay_status

            console.print(relay_status(store, settings).describe())
    return 0


def _relay(settings: Settings) -> int:
    from services.stream.relay_process import run_relay

    with _opened_store(settings) as store:
        return run_relay(settings, store)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workledger",
        description="Event-sourced work management. Settings come from WORKLEDGER_* variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        (
            "serve",
            "run everything in one process: the API, the views' workers, the scheduler,"
            " and the relay when Kafka is configured",
        ),
        ("api", "run the HTTP API alone"),
    ):
        serve = commands.add_parser(name, help=text)
        serve.add_argument("--host", help="address to listen on (WORKLEDGER_HOST)")
        serve.add_argument("--port", type=int, help="port to listen on (WORKLEDGER_PORT)")
        serve.add_argument(
            "--workers", type=int, help="API processes on PostgreSQL (WORKLEDGER_WORKERS)"
        )
        serve.add_argument(
            "--admin-token",
            action="store_true",
            help="print a new admin token at start (always done on SQLite)",
        )
    worker = commands.add_parser("worker", help="run projection workers and the scheduler")
    worker.add_argument("--view", help="run only this view's worker")
    worker.add_argument("--no-scheduler", action="store_true", help="don't tick operations")
    rebuild = commands.add_parser("rebuild", help="rebuild a view from the log while it serves")
    rebuild.add_argument("view", metavar="NAME")
    commands.add_parser("status", help="each view's and the relay's position and lag")
    commands.add_parser("relay", help="publish the event log to Kafka (WORKLEDGER_KAFKA_*)")
    add_history_commands(commands)
    add_backup_commands(commands)
    add_deploy_commands(commands)
    add_token_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"workledger: {error}", file=sys.stderr)
        return 2
    configure_logging(settings)
    if args.command == "serve":
        return _serve(settings, args, scheduler=True)
    if args.command == "api":
        return _serve(settings, args, scheduler=False)
    if args.command == "worker":
        return _worker(settings, args)
    if args.command == "rebuild":
        return _rebuild(settings, args)
    if args.command == "status":
        return _status(settings, args)
    if args.command == "relay":
        return _relay(settings)
    if args.command == "token":
        return run_token_command(settings, args)
    if args.command in ("import", "demo"):
        return run_history_command(settings, args)
    if args.command in BACKUP_COMMANDS:
        return run_backup_command(settings, args)
    if args.command in DEPLOY_COMMANDS:
        return run_deploy_command(settings, args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
