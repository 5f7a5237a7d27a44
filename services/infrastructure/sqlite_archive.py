"""The log in SQLite as a backup reads it and its restore writes it: positions are rowids, kept
as they were by writing each event at its own."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from services.infrastructure.backend import LogRecord, SqlCursor
from services.infrastructure.commits import Claim, ImportProgress

if TYPE_CHECKING:
    from services.infrastructure.sqlite import SQLiteBackend

_RECORDS = (
    "SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, t.occurred "
    "FROM workledger_events e LEFT JOIN workledger_event_times t ON t.position = e.rowid "
)
_IMPORT_COLUMNS = "import_id, principal, lines, events, position, started_at, updated_at"


def _record(row: Sequence[Any]) -> LogRecord:
    return LogRecord(row[0], str(UUID(row[1])), row[2], row[3], bytes(row[4]), row[5])


class SQLiteArchive:
    def __init__(self, backend: SQLiteBackend) -> None:
        self._backend = backend

    def records(self, after: int, limit: int, until: int) -> list[LogRecord]:
        rows = self._backend.fetchall(
            f"{_RECORDS} WHERE e.rowid > ? AND e.rowid <= ? ORDER BY e.rowid LIMIT ?",
            (after, until, limit),
        )
        return [_record(row) for row in rows]

    def record_at_or_before(self, position: int) -> LogRecord | None:
        rows = self._backend.fetchall(
            f"{_RECORDS} WHERE e.rowid <= ? ORDER BY e.rowid DESC LIMIT 1", (position,)
        )
        return _record(rows[0]) if rows else None

    def claims(self, until: int, after: tuple[str, str], limit: int) -> list[Claim]:
        # Owners are stored hyphenated, stream ids as 32 hex digits.
        rows = self._backend.fetchall(
            "SELECT c.scope, c.value, c.owner_id FROM workledger_claims c "
            "WHERE (c.scope, c.value) > (?, ?) AND EXISTS (SELECT 1 FROM workledger_events e "
            "WHERE e.originator_id = replace(c.owner_id, '-', '') AND e.rowid <= ?) "
            "ORDER BY c.scope, c.value LIMIT ?",
            (after[0], after[1], until, limit),
        )
        return [Claim(scope, value, UUID(owner)) for scope, value, owner in rows]

    def imports(self) -> list[ImportProgress]:
        rows = self._backend.fetchall(
            f"SELECT {_IMPORT_COLUMNS} FROM workledger_imports ORDER BY import_id"
        )
        return [
            ImportProgress(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                datetime.fromisoformat(row[5]),
                datetime.fromisoformat(row[6]),
            )
            for row in rows
        ]

    @contextmanager
    def restoring(self) -> Iterator[SQLiteRestore]:
        # The backend's read-write transaction takes the same lock as its commits.
        with self._backend.transaction() as cursor:
            yield SQLiteRestore(cursor)
        self._backend.notify_committed()


class SQLiteRestore:
    def __init__(self, cursor: SqlCursor) -> None:
        self._cursor = cursor

    def head(self) -> LogRecord | None:
        self._cursor.execute(f"{_RECORDS} ORDER BY e.rowid DESC LIMIT 1")
        row = self._cursor.fetchone()
        return _record(row) if row is not None else None

    def write_events(self, records: Sequence[LogRecord]) -> None:
        self._cursor.executemany(
            "INSERT INTO workledger_events "
            "(rowid, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
            [(r.position, UUID(r.stream_id).hex, r.version, r.type, r.state) for r in records],
        )
        given = [(r.position, r.given_occurred) for r in records if r.given_occurred is not None]
        if given:
            self._cursor.executemany(
                "INSERT INTO workledger_event_times (position, occurred) VALUES (?, ?)", given
            )

    def claim_owners(self, claims: Sequence[Claim]) -> dict[tuple[str, str], UUID]:
        found: dict[tuple[str, str], UUID] = {}
        for claim in claims:
            self._cursor.execute(
                "SELECT owner_id FROM workledger_claims WHERE scope = ? AND value = ?",
                (claim.scope, claim.value),
            )
            row = self._cursor.fetchone()
            if row is not None:
                found[(claim.scope, claim.value)] = UUID(row[0])
        return found

    def write_claims(self, claims: Sequence[Claim]) -> None:
        self._cursor.executemany(
            "INSERT INTO workledger_claims (scope, value, owner_id) VALUES (?, ?, ?)",
            [(c.scope, c.value, str(c.owner_id)) for c in claims],
        )

    def write_imports(self, imports: Sequence[ImportProgress]) -> None:
        self._cursor.executemany(
            f"INSERT OR REPLACE INTO workledger_imports ({_IMPORT_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i.import_id,
                    i.principal,
                    i.lines,
                    i.events,
                    i.position,
                    i.started_at.isoformat(),
                    i.updated_at.isoformat(),
                )
                for i in imports
            ],
        )
