"""The SQLite backend, on the eventsourcing library's SQLite recorder: zero setup, one process."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from services.infrastructure.sqlite_archive import SQLiteArchive
from services.infrastructure.store import (
    Batch,
    Claim,
    CommitSignal,
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

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS workledger_idempotency ("
    " principal TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,"
    " response BLOB NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (principal, key))",
    "CREATE TABLE IF NOT EXISTS workledger_claims ("
    " scope TEXT NOT NULL, value TEXT NOT NULL, owner_id TEXT NOT NULL,"
    " PRIMARY KEY (scope, value))",
    "CREATE INDEX IF NOT EXISTS workledger_events_created_idx"
    " ON workledger_events (topic) WHERE originator_version = 1",
    "CREATE TABLE IF NOT EXISTS workledger_event_times ("
    " position INTEGER PRIMARY KEY, occurred INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS workledger_event_times_occurred_idx"
    " ON workledger_event_times (occurred, position)",
    "CREATE TABLE IF NOT EXISTS workledger_imports ("
    " import_id TEXT PRIMARY KEY, principal TEXT NOT NULL, lines INTEGER NOT NULL,"
    " events INTEGER NOT NULL, position INTEGER NOT NULL, started_at TEXT NOT NULL,"
    " updated_at TEXT NOT NULL)",
)


def _placeholders(count: int) -> str:
    return ",".join("?" * count)


class _Tx:
    def __init__(self, cursor: SQLiteCursor) -> None:
        self._cursor = cursor

    def stream_versions(self, stream_ids: Sequence[UUID]) -> dict[UUID, int]:
        self._cursor.execute(
            "SELECT originator_id, max(originator_version) FROM workledger_events "
            f"WHERE originator_id IN ({_placeholders(len(stream_ids))}) GROUP BY originator_id",
            [s.hex for s in stream_ids],
        )
        return {UUID(row[0]): row[1] for row in self._cursor.fetchall()}

    def select_stream(self, stream_id: UUID, after_version: int) -> list[StoredRow]:
        self._cursor.execute(
            "SELECT rowid, originator_id, originator_version, state FROM workledger_events "
            "WHERE originator_id = ? AND originator_version > ? ORDER BY originator_version",
            (stream_id.hex, after_version),
        )
        return [StoredRow(r[0], UUID(r[1]), r[2], r[3]) for r in self._cursor.fetchall()]

    def idempotency_records(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], StoredResponse]:
        found: dict[tuple[str, str], StoredResponse] = {}
        for principal, key in keys:
            self._cursor.execute(
                "SELECT fingerprint, response FROM workledger_idempotency "
                "WHERE principal = ? AND key = ?",
                (principal, key),
            )
            row = self._cursor.fetchone()
            if row is not None:
                found[(principal, key)] = load_response(row[0], row[1])
        return found

    def claim_owners(self, claims: Sequence[tuple[str, str]]) -> dict[tuple[str, str], UUID]:
        found: dict[tuple[str, str], UUID] = {}
        for scope, value in claims:
            self._cursor.execute(
                "SELECT owner_id FROM workledger_claims WHERE scope = ? AND value = ?",
                (scope, value),
            )
            row = self._cursor.fetchone()
            if row is not None:
                found[(scope, value)] = UUID(row[0])
        return found

    def insert_events(self, rows: Sequence[EventRow]) -> list[int]:
        positions: list[int] = []
        for stream_id, version, topic, state in rows:
            self._cursor.execute(
                "INSERT INTO workledger_events (originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?)",
                (stream_id.hex, version, topic, state),
            )
            positions.append(int(self._cursor.lastrowid))
        return positions

    def insert_idempotency(
        self, records: Sequence[tuple[IdempotencyKey, StoredResponse, datetime]]
    ) -> None:
        self._cursor.executemany(
            "INSERT INTO workledger_idempotency (principal, key, fingerprint, response, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (k.principal, k.key, k.fingerprint, dump_response(r), at.isoformat())
                for k, r, at in records
            ],
        )

    def insert_claims(self, claims: Sequence[Claim]) -> None:
        self._cursor.executemany(
            "INSERT INTO workledger_claims (scope, value, owner_id) VALUES (?, ?, ?)",
            [(c.scope, c.value, str(c.owner_id)) for c in claims],
        )

    def insert_event_times(self, times: Sequence[tuple[int, int]]) -> None:
        self._cursor.executemany(
            "INSERT INTO workledger_event_times (position, occurred) VALUES (?, ?)", times
        )

    def record_import(self, progress: ImportProgress) -> None:
        self._cursor.execute(
            "INSERT INTO workledger_imports (import_id, principal, lines, events, position,"
            " started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (import_id) DO UPDATE SET lines = excluded.lines,"
            " events = excluded.events, position = excluded.position,"
            " updated_at = excluded.updated_at",
            (
                progress.import_id,
                progress.principal,
                progress.lines,
                progress.events,
                progress.position,
                progress.started_at.isoformat(),
                progress.updated_at.isoformat(),
            ),
        )


class _Cursor:
    def __init__(self, cursor: SQLiteCursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql.replace("%s", "?"), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql.replace("%s", "?"), [tuple(row) for row in rows])

    def copy_rows(self, table: str, columns: TypedColumns, rows: Sequence[Sequence[Any]]) -> None:
        marks = ", ".join("?" for _ in columns)
        self._cursor.executemany(
            f"INSERT INTO {table} ({', '.join(name for name, _ in columns)}) VALUES ({marks})",
            [tuple(row) for row in rows],
        )

    def run_together(self, batches: Sequence[Batch]) -> None:
        for sql, rows in batches:
            self.executemany(sql, rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._cursor.fetchall()]

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return tuple(row) if row is not None else None


class SQLiteBackend:
    """The log in one SQLite file (WAL mode), positions being the table's rowids."""

    name = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self.datastore = SQLiteDatastore(path, lock_timeout=10, pool_size=8, max_overflow=8)
        self.recorder = SQLiteApplicationRecorder(self.datastore, events_table_name=EVENTS_TABLE)
        self.recorder.create_table()
        # SQLite has one writer at a time; taking turns here avoids busy-waiting on its lock.
        self._write_lock = threading.Lock()
        # Commits in this process wake readers at once; another process's are seen by polling.
        self._signal = CommitSignal(poll_interval=0.05)
        with self.datastore.transaction(commit=True) as cursor:
            for statement in SCHEMA:
                cursor.execute(statement)

    @contextmanager
    def write_transaction(self) -> Iterator[_Tx]:
        with (
            self._write_lock,
            self.datastore.get_connection(commit=True) as conn,
            conn.transaction(commit=True) as cursor,
        ):
            yield _Tx(cursor)

    @contextmanager
    def transaction(self) -> Iterator[_Cursor]:
        with (
            self._write_lock,
            self.datastore.get_connection(commit=True) as conn,
            conn.transaction(commit=True) as cursor,
        ):
            yield _Cursor(cursor)

    @contextmanager
    def setup_transaction(self) -> Iterator[_Cursor]:
        # SQLite runs one writing transaction at a time, across processes too.
        with self.transaction() as cursor:
            yield cursor

    @contextmanager
    def read_transaction(self) -> Iterator[_Cursor]:
        # A deferred transaction in WAL mode reads one snapshot until it ends.
        with (
            self.datastore.get_connection(commit=False) as conn,
            conn.transaction(commit=False) as cursor,
        ):
            yield _Cursor(cursor)

    def commit_generation(self) -> int:
        return self._signal.generation()

    def wait_for_events(self, generation: int, timeout: float) -> None:
        self._signal.wait(generation, timeout)

    def notify_committed(self) -> None:
        self._signal.bump()

    def select_stream(self, stream_id: UUID, after_version: int) -> list[StoredRow]:
        rows = self.fetchall(
            "SELECT rowid, originator_id, originator_version, state FROM workledger_events "
            "WHERE originator_id = ? AND originator_version > ? ORDER BY originator_version",
            (stream_id.hex, after_version),
        )
        return [StoredRow(r[0], UUID(r[1]), r[2], r[3]) for r in rows]

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
            "SELECT rowid, originator_id, originator_version, state FROM workledger_events "
            "WHERE rowid > ?"
        )
        params: list[Any] = [after]
        if until is not None:
            sql += " AND rowid <= ?"
            params.append(until)
        if types:
            sql += f" AND topic IN ({_placeholders(len(types))})"
            params.extend(types)
        if stamped_only:
            sql += " AND rowid NOT IN (SELECT position FROM workledger_event_times)"
        sql += " ORDER BY rowid LIMIT ?"
        params.append(limit)
        return [StoredRow(r[0], _hyphenated(r[1]), r[2], r[3]) for r in self.fetchall(sql, params)]

    def select_given_times(
        self, after: tuple[int, int], limit: int, types: Sequence[str] = (), until: int = 0
    ) -> list[tuple[int, StoredRow]]:
        sql = (
            "SELECT t.occurred, e.rowid, e.originator_id, e.originator_version, e.state "
            "FROM workledger_event_times t JOIN workledger_events e ON e.rowid = t.position "
            "WHERE (t.occurred, t.position) > (?, ?) AND t.position <= ?"
        )
        params: list[Any] = [after[0], after[1], until]
        if types:
            sql += f" AND e.topic IN ({_placeholders(len(types))})"
            params.extend(types)
        sql += " ORDER BY t.occurred, t.position LIMIT ?"
        params.append(limit)
        return [
            (r[0], StoredRow(r[1], _hyphenated(r[2]), r[3], r[4]))
            for r in self.fetchall(sql, params)
        ]

    def max_position(self) -> int:
        return int(self.fetchall("SELECT coalesce(max(rowid), 0) FROM workledger_events")[0][0])

    def select_events_at(
        self, places: Sequence[tuple[UUID, int]]
    ) -> dict[tuple[UUID, int], tuple[int, bytes]]:
        found: dict[tuple[UUID, int], tuple[int, bytes]] = {}
        with self.datastore.transaction(commit=False) as cursor:
            for stream_id, version in places:
                cursor.execute(
                    "SELECT rowid, state FROM workledger_events "
                    "WHERE originator_id = ? AND originator_version = ?",
                    (stream_id.hex, version),
                )
                row = cursor.fetchone()
                if row is not None:
                    found[(stream_id, version)] = (int(row[0]), bytes(row[1]))
        return found

    def streams_created_by(self, type_name: str) -> list[UUID]:
        rows = self.fetchall(
            "SELECT originator_id FROM workledger_events "
            "WHERE topic = ? AND originator_version = 1 ORDER BY rowid",
            (type_name,),
        )
        return [UUID(row[0]) for row in rows]

    def stored_response(self, principal: str, key: str) -> StoredResponse | None:
        rows = self.fetchall(
            "SELECT fingerprint, response FROM workledger_idempotency "
            "WHERE principal = ? AND key = ?",
            (principal, key),
        )
        return load_response(rows[0][0], rows[0][1]) if rows else None

    def fetchall(
        self, sql: str, params: Sequence[Any] = (), *, prepare: bool = False
    ) -> list[tuple[Any, ...]]:
        # The sqlite3 module keeps its own cache of compiled statements: ``prepare`` is moot.
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql.replace("%s", "?"), tuple(params))
            return [tuple(row) for row in cursor.fetchall()]

    def fetch_each(self, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
        return [self.fetchall(statement.sql, statement.params) for statement in statements]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._write_lock, self.datastore.transaction(commit=True) as cursor:
            cursor.execute(sql.replace("%s", "?"), tuple(params))

    def try_lock(self, name: str) -> _FileLock | None:
        # A lock on a file beside the database, which the system releases when its holder's
        # process ends. (An in-memory database has no file, and is not shared with other
        # processes: its lock file lives in the system's temporary directory.)
        digest = hashlib.sha256(f"{os.path.abspath(self.path)}\0{name}".encode()).hexdigest()
        directory = (
            os.path.dirname(os.path.abspath(self.path))
            if _is_file(self.path)
            else tempfile.gettempdir()
        )
        descriptor = os.open(
            os.path.join(directory, f".workledger-lock-{digest[:16]}"),
            os.O_RDWR | os.O_CREAT,
            0o600,
        )
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        except BaseException:
            os.close(descriptor)
            raise
        return _FileLock(descriptor)

    def archive(self) -> SQLiteArchive:
        return SQLiteArchive(self)

    def close(self) -> None:
        self.datastore.close()


def _is_file(path: str) -> bool:
    return path != ":memory:" and "mode=memory" not in path


class _FileLock:
    """An exclusive ``flock`` on an open file: no one else's while this descriptor is open."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor: int | None = descriptor

    def held(self) -> bool:
        return self._descriptor is not None

    def release(self) -> None:
        descriptor, self._descriptor = self._descriptor, None
        if descriptor is not None:
            # Closing the file releases its lock.
            os.close(descriptor)


def _hyphenated(stream_id: str) -> str:
    """A stored stream id (32 hex digits) in the canonical text form readers get on every
    backend, without parsing it into a ``UUID`` first."""
    return (
        f"{stream_id[:8]}-{stream_id[8:12]}-{stream_id[12:16]}-{stream_id[16:20]}-{stream_id[20:]}"
    )
