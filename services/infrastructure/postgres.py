"""The PostgreSQL backend, on the eventsourcing library's PostgreSQL recorder."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow, TupleRow, tuple_row
from psycopg.sql import SQL, Identifier

from services.infrastructure.postgres_archive import PostgresArchive
from services.infrastructure.postgres_pool import datastore_from_url
from services.infrastructure.postgres_signals import AdvisoryLock, Listener, lock_key
from services.infrastructure.settings import DATABASE_WAIT_SECONDS
from services.infrastructure.store import (
    Batch,
    Claim,
    ColumnType,
    EventRow,
    IdempotencyKey,
    ImportProgress,
    Statement,
    StoredResponse,
    StoredRow,
    TypedColumns,
    dump_response,
    load_response,
)

EVENTS_TABLE = "workledger_events"
# Every process creates what is missing as it starts: the log's table and its notification
# function (which the library replaces on every start), tokens, relay positions, views. DDL run
# at once on one catalog entry fails ("tuple concurrently updated", or a duplicate type for two
# CREATE TABLE IF NOT EXISTS), so set-ups take turns under this advisory lock.
SETUP_LOCK = 0x776C5F7365747570

SCHEMA = """
CREATE TABLE IF NOT EXISTS workledger_idempotency (
    principal text NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    response bytea NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (principal, key));
CREATE TABLE IF NOT EXISTS workledger_claims (
    scope text NOT NULL,
    value text NOT NULL,
    owner_id uuid NOT NULL,
    PRIMARY KEY (scope, value));
CREATE INDEX IF NOT EXISTS workledger_events_created_idx
    ON workledger_events (topic) WHERE originator_version = 1;
CREATE TABLE IF NOT EXISTS workledger_event_times (
    position bigint PRIMARY KEY,
    occurred bigint NOT NULL);
CREATE INDEX IF NOT EXISTS workledger_event_times_occurred_idx
    ON workledger_event_times (occurred, position);
CREATE TABLE IF NOT EXISTS workledger_imports (
    import_id text PRIMARY KEY,
    principal text NOT NULL,
    lines bigint NOT NULL,
    events bigint NOT NULL,
    position bigint NOT NULL,
    started_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL);
