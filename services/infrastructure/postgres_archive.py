"""The log in PostgreSQL as a backup reads it and its restore writes it: events are copied in
with the positions they hold (``COPY``), and the position sequence is moved past them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import TupleRow, tuple_row
from psycopg.sql import SQL, Identifier

from services.infrastructure.backend import LogRecord
from services.infrastructure.commits import Claim, ImportProgress

if TYPE_CHECKING:
    from services.infrastructure.postgres import PostgresBackend

_RECORDS = (
    "SELECT e.notification_id, e.originator_id::text, e.originator_version, e.topic, e.state,"
    " t.occurred FROM workledger_events e"
    " LEFT JOIN workledger_event_times t ON t.position = e.notification_id "
)
_IMPORT_COLUMNS = "import_id, principal, lines, events, position, started_at, updated_at"


def _record(row: Sequence[Any]) -> LogRecord:
    return LogRecord(row[0], row[1], row[2], row[3], bytes(row[4]), row[5])


class PostgresArchive:
    def __init__(self, backend: PostgresBackend) -> None:
        self._backend = backend

    def records(self, after: int, limit: int, until: int) -> list[LogRecord]:
        rows = self._backend.fetchall(
            f"{_RECORDS} WHERE e.notification_id > %s AND e.notification_id <= %s"
            " ORDER BY e.notification_id LIMIT %s",
            (after, until, limit),
            binary=True,
        )
        return [_record(row) for row in rows]

    def record_at_or_before(self, position: int) -> LogRecord | None:
        rows = self._backend.fetchall(
            f"{_RECORDS} WHERE e.notification_id <= %s ORDER BY e.notification_id DESC LIMIT 1",
            (position,),
            binary=True,
        )
        return _record(rows[0]) if rows else None

    def claims(self, until: int, after: tuple[str, str], limit: int) -> list[Claim]:
        rows = self._backend.fetchall(
            "SELECT c.scope, c.value, c.owner_id FROM workledger_claims c "
            "WHERE (c.scope, c.value) > (%s, %s) AND EXISTS (SELECT 1 FROM workledger_events e "
            "WHERE e.originator_id = c.owner_id AND e.notification_id <= %s) "
            "ORDER BY c.scope, c.value LIMIT %s",
            (after[0], after[1], until, limit),
        )
        return [Claim(scope, value, owner) for scope, value, owner in rows]

    def imports(self) -> list[ImportProgress]:
        rows = self._backend.fetchall(
            f"SELECT {_IMPORT_COLUMNS} FROM workledger_imports ORDER BY import_id"
        )
        return [ImportProgress(*row) for row in rows]

    @contextmanager
    def restoring(self) -> Iterator[PostgresRestore]:
        backend = self._backend
        with (
            backend.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            # The commits' own table lock, and their notification to the log's readers.
            for statement in backend.recorder.lock_table_statements:
                cursor.execute(statement)
            cursor.execute(SQL("NOTIFY {0}").format(Identifier(backend.channel)))
            # A restore is one transaction however long its file takes to read: a pause in
            # the reading (a slow pipe) must not end it.
            cursor.execute(b"SET LOCAL idle_in_transaction_session_timeout = 0")
            yield PostgresRestore(cursor)
        backend.notify_committed()


class PostgresRestore:
    def __init__(self, cursor: Cursor[TupleRow]) -> None:
        self._cursor = cursor

    def head(self) -> LogRecord | None:
        self._cursor.execute(f"{_RECORDS} ORDER BY e.notification_id DESC LIMIT 1".encode())
        row = self._cursor.fetchone()
        return _record(row) if row is not None else None

    def write_events(self, records: Sequence[LogRecord]) -> None:
        if not records:
            return
        cursor = self._cursor
        with cursor.copy(
            b"COPY workledger_events"
            b" (notification_id, originator_id, originator_version, topic, state)"
            b" FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int8", "uuid", "int8", "text", "bytea"])
            for r in records:
                copy.write_row((r.position, UUID(r.stream_id), r.version, r.type, r.state))
        given = [(r.position, r.given_occurred) for r in records if r.given_occurred is not None]
        if given:
            with cursor.copy(
                b"COPY workledger_event_times (position, occurred) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int8", "int8"])
                for row in given:
                    copy.write_row(row)
        # Every event in the table is at or before the last one written, under the lock.
        cursor.execute(
            b"SELECT setval(pg_get_serial_sequence('workledger_events', 'notification_id'), %s)",
            (records[-1].position,),
        )

    def claim_owners(self, claims: Sequence[Claim]) -> dict[tuple[str, str], UUID]:
        self._cursor.execute(
            b"SELECT c.scope, c.value, c.owner_id FROM workledger_claims c "
            b"JOIN unnest(%s::text[], %s::text[]) AS w(scope, value) "
            b"ON c.scope = w.scope AND c.value = w.value",
            ([c.scope for c in claims], [c.value for c in claims]),
        )
        return {(scope, value): owner for scope, value, owner in self._cursor.fetchall()}

    def write_claims(self, claims: Sequence[Claim]) -> None:
        self._cursor.executemany(
            b"INSERT INTO workledger_claims (scope, value, owner_id) VALUES (%s, %s, %s)",
            [(c.scope, c.value, c.owner_id) for c in claims],
        )

    def write_imports(self, imports: Sequence[ImportProgress]) -> None:
        self._cursor.executemany(
            f"INSERT INTO workledger_imports ({_IMPORT_COLUMNS})"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (import_id) DO UPDATE SET"
            " principal = excluded.principal, lines = excluded.lines,"
            " events = excluded.events, position = excluded.position,"
            " started_at = excluded.started_at, updated_at = excluded.updated_at".encode(),
            [
                (
                    i.import_id,
                    i.principal,
                    i.lines,
                    i.events,
                    i.position,
                    i.started_at,
                    i.updated_at,
                )
                for i in imports
            ],
        )
