"""The command line's token commands: ``token create``, ``token list`` and ``token revoke``.

They work on the database the settings name, beside any running API processes: a token created
here is accepted at once, and one revoked here is refused by every process once the command
returns (it waits out ``WORKLEDGER_TOKEN_CHECK_SECONDS``, how long a process trusts a token it
has checked).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from services.infrastructure.settings import Settings
from services.infrastructure.tokens import ROLES

if TYPE_CHECKING:
    from services.infrastructure.store import EventStore
    from services.infrastructure.tokens import TokenStore

_DURATION = re.compile(r"^(\d{1,6})([dhms]?)$")
_UNITS = {"d": "days", "": "days", "h": "hours", "m": "minutes", "s": "seconds"}


DEFAULT_WEB_URL = "http://127.0.0.1:8000"


def duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``3600s``, or a bare number of days."""
    match = _DURATION.match(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: a positive number with d, h, m or s (days by default)"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def add_token_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = commands.add_parser("token", help="create, list and revoke API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print it alone")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--member", help="the member id the token acts as")
    create.add_argument(
        "--expires-in",
        type=duration,
        metavar="D",
        help="how long the token is accepted: 30d, 12h, 90m, 3600s (days by default); "
        "without it, it never expires",
    )
    create.add_argument(
        "--web",
        action="store_true",
        help="print a sign-in link to the web workspace instead of the token alone",
    )
    create.add_argument(
        "--url",
        default=DEFAULT_WEB_URL,
        help=f"where the workspace is served, for --web (default {DEFAULT_WEB_URL})",
    )
    token_commands.add_parser(
        "list", help="every token: role, member, when created, expires, last used, status"
    )
    revoke = token_commands.add_parser(
        "revoke", help="revoke a token; returns once every process refuses it"
    )
    revoke.add_argument("id", metavar="ID", help="the token's id, as `token list` shows it")


def run_token_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.token_command == "create":
        return _create(settings, args)
    if args.token_command == "list":
        return _list(settings)
    return _revoke(settings, args.id)


@contextmanager
def _opened(settings: Settings) -> Iterator[tuple[TokenStore, EventStore]]:
    from services.app import make_codec, open_backend, utc_now
    from services.infrastructure.store import EventStore
    from services.infrastructure.tokens import TokenStore

    backend = open_backend(settings)
    try:
        tokens = TokenStore(backend, check_seconds=settings.token_check_seconds)
        yield tokens, EventStore(backend, make_codec(), utc_now)
    finally:
        backend.close()


def _create(settings: Settings, args: argparse.Namespace) -> int:
    from services.command.routes.tokens import member_in_log

    try:
        member_id = UUID(args.member) if args.member else None
    except ValueError:
        print(f"workledger: --member must be a member id, not {args.member!r}", file=sys.stderr)
        return 2
    expires_at = datetime.now(UTC) + args.expires_in if args.expires_in else None
    with _opened(settings) as (tokens, store):
        if member_id is not None:
            member = member_in_log(store, member_id)
            if member is None or not member.active:
                state = "no member" if member is None else "a deactivated member"
                print(f"workledger: {member_id} is {state}", file=sys.stderr)
                return 1
        created = tokens.issue(args.role, member_id, expires_at=expires_at)
    record = created.record
    acts = f", acts as {record.member_id}" if record.member_id else ""
    until = f", expires {_shown(record.expires_at)}" if record.expires_at else ""
    print(f"workledger: token {record.id} ({record.role}{acts}{until})", file=sys.stderr)
    print(sign_in_link(args.url, created.secret) if args.web else created.secret)
    return 0


def sign_in_link(url: str, secret: str) -> str:
    """A link that signs a browser in to the web workspace with ``secret``. The token rides in
    the fragment, which a browser never sends: it reaches no server log and no proxy, and the
    sign-in page posts it once and forgets it."""
    return f"{url.rstrip('/')}/sign-in#token={secret}"


def _shown(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def _list(settings: Settings) -> int:
    from rich.console import Console
    from rich.table import Table

    with _opened(settings) as (tokens, _):
        records = []
        after: UUID | None = None
        while page := tokens.list(after=after, limit=500):
            records.extend(page)
            after = page[-1].id
    now = datetime.now(UTC)
    table = Table(title=f"{len(records)} tokens")
    for heading in ("id", "role", "member", "created", "expires", "last used", "status"):
        table.add_column(heading, no_wrap=heading in ("id", "member"))
    for record in records:
        table.add_row(
            str(record.id),
            record.role,
            str(record.member_id) if record.member_id else "-",
            _shown(record.created_at),
            _shown(record.expires_at),
            _shown(record.last_used_at),
            record.status(now),
        )
    Console(width=max(Console().width, 160)).print(table)
    return 0


def _revoke(settings: Settings, text: str) -> int:
    from services.infrastructure.tokens import UnknownToken

    try:
        token_id = UUID(text)
    except ValueError:
        print(f"workledger: {text!r} is not a token id", file=sys.stderr)
        return 2
    with _opened(settings) as (tokens, _):
        try:
            tokens.revoke(token_id)
        except UnknownToken as unknown:
            print(f"workledger: {unknown}", file=sys.stderr)
            return 1
    print(f"workledger: token {token_id} is revoked; every process refuses it")
    return 0