"""

# The types a binary ``COPY`` sends each kind of read-model column as.
_BINARY_TYPES: dict[ColumnType, str] = {
    "text": "text",
    "int": "int8",
    "real": "float8",
    "bool": "bool",
}


class _Tx:
    def __init__(self, recorder: PostgresApplicationRecorder, cursor: Cursor[DictRow]) -> None:
        self._recorder = recorder
        self._cursor = cursor

    def stream_versions(self, stream_ids: Sequence[UUID]) -> dict[UUID, int]:
        self._cursor.execute(
            "SELECT originator_id, max(originator_version) AS version FROM workledger_events "
            "WHERE originator_id = ANY(%s) GROUP BY originator_id",
            (list(stream_ids),),
        )
        return {row["originator_id"]: row["version"] for row in self._cursor.fetchall()}

    def select_stream(self, stream_id: UUID, after_version: int) -> list[StoredRow]:
        self._cursor.execute(
            "SELECT notification_id, originator_id, originator_version, state "
            "FROM workledger_events WHERE originator_id = %s AND originator_version > %s "
            "ORDER BY originator_version",
            (stream_id, after_version),
        )
        return [
            StoredRow(
                row["notification_id"],
                row["originator_id"],
                row["originator_version"],
                bytes(row["state"]),
            )
            for row in self._cursor.fetchall()
        ]

    def idempotency_records(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], StoredResponse]:
        self._cursor.execute(
            "SELECT i.principal, i.key, i.fingerprint, i.response FROM workledger_idempotency i "
            "JOIN unnest(%s::text[], %s::text[]) AS k(principal, key) "
            "ON i.principal = k.principal AND i.key = k.key",
            ([p for p, _ in keys], [k for _, k in keys]),
        )
        return {
            (row["principal"], row["key"]): load_response(row["fingerprint"], row["response"])
            for row in self._cursor.fetchall()
        }

    def claim_owners(self, claims: Sequence[tuple[str, str]]) -> dict[tuple[str, str], UUID]:
        self._cursor.execute(
            "SELECT c.scope, c.value, c.owner_id FROM workledger_claims c "
            "JOIN unnest(%s::text[], %s::text[]) AS w(scope, value) "
            "ON c.scope = w.scope AND c.value = w.value",
            ([s for s, _ in claims], [v for _, v in claims]),
        )
        return {(row["scope"], row["value"]): row["owner_id"] for row in self._cursor.fetchall()}

    def insert_events(self, rows: Sequence[EventRow]) -> list[int]:
        self._cursor.execute(
            "INSERT INTO workledger_events (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[]) "
            "RETURNING notification_id",
            (
                [r[0] for r in rows],
                [r[1] for r in rows],
                [r[2] for r in rows],
                [r[3] for r in rows],
            ),
        )
        return [row["notification_id"] for row in self._cursor.fetchall()]

    def insert_idempotency(
        self, records: Sequence[tuple[IdempotencyKey, StoredResponse, datetime]]
    ) -> None:
        self._cursor.executemany(
            "INSERT INTO workledger_idempotency (principal, key, fingerprint, response, created_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            [(k.principal, k.key, k.fingerprint, dump_response(r), at) for k, r, at in records],
        )

    def insert_claims(self, claims: Sequence[Claim]) -> None:
        self._cursor.executemany(
            "INSERT INTO workledger_claims (scope, value, owner_id) VALUES (%s, %s, %s)",
            [(c.scope, c.value, c.owner_id) for c in claims],
        )

    def insert_event_times(self, times: Sequence[tuple[int, int]]) -> None:
        self._cursor.execute(
            "INSERT INTO workledger_event_times (position, occurred) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
            ([t[0] for t in times], [t[1] for t in times]),
        )

    def record_import(self, progress: ImportProgress) -> None:
        self._cursor.execute(
            "INSERT INTO workledger_imports (import_id, principal, lines, events, position,"
            " started_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (import_id) DO UPDATE SET lines = excluded.lines,"
            " events = excluded.events, position = excluded.position,"
            " updated_at = excluded.updated_at",
            (
                progress.import_id,
                progress.principal,
                progress.lines,
                progress.events,
                progress.position,
                progress.started_at,
                progress.updated_at,
            ),
        )


class PostgresCursor:
    """Rows come back as plain tuples, so joined columns of the same name all survive."""

    def __init__(self, cursor: Cursor[TupleRow]) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.encode(), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql.encode(), rows)

    def copy_rows(self, table: str, columns: TypedColumns, rows: Sequence[Sequence[Any]]) -> None:
        names = ", ".join(name for name, _ in columns)
        statement = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"
        with self._cursor.copy(statement.encode()) as copy:
            # Binary rows take about a quarter of the time of text ones to format here, and
            # less to parse in the server: the columns' types are known, so nothing is guessed.
            copy.set_types([_BINARY_TYPES[kind] for _, kind in columns])
            for row in rows:
                copy.write_row(row)

    def run_together(self, batches: Sequence[Batch]) -> None:
        with self._cursor.connection.pipeline():
            for sql, rows in batches:
                self._cursor.executemany(sql.encode(), rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cursor.fetchall()

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cursor.fetchone()


class PostgresBackend:
    """The log in PostgreSQL: the library's table, lock and notification channel."""

    name = "postgresql"

    def __init__(self, datastore: PostgresDatastore, url: str) -> None:
        self.datastore = datastore
        self.url = url
        self.recorder = PostgresApplicationRecorder(datastore, events_table_name=EVENTS_TABLE)
        # The library sets its table up on connections of its own, so the turn is a session
        # lock on one more connection, held until it closes.
        with self._connect() as turn:
            turn.execute("SELECT pg_advisory_lock(%s)", (SETUP_LOCK,))
            self.recorder.create_table()
            with datastore.transaction(commit=True) as cursor:
                cursor.execute(SCHEMA)
        self.channel = self.recorder.channel_name
        self._listener = Listener(self._connect, self.channel)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        pool_size: int = 8,
        max_overflow: int = 8,
        wait_seconds: float = DATABASE_WAIT_SECONDS,
    ) -> PostgresBackend:
        datastore = datastore_from_url(
            url, pool_size=pool_size, max_overflow=max_overflow, wait_seconds=wait_seconds
        )
        return cls(datastore, url)

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True)

    @contextmanager
    def transaction(self) -> Iterator[PostgresCursor]:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            yield PostgresCursor(cursor)

    @contextmanager
    def setup_transaction(self) -> Iterator[PostgresCursor]:
        with self.transaction() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_LOCK,))
            yield cursor

    @contextmanager
    def read_transaction(self) -> Iterator[PostgresCursor]:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            # One snapshot for every query of a view, however the workers commit meanwhile.
            cursor.execute(b"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield PostgresCursor(cursor)

    def commit_generation(self) -> int:
        self._listener.ensure_started()
        return self._listener.signal.generation()

    def wait_for_events(self, generation: int, timeout: float) -> None:
        self._listener.ensure_started()
        self._listener.signal.wait(generation, timeout)

    def notify_committed(self) -> None:
        self._listener.signal.bump()

    @contextmanager
    def write_transaction(self) -> Iterator[_Tx]:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as cursor:
            # The library's EXCLUSIVE table lock: commits, and so positions, come one at a time.
            for statement in self.recorder.lock_table_statements:
                cursor.execute(statement, prepare=True)
            cursor.execute(SQL("NOTIFY {0}").format(Identifier(self.channel)))
            yield _Tx(self.recorder, cursor)

    def select_stream(self, stream_id: UUID, after_version: int) -> list[StoredRow]:
        rows = self.fetchall(
            "SELECT notification_id, originator_id, originator_version, state "
            "FROM workledger_events WHERE originator_id = %s AND originator_version > %s "
            "ORDER BY originator_version",
            (stream_id, after_version),
            prepare=True,
            binary=True,
        )
        return [StoredRow(*row) for row in rows]

    def select_log(
        self,
        after: int,
        limit: int,
        types: Sequence[str] = (),
        until: int | None = None,
        *,
        stamped_only: bool = False,
    ) -> list[StoredRow]:
        sql = (
            "SELECT notification_id, originator_id::text, originator_version, state "
            "FROM workledger_events WHERE notification_id > %s"
        )
        params: list[Any] = [after]
        if until is not None:
            sql += " AND notification_id <= %s"
            params.append(until)
        if types:
            sql += " AND topic = ANY(%s)"
            params.append(list(types))
        if stamped_only:
            sql += (
                " AND NOT EXISTS (SELECT 1 FROM workledger_event_times t"
                " WHERE t.position = notification_id)"
            )
        sql += " ORDER BY notification_id LIMIT %s"
        params.append(limit)
        return list(map(StoredRow._make, self.fetchall(sql, params, binary=True)))

    def select_given_times(
        self, after: tuple[int, int], limit: int, types: Sequence[str] = (), until: int = 0
    ) -> list[tuple[int, StoredRow]]:
        sql = (
            "SELECT t.occurred, e.notification_id, e.originator_id::text, e.originator_version,"
            " e.state FROM workledger_event_times t"
            " JOIN workledger_events e ON e.notification_id = t.position"
            " WHERE (t.occurred, t.position) > (%s, %s) AND t.position <= %s"
        )
        params: list[Any] = [after[0], after[1], until]
        if types:
            sql += " AND e.topic = ANY(%s)"
            params.append(list(types))
        sql += " ORDER BY t.occurred, t.position LIMIT %s"
        params.append(limit)
        return [
            (row[0], StoredRow(row[1], row[2], row[3], bytes(row[4])))
            for row in self.fetchall(sql, params, binary=True)
        ]

    def max_position(self) -> int:
        rows = self.fetchall("SELECT coalesce(max(notification_id), 0) FROM workledger_events")
        return int(rows[0][0])

    def select_events_at(
        self, places: Sequence[tuple[UUID, int]]
    ) -> dict[tuple[UUID, int], tuple[int, bytes]]:
        rows = self.fetchall(
            "SELECT e.originator_id, e.originator_version, e.notification_id, e.state "
            "FROM workledger_events e "
            "JOIN unnest(%s::uuid[], %s::bigint[]) AS w(id, version) "
            "ON e.originator_id = w.id AND e.originator_version = w.version",
            ([stream_id for stream_id, _ in places], [version for _, version in places]),
            binary=True,
        )
        return {(row[0], row[1]): (row[2], bytes(row[3])) for row in rows}

    def streams_created_by(self, type_name: str) -> list[UUID]:
        rows = self.fetchall(
            "SELECT originator_id FROM workledger_events "
            "WHERE topic = %s AND originator_version = 1 ORDER BY notification_id",
            (type_name,),
        )
        return [row[0] for row in rows]

    def stored_response(self, principal: str, key: str) -> StoredResponse | None:
        rows = self.fetchall(
            "SELECT fingerprint, response FROM workledger_idempotency "
            "WHERE principal = %s AND key = %s",
            (principal, key),
        )
        return load_response(rows[0][0], bytes(rows[0][1])) if rows else None

    def fetchall(
        self, sql: str, params: Sequence[Any] = (), *, prepare: bool = False, binary: bool = False
    ) -> list[tuple[Any, ...]]:
        # Not prepared by default: a prepared statement's generic plan can be far worse for
        # range queries than a plan made for the actual values. Binary results suit the log's
        # rows: their bytea state comes as is rather than hex-encoded at twice the size.
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=binary) as cursor,
        ):
            cursor.execute(sql.encode(), params, prepare=prepare)
            return cursor.fetchall()

    def fetch_each(self, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
        with self.datastore.get_connection() as conn:
            cursors = [conn.cursor(row_factory=tuple_row) for _ in statements]
            try:
                with conn.pipeline():
                    for cursor, statement in zip(cursors, statements, strict=True):
                        cursor.execute(
                            statement.sql.encode(), statement.params, prepare=statement.prepare
                        )
                return [cursor.fetchall() for cursor in cursors]
            finally:
                for cursor in cursors:
                    cursor.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(sql.encode(), params)

    def try_lock(self, name: str) -> AdvisoryLock | None:
        # A session lock on a connection of its own: PostgreSQL lets go of it when that
        # connection ends, however its holder died.
        connection = self._connect()
        try:
            row = connection.execute(
                "SELECT pg_try_advisory_lock(%s)", (lock_key(name),)
            ).fetchone()
        except BaseException:
            connection.close()
            raise
        if row is None or not row[0]:
            connection.close()
            return None
        return AdvisoryLock(connection)

    def archive(self) -> PostgresArchive:
        return PostgresArchive(self)

    def close(self) -> None:
        self._listener.stop()
        self.datastore.close()
