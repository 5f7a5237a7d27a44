"""Bearer tokens: shown once when created, stored only as a SHA-256 hash, never in the log."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args
from uuid import UUID

from services.infrastructure.ids import new_id
from services.infrastructure.store import Backend

Role = Literal["viewer", "member", "manager", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}

TOKEN_PREFIX = "wl_"


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


def _digest(token: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 resists guessing; no slow KDF is needed.
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Creates and checks tokens in the same database as the log, in a table of their own."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        with backend.setup_transaction() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS workledger_tokens ("
                " id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL,"
                " member_id TEXT, created_at TEXT NOT NULL, revoked_at TEXT)"
            )
        self._cache: dict[str, Principal] = {}

    def create(self, role: Role, member_id: UUID | None = None) -> str:
        """A new token for ``role``; the plain token is returned here and nowhere else."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self._backend.execute(
            "INSERT INTO workledger_tokens (id, token_hash, role, member_id, created_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            (
                str(new_id()),
                _digest(token),
                role,
                str(member_id) if member_id else None,
                datetime.now(UTC).isoformat(),
            ),
        )
        return token

    def cached(self, token: str) -> Principal | None:
        """The principal behind a token checked before, without touching the database."""
        return self._cache.get(_digest(token))

    def authenticate(self, token: str) -> Principal | None:
        """The principal behind ``token``, or ``None`` for an unknown or revoked one."""
        digest = _digest(token)
        known = self._cache.get(digest)
        if known is not None:
            return known
        rows = self._backend.fetchall(
            "SELECT id, role, member_id FROM workledger_tokens"
            " WHERE token_hash = %s AND revoked_at IS NULL",
            (digest,),
        )
        if not rows:
            return None
        token_id, role, member_id = rows[0]
        principal = Principal(UUID(token_id), role, UUID(member_id) if member_id else None)
        self._cache[digest] = principal
        return principal
