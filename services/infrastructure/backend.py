"""What a database that holds the log offers: the write transaction the store commits in,
cursors for read models, reads of the log, locks and commit signals (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol
from uuid import UUID

from services.infrastructure.commits import (
    Claim,
    IdempotencyKey,
    ImportProgress,
    StoredResponse,
)

EventRow = tuple[UUID, int, str, bytes]


# Positions are 64-bit signed integers in both databases: a larger one names no event.
MAX_POSITION = 2**63 - 1


class WriteTransaction(Protocol):
    """What a backend offers inside its write-locked transaction."""

    def stream_versions(self, stream_ids: Sequence[UUID]) -> dict[UUID, int]: ...

    def select_stream(self, stream_id: UUID, after_version: int) -> list[StoredRow]: ...

    def idempotency_records(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], StoredResponse]: ...

    def claim_owners(self, claims: Sequence[tuple[str, str]]) -> dict[tuple[str, str], UUID]: ...

    def insert_events(self, rows: Sequence[EventRow]) -> list[int]: ...

    def insert_idempotency(
        self, records: Sequence[tuple[IdempotencyKey, StoredResponse, datetime]]
    ) -> None: ...

    def insert_claims(self, claims: Sequence[Claim]) -> None: ...

    def insert_event_times(self, times: Sequence[tuple[int, int]]) -> None:
        """Records ``(position, occurred)`` of events whose occurred time came with them."""
        ...

    def record_import(self, progress: ImportProgress) -> None: ...


class LogRecord(NamedTuple):
    """An event exactly as the log stores it, for a backup and its restore: its position, its
    stream id (as text), version and type, its stored envelope, and its occurred time in
    microseconds when that came with the event (imported; kept in ``workledger_event_times``)."""

    position: int
    stream_id: str
    version: int
    type: str
    state: bytes
    given_occurred: int | None


class StoredRow(NamedTuple):
    """A row of the log as read. The stream id may come as text (as the log's readers want it
    again); a tuple, because a rebuild reads a million of them."""

    position: int
    stream_id: UUID | str
    version: int
    state: bytes


class Statement(NamedTuple):
    """One read: its SQL, its parameters, and whether the database should keep its plan."""

    sql: str
    params: Sequence[Any] = ()
    prepare: bool = False


ColumnType = Literal["text", "int", "real", "bool"]
"""What a read-model column holds: text, a 64-bit integer, a float or a boolean (or null)."""
TypedColumns = Sequence[tuple[str, ColumnType]]


class Batch(NamedTuple):
    """One write statement and the rows it runs for, once each."""

    sql: str
    rows: Sequence[Sequence[Any]]


class SqlCursor(Protocol):
    """A cursor inside a transaction; SQL uses ``%s`` placeholders on every backend."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def copy_rows(self, table: str, columns: TypedColumns, rows: Sequence[Sequence[Any]]) -> None:
        """Bulk-inserts rows whose values are each of its column's type, or ``None``: a binary
        ``COPY`` on PostgreSQL, a prepared insert on SQLite."""
        ...

    def run_together(self, batches: Sequence[Batch]) -> None:
        """Runs every batch, in order. On PostgreSQL they are pipelined: sent together and
        answered in about one round trip, instead of one per batch."""
        ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...


