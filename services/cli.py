"""The ``workledger`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from uuid import UUID

from services.infrastructure.settings import Settings, SettingsError
from services.infrastructure.tokens import ROLES


def _serve(settings: Settings, args: argparse.Namespace, *, scheduler: bool) -> int:
    import uvicorn

    from services.app import build_runtime, create_app

    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    workers = args.workers or settings.workers
    if workers > 1 and not settings.database_url:
        print(
            "workledger: several workers need PostgreSQL (WORKLEDGER_DATABASE_URL)", file=sys.stderr
        )
        return 2
    runtime = build_runtime(settings, run_scheduler=scheduler)
    store = "PostgreSQL" if settings.database_url else f"SQLite at {settings.sqlite_path}"
    print(f"workledger: events in {store}", flush=True)
    if args.admin_token or not settings.database_url:
        token = runtime.tokens.create("admin")
        print(f"workledger: admin token  {token}", flush=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"workledger: open         http://{shown}:{port}/docs", flush=True)
    if workers > 1:
        runtime.close()
        os.environ["WORKLEDGER_RUN_SCHEDULER"] = "1" if scheduler else "0"
        uvicorn.run(
            "services.app:app_from_env",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            access_log=False,
        )
        return 0
    try:
        uvicorn.run(create_app(runtime), host=host, port=port, log_level="info", access_log=False)
    finally:
        runtime.close()
    return 0


def _token_create(settings: Settings, args: argparse.Namespace) -> int:
    from services.app import open_backend
    from services.infrastructure.tokens import TokenStore

    backend = open_backend(settings)
    try:
        member_id = UUID(args.member) if args.member else None
        print(TokenStore(backend).create(args.role, member_id))
    finally:
        backend.close()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workledger",
        description="Event-sourced work management. Settings come from WORKLEDGER_* variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("serve", "run everything in one process: the API and the scheduler"),
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
    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print it alone")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--member", help="the member id the token acts as")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"workledger: {error}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args, scheduler=True)
    if args.command == "api":
        return _serve(settings, args, scheduler=False)
    if args.command == "token":
        return _token_create(settings, args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
