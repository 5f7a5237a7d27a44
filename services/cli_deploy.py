"""The command line's commands for a deployment of separate processes: ``migrate``, the one step
that prepares the database before the others start, and ``scheduler``, the operation scheduler
alone beside one worker per view.

Every other process still prepares what it needs as it starts, so that one machine runs with
no step first; ``migrate`` does it once, so that processes starting together find it done.
"""

from __future__ import annotations

import argparse

from services.infrastructure.settings import Settings

DEPLOY_COMMANDS = ("migrate", "scheduler")


def add_deploy_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    commands.add_parser(
        "migrate",
        help="prepare the database (the log, tokens, relay positions, every view) and exit",
        description="Creates whatever is missing in the database that serve, api, worker, "
        "relay and scheduler use, as each of them would at its start, and exits. Safe to run "
        "again: what exists is kept.",
    )
    commands.add_parser(
        "scheduler",
        help="run the operation scheduler alone (beside `worker --no-scheduler`)",
        description="Ticks every WORKLEDGER_SCHEDULER_INTERVAL_SECONDS, creating each "
        "recurring operation's occurrences up to WORKLEDGER_SCHEDULER_HORIZON_DAYS ahead, "
        "until stopped (SIGINT or SIGTERM).",
    )


def run_deploy_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "migrate":
        return _migrate(settings)
    return _scheduler(settings)


def _where(settings: Settings) -> str:
    return "PostgreSQL" if settings.database_url else f"SQLite at {settings.sqlite_path}"


def _migrate(settings: Settings) -> int:
    from services.app import open_backend
    from services.infrastructure.tokens import TokenStore
    from services.projections.health import ensure_health_table
    from services.projections.runner import ensure_projection
    from services.projections.views import all_projections
    from services.stream.relay_positions import RelayPositions

    # Opening the backend creates the log's tables (and its notification function on
    # PostgreSQL), the claims, idempotency records, event times and imports.
    backend = open_backend(settings)
    try:
        TokenStore(backend)
        RelayPositions(backend)
        ensure_health_table(backend)
        views = [
            f"{projection.name} (schema {state.schema_version}, at position {state.position:,})"
            for projection in all_projections()
            for state in [ensure_projection(backend, projection)]
        ]
        events = backend.max_position()
    finally:
        backend.close()
    print(
        f"workledger: {_where(settings)} is ready: the log ({events:,} events), tokens, relay "
        f"positions and the views {', '.join(views)}"
    )
    return 0


def _scheduler(settings: Settings) -> int:
    import signal
    import threading

    from services.app import build_runtime
    from services.infrastructure.metrics_server import serve_metrics_port

    runtime = build_runtime(settings, run_scheduler=True, run_workers=False, views=())
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    runtime.start()
    # Its ticks and the occurrences they made, scraped like a worker's.
    metrics_server = serve_metrics_port(runtime.metrics, settings)
    print(
        f"workledger: scheduler running on {_where(settings)}, ticking every "
        f"{settings.scheduler_interval_seconds:g} s, {settings.scheduler_horizon_days} days ahead",
        flush=True,
    )
    try:
        stop.wait()
    finally:
        if metrics_server is not None:
            metrics_server.close()
        runtime.close()
    return 0