class Backend(Protocol):
    """A database that holds the log: SQLite or PostgreSQL."""

    name: str

    def write_transaction(self) -> AbstractContextManager[WriteTransaction]: ...

    def transaction(self) -> AbstractContextManager[SqlCursor]:
        """A read-write transaction for read models and bookkeeping (not for the log)."""
        ...

    def read_transaction(self) -> AbstractContextManager[SqlCursor]:
        """A read-only transaction whose queries all see one snapshot."""
        ...

    def setup_transaction(self) -> AbstractContextManager[SqlCursor]:
        """A transaction that creates what is missing (tables, indexes), as every process does
        when it starts. Such transactions take turns across processes: two at once would fail
        on the catalog (PostgreSQL's ``CREATE TABLE IF NOT EXISTS`` is not safe against itself).
        """
        ...

    def commit_generation(self) -> int:
        """A counter that moves whenever this process learns of a commit."""
        ...

    def wait_for_events(self, generation: int, timeout: float) -> None:
        """Returns once the commit generation has moved past ``generation``, or on a timeout.

        A backend bounds each wait by its polling interval, so a lost notification only delays
        a reader; it never stalls one.
        """
        ...

    def notify_committed(self) -> None:
        """Wakes this process's waiters after a commit made here."""
        ...

    def select_stream(self, stream_id: UUID, after_version: int) -> list[StoredRow]: ...

    def select_log(
        self,
        after: int,
        limit: int,
        types: Sequence[str] = (),
        until: int | None = None,
        *,
        stamped_only: bool = False,
    ) -> list[StoredRow]:
        """Events after ``after`` in position order; ``stamped_only`` leaves out those whose
        occurred time came with them (imported), keeping those stamped at their commit."""
        ...

    def select_given_times(
        self, after: tuple[int, int], limit: int, types: Sequence[str] = (), until: int = 0
    ) -> list[tuple[int, StoredRow]]:
        """Events whose occurred time came with them, up to position ``until``, in the order of
        ``(occurred, position)`` after ``after``, each with its occurred time."""
        ...

    def max_position(self) -> int: ...

    def select_events_at(
        self, places: Sequence[tuple[UUID, int]]
    ) -> dict[tuple[UUID, int], tuple[int, bytes]]:
        """The position and stored envelope of each event found at ``(stream, version)``."""
        ...

    def streams_created_by(self, type_name: str) -> list[UUID]: ...

    def stored_response(self, principal: str, key: str) -> StoredResponse | None: ...

    def fetchall(
        self, sql: str, params: Sequence[Any] = (), *, prepare: bool = False
    ) -> list[tuple[Any, ...]]:
        """The rows of one statement in a transaction of its own; ``prepare`` asks the database
        to keep its plan for the connection (where it can)."""
        ...

    def fetch_each(self, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
        """The rows of each of ``statements``, which don't depend on each other, in order. On
        PostgreSQL they travel together (pipelined): about one round trip for all of them."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def try_lock(self, name: str) -> HeldLock | None:
        """Takes the lock called ``name`` if no one holds it, across every process that uses this
        database; ``None`` if someone does. A holder that dies (its process, or the connection
        that holds the lock) lets go of it at once, without a timeout."""
        ...

    def archive(self) -> LogArchive:
        """The log as stored, read for a backup and written by its restore."""
        ...

    def close(self) -> None: ...


class LogArchive(Protocol):
    """The log exactly as a backend stores it, beside what its commits keep with it: the unique
    claims and the imports' progress. Every read stops at position ``until``, so that what a
    backup holds is what the log held at one moment."""

    def records(self, after: int, limit: int, until: int) -> list[LogRecord]:
        """The events after ``after`` up to ``until``, in position order."""
        ...

    def record_at_or_before(self, position: int) -> LogRecord | None:
        """The last event at or before ``position``; ``None`` if there is none."""
        ...

    def claims(self, until: int, after: tuple[str, str], limit: int) -> list[Claim]:
        """The claims after ``(scope, value)`` in that order, of owners the log holds events
        of up to ``until`` (a claim is written in one transaction with its owner's events)."""
        ...

    def imports(self) -> list[ImportProgress]:
        """Every import's progress."""
        ...

    def restoring(self) -> AbstractContextManager[LogRestore]:
        """One transaction under the log's write lock, in which a restore writes."""
        ...


class LogRestore(Protocol):
    """What a restore's transaction offers."""

    def head(self) -> LogRecord | None:
        """The log's last event; ``None`` while it is empty."""
        ...

    def write_events(self, records: Sequence[LogRecord]) -> None:
        """Writes events at the positions they hold, which follow every event there is, and
        their given occurred times; new commits are numbered after them."""
        ...

    def claim_owners(self, claims: Sequence[Claim]) -> dict[tuple[str, str], UUID]:
        """The owners the store already knows of these claims' values."""
        ...

    def write_claims(self, claims: Sequence[Claim]) -> None: ...

    def write_imports(self, imports: Sequence[ImportProgress]) -> None:
        """Writes each import's progress, replacing what the store held of it."""
        ...


class HeldLock(Protocol):
    """A lock taken with ``Backend.try_lock``."""

    def held(self) -> bool:
        """Whether the lock is still this holder's: checked, not remembered (a lock held by a
        connection is lost with the connection)."""
        ...

    def release(self) -> None: ...


class CommitSignal:
    """A generation counter and condition: commits bump it, readers wait on it."""

    def __init__(self, poll_interval: float) -> None:
        self.poll_interval = poll_interval
        self._condition = threading.Condition()
        self._generation = 0

    def generation(self) -> int:
        with self._condition:
            return self._generation

    def bump(self) -> None:
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def wait(self, generation: int, timeout: float) -> None:
        with self._condition:
            self._condition.wait_for(
                lambda: self._generation != generation, min(timeout, self.poll_interval)
            )
