"""Bearer tokens: shown once when created, stored only as a SHA-256 hash, never in the log.

A token has a role, may act for a member, may expire, and may be revoked. A process trusts a
token it has checked against the database for ``check_seconds`` (a *lease*), so a busy token
costs one lookup a second rather than one a request. Revoking a token waits out the lease before
it answers: by then no process still trusts it, so a revocation that has answered holds in every
process. Expiry needs no lookup: it is judged on every request against the clock.

Each lookup also tells when the token was last recorded as used; it is written again only when
that is more than ``LAST_USED_EVERY`` ago, so recording use costs at most a write a minute per
token, whatever the traffic.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError

from services.infrastructure.ids import new_id
from services.infrastructure.store import Backend

Role = Literal["viewer", "member", "manager", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}
Status = Literal["active", "expired", "revoked"]

TOKEN_PREFIX = "wl_"
LAST_USED_EVERY = timedelta(minutes=1)
# More tokens than this in use at once in one process, and the process forgets them all and
# checks each again: a bound on memory, not a limit on tokens.
CACHE_CAPACITY = 100_000

log = logging.getLogger("workledger.tokens")

_COLUMNS = "id, role, member_id, created_at, expires_at, last_used_at, revoked_at"


@dataclass(frozen=True)
class Principal:
    """Who a token speaks for: its role, and the member it acts as (if any)."""

    token_id: UUID
    role: Role
    member_id: UUID | None

    @property
    def actor(self) -> str:
        """What events record as their actor: the member, or ``system`` for service tokens."""
        return str(self.member_id) if self.member_id else "system"

    def may(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


@dataclass(frozen=True)
class TokenRecord:
    """What is kept of a token: everything but its secret."""

    id: UUID
    role: Role
    member_id: UUID | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def status(self, now: datetime) -> Status:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"

    @property
    def principal(self) -> Principal:
        return Principal(self.id, self.role, self.member_id)


@dataclass(frozen=True)
class NewToken:
    """A token just created: its record, and the secret, which is shown this once."""

    record: TokenRecord
    secret: str


class UnknownToken(LookupError):
    """No token has this id."""


@dataclass(frozen=True)
class _Lease:
    principal: Principal
    expires_at: datetime | None
    trusted_until: float
    """``time.monotonic()`` before which the token need not be looked up again."""


def _digest(token: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 resists guessing; no slow KDF is needed.
    return hashlib.sha256(token.encode()).hexdigest()


def _text(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _record(row: tuple[Any, ...]) -> TokenRecord:
    token_id, role, member_id, created, expires, used, revoked = row
    return TokenRecord(
        UUID(token_id),
        role,
        UUID(member_id) if member_id else None,
        datetime.fromisoformat(created),
        _moment(expires),
        _moment(used),
        _moment(revoked),
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


class TokenStore:
    """Creates, checks, lists and revokes tokens in the same database as the log, in a table
    of their own."""

    def __init__(
        self,
        backend: Backend,
        *,
        clock: Callable[[], datetime] = utc_now,
        check_seconds: float = 1.0,
    ) -> None:
        self._backend = backend
        self._clock = clock
        self.check_seconds = check_seconds
        self._leases: dict[str, _Lease] = {}
        with backend.setup_transaction() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS workledger_tokens ("
                " id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL,"
                " member_id TEXT, created_at TEXT NOT NULL, revoked_at TEXT,"
                " expires_at TEXT, last_used_at TEXT)"
            )
            if backend.name == "sqlite":
                cursor.execute("SELECT name FROM pragma_table_info('workledger_tokens')")
            else:
                cursor.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = 'workledger_tokens' AND table_schema = current_schema()"
                )
            present = {row[0] for row in cursor.fetchall()}
            # A table made before tokens could expire gets the columns it lacks.
            for column in ("expires_at", "last_used_at"):
                if column not in present:
                    cursor.execute(f"ALTER TABLE workledger_tokens ADD COLUMN {column} TEXT")

    def create(
        self, role: Role, member_id: UUID | None = None, *, expires_at: datetime | None = None
    ) -> str:
        """A new token for ``role``; the plain token is returned here and nowhere else."""
        return self.issue(role, member_id, expires_at=expires_at).secret

    def issue(
        self, role: Role, member_id: UUID | None = None, *, expires_at: datetime | None = None
    ) -> NewToken:
        """A new token with its record; its secret is not kept."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if expires_at is not None and expires_at.tzinfo is None:
            raise ValueError("expires_at needs a time zone")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = TokenRecord(new_id(), role, member_id, self._clock(), expires_at, None, None)
        self._backend.execute(
            "INSERT INTO workledger_tokens"
            " (id, token_hash, role, member_id, created_at, expires_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (
                str(record.id),
                _digest(secret),
                role,
                str(member_id) if member_id else None,
                _text(record.created_at),
                _text(expires_at),
            ),
        )
        return NewToken(record, secret)

    def cached(self, token: str) -> Principal | None:
        """The principal behind a token this process still trusts, without touching the
        database; ``None`` when it must be looked up (or has expired)."""
        lease = self._leases.get(_digest(token))
        if lease is None or time.monotonic() >= lease.trusted_until:
            return None
        if lease.expires_at is not None and self._clock() >= lease.expires_at:
            return None
        return lease.principal

    def authenticate(self, token: str) -> Principal | None:
        """The principal behind ``token``, looked up now; ``None`` for an unknown, revoked or
        expired one."""
        digest = _digest(token)
        # Taken before the lookup: a revocation committed after it is still waited out.
        looked_up = time.monotonic()
        rows = self._backend.fetchall(
            f"SELECT {_COLUMNS} FROM workledger_tokens WHERE token_hash = %s", (digest,)
        )
        if not rows:
            return None
        record = _record(rows[0])
        now = self._clock()
        if record.status(now) != "active":
            self._leases.pop(digest, None)
            return None
        if record.last_used_at is None or now - record.last_used_at >= LAST_USED_EVERY:
            self._record_use(record.id, now)
        if self.check_seconds > 0:
            if len(self._leases) >= CACHE_CAPACITY:
                self._leases.clear()
            self._leases[digest] = _Lease(
                record.principal, record.expires_at, looked_up + self.check_seconds
            )
        return record.principal

    def _record_use(self, token_id: UUID, now: datetime) -> None:
        try:
            self._backend.execute(
                "UPDATE workledger_tokens SET last_used_at = %s WHERE id = %s",
                (_text(now), str(token_id)),
            )
        except (PersistenceError, psycopg.Error, sqlite3.Error) as error:
            # When a token was last used is a hint for its owner; the request it came with
            # goes on, and the next lookup writes it again.
            log.warning("could not record the use of token %s: %s", token_id, error)

    def get(self, token_id: UUID) -> TokenRecord | None:
        rows = self._backend.fetchall(
            f"SELECT {_COLUMNS} FROM workledger_tokens WHERE id = %s", (str(token_id),)
        )
        return _record(rows[0]) if rows else None

    def list(self, *, after: UUID | None = None, limit: int = 100) -> list[TokenRecord]:
        """Tokens in the order they were created, starting after the token ``after``."""
        where = ""
        params: list[Any] = []
        if after is not None:
            where = (
                " WHERE (created_at, id) >"
                " (SELECT created_at, id FROM workledger_tokens WHERE id = %s)"
            )
            params.append(str(after))
        rows = self._backend.fetchall(
            f"SELECT {_COLUMNS} FROM workledger_tokens{where} ORDER BY created_at, id LIMIT %s",
            (*params, limit),
        )
        return [_record(row) for row in rows]

    def revoke(self, token_id: UUID) -> TokenRecord:
        """Revokes a token (again, for one revoked already), and returns once no process still
        trusts it. ``UnknownToken`` for an id that names none."""
        self._backend.execute(
            "UPDATE workledger_tokens SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL",
            (_text(self._clock()), str(token_id)),
        )
        record = self.get(token_id)
        if record is None:
            raise UnknownToken(f"no token has the id {token_id}")
        for digest, lease in list(self._leases.items()):
            if lease.principal.token_id == token_id:
                self._leases.pop(digest, None)
        # Another process may have looked the token up just before the revocation committed.
        time.sleep(self.check_seconds)
        return record
