"""The event store: the library's recorders, plus atomic batches of independent commands.

One ``commit`` call writes a batch of pending commands in a single transaction (group commit).
Each command in the batch still gets its own answer: its expected stream versions, the versions of
the streams it only read, its unique claims and its idempotency key are all checked under the
store's write lock, and only the commands that pass are written. The write lock is the one the
library's PostgreSQL recorder takes (``LOCK TABLE ... IN EXCLUSIVE MODE``), so positions follow
commit order and a reader tailing the log never passes a gap that fills in later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from services.infrastructure.backend import (
    MAX_POSITION,
    Backend,
    Batch,
    ColumnType,
    CommitSignal,
    EventRow,
    HeldLock,
    SqlCursor,
    Statement,
    StoredRow,
    TypedColumns,
    WriteTransaction,
)
from services.infrastructure.codec import EventCodec, RecordedEvent
from services.infrastructure.commits import (
    Claim,
    ClaimTaken,
    CommitOutcome,
    CommitOutcomeUnknown,
    Committed,
    IdempotencyKey,
    ImportProgress,
    LoadedEvent,
    LockedReads,
    NewEvent,
    PendingCommit,
    Refused,
    Render,
    Replayed,
    StoredResponse,
    StreamAppend,
    VersionConflict,
    dump_response,
    load_response,
)

# The store is where the rest of the service meets the log: what it commits and what the
# databases offer are named from here too.
__all__ = [
    "MAX_POSITION",
    "Backend",
    "Batch",
    "Claim",
    "ClaimTaken",
    "ColumnType",
    "CommitOutcome",
    "CommitOutcomeUnknown",
    "CommitSignal",
    "Committed",
    "EventRow",
    "EventStore",
    "HeldLock",
    "IdempotencyKey",
    "ImportProgress",
    "LoadedEvent",
    "LockedReads",
    "NewEvent",
    "PendingCommit",
    "Refused",
    "Render",
    "Replayed",
    "SqlCursor",
    "Statement",
    "StoredResponse",
    "StoredRow",
    "StreamAppend",
    "TypedColumns",
    "VersionConflict",
    "WriteTransaction",
    "dump_response",
    "iter_pages",
    "load_response",
    "micros",
]


class _Unwritten(NamedTuple):
    """An event an earlier command of the batch is writing: its position is not known yet."""

    data: Any
    version: int
    position: int = -1


class _BatchReads:
    """``LockedReads`` inside a batch's transaction."""

    def __init__(self, tx: WriteTransaction, codec: EventCodec, now: datetime) -> None:
        self._tx = tx
        self._codec = codec
        self._now = now
        self._unwritten: dict[UUID, list[_Unwritten]] = {}

    @property
    def now(self) -> datetime:
        return self._now

    def load(self, stream_id: UUID, after_version: int = 0) -> Sequence[LoadedEvent]:
        events: list[LoadedEvent] = [
            self._codec.decode(row.position, row.stream_id, row.version, row.state)
            for row in self._tx.select_stream(stream_id, after_version)
        ]
        events.extend(
            event for event in self._unwritten.get(stream_id, ()) if event.version > after_version
        )
        return events

    def written(self, append: StreamAppend) -> None:
        unwritten = self._unwritten.setdefault(append.stream_id, [])
        for offset, new in enumerate(append.events, start=1):
            unwritten.append(_Unwritten(new.event, append.expected_version + offset))


class _Plan:
    """What one batch writes and answers, kept until its commit is known to have happened."""

    def __init__(self, batch: Sequence[PendingCommit]) -> None:
        self.batch = batch
        # The commands as finally decided: some are decided again under the lock.
        self.final: list[PendingCommit] = list(batch)
        self.outcomes: list[CommitOutcome | None] = []
        self.accepted: list[tuple[int, PendingCommit]] = []
        self.rows: list[EventRow] = []
        # Each row's occurred time (microseconds) when it came with the event, else ``None``.
        self.given_times: list[int | None] = []
        self.records: list[tuple[IdempotencyKey, StoredResponse, datetime]] = []
        self.new_claims: list[Claim] = []
        self.recorded_at = EPOCH
        self.committing = False


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """A moment as whole microseconds since the epoch: exact, sortable, on every backend."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class _Withdrawn(Exception):
    """An atomic batch with a refused command: its transaction is rolled back."""


class EventStore:
    """Reads streams and the log, and commits batches of commands atomically."""

    def __init__(
        self,
        backend: Backend,
        codec: EventCodec,
        clock: Callable[[], datetime] | None = None,
        *,
        settle_seconds: float = 5.0,
    ) -> None:
        self.backend = backend
        self.codec = codec
        self._clock = clock or (lambda: datetime.now(UTC))
        self._last_commit_time: datetime | None = None
        # How long to keep asking a database that dropped a ``COMMIT``'s reply what it did.
        self.settle_seconds = settle_seconds

    def load(self, stream_id: UUID, after_version: int = 0) -> list[RecordedEvent]:
        """The events of one stream, oldest first."""
        return [self._decode(row) for row in self.backend.select_stream(stream_id, after_version)]

    def read(
        self, after: int, limit: int, types: Sequence[str] = (), until: int | None = None
    ) -> list[RecordedEvent]:
        """A page of the log after ``after``, in position order."""
        return [self._decode(row) for row in self.backend.select_log(after, limit, types, until)]

    def last_position(self) -> int:
        return self.backend.max_position()

    def wait_for_events(
        self, after: int, timeout: float, stop: threading.Event | None = None
    ) -> int:
        """Waits up to ``timeout`` seconds for the log to pass ``after``; the last position.

        ``stop``, when set (and the backend's commit signal bumped), ends the wait early.
        """
        deadline = time.monotonic() + timeout
        while True:
            generation = self.backend.commit_generation()
            last = self.backend.max_position()
            remaining = deadline - time.monotonic()
            if last > after or remaining <= 0 or (stop is not None and stop.is_set()):
                return last
            self.backend.wait_for_events(generation, remaining)

    def streams_created_by(self, type_name: str) -> list[UUID]:
        """The ids of the streams whose first event has this type (e.g. every operation)."""
        return self.backend.streams_created_by(type_name)

    def stored_response(self, principal: str, key: str) -> StoredResponse | None:
        return self.backend.stored_response(principal, key)

    def _decode(self, row: StoredRow) -> RecordedEvent:
        return self.codec.decode(row.position, row.stream_id, row.version, row.state)

    def commit(
        self,
        batch: Sequence[PendingCommit],
        *,
        atomic: bool = False,
        progress: Callable[[Sequence[int]], ImportProgress] | None = None,
    ) -> list[CommitOutcome]:
        """Writes every command of ``batch`` whose conditions hold, all in one transaction.

        ``atomic`` writes the batch whole or not at all: when any command is refused, nothing
        is written and the outcomes say which. ``progress``, given the batch's positions, is
        an import's progress to record in the same transaction.

        A connection lost while the ``COMMIT`` is under way leaves its outcome unknown, not
        failed: the log is read back (the batch's events are known before it is sent) and each
        command is answered with what actually happened. The error is raised only when nothing
        was written, and ``CommitOutcomeUnknown`` when the database can't be asked in time.
        """
        plan = _Plan(batch)
        try:
            with self.backend.write_transaction() as tx:
                self._decide(tx, plan)
                if atomic and any(outcome is not None for outcome in plan.outcomes):
                    raise _Withdrawn
                positions = tx.insert_events(plan.rows) if plan.rows else []
                self._answer(plan, positions)
                if plan.records:
                    tx.insert_idempotency(plan.records)
                if plan.new_claims:
                    tx.insert_claims(plan.new_claims)
                given = [
                    (position, occurred)
                    for position, occurred in zip(positions, plan.given_times, strict=True)
                    if occurred is not None
                ]
                if given:
                    tx.insert_event_times(given)
                if progress is not None:
                    tx.record_import(progress(positions))
                plan.committing = True
        except _Withdrawn:
            return [outcome for outcome in plan.outcomes if outcome is not None]
        except Exception as error:
            if not plan.committing:
                raise
            self._settle(plan, error)
        outcomes = plan.outcomes
        if any(isinstance(outcome, Committed) and outcome.positions for outcome in outcomes):
            self.backend.notify_committed()
        self._answer_in_batch_replays(plan.final, outcomes)
        return [outcome for outcome in outcomes if outcome is not None]

    def _commit_time(self) -> datetime:
        # Taken under the write lock, and never behind the previous batch's even if the
        # system clock steps back, so occurred times follow commit order along each stream.
        now = self._clock()
        if self._last_commit_time is not None and now < self._last_commit_time:
            now = self._last_commit_time
        self._last_commit_time = now
        return now

    def _decide(self, tx: WriteTransaction, plan: _Plan) -> None:
        """Which commands of the batch are written, and the rows and answers they make."""
        batch = plan.batch
        recorded_at = self._commit_time()
        stream_ids = sorted(
            {a.stream_id for p in batch for a in p.appends} | {s for p in batch for s in p.observed}
        )
        versions = tx.stream_versions(stream_ids) if stream_ids else {}
        keys = [(p.idempotency.principal, p.idempotency.key) for p in batch if p.idempotency]
        known_keys = tx.idempotency_records(keys) if keys else {}
        wanted_claims = [(c.scope, c.value) for p in batch for c in p.claims]
        owners = tx.claim_owners(wanted_claims) if wanted_claims else {}
        reads = _BatchReads(tx, self.codec, recorded_at)

        for index, original in enumerate(batch):
            pending = original
            refusal = self._refusal(pending, versions, known_keys, owners)
            if isinstance(refusal, VersionConflict) and pending.redecide is not None:
                redone = pending.redecide(reads)
                if isinstance(redone, Refused):
                    plan.outcomes.append(redone)
                    continue
                self._learn(tx, redone, versions, owners)
                pending = plan.final[index] = redone
                refusal = self._refusal(pending, versions, known_keys, owners)
            plan.outcomes.append(refusal)
            if refusal is not None:
                continue
            plan.accepted.append((index, pending))
            occurred_at = recorded_at if pending.occurs_at_commit else None
            for append in pending.appends:
                version = append.expected_version
                for new in append.events:
                    version += 1
                    state = self.codec.encode(new.event, new.metadata, recorded_at, occurred_at)
                    plan.rows.append((append.stream_id, version, type(new.event).__name__, state))
                    plan.given_times.append(
                        None if occurred_at is not None else micros(new.metadata.occurred_at)
                    )
                versions[append.stream_id] = version
                reads.written(append)
            for claim in pending.claims:
                if (claim.scope, claim.value) not in owners:
                    owners[(claim.scope, claim.value)] = claim.owner_id
                    plan.new_claims.append(claim)
            if pending.idempotency is not None and pending.render is not None:
                # A later command in this batch with the same key is answered by this one.
                key = (pending.idempotency.principal, pending.idempotency.key)
                known_keys[key] = StoredResponse(0, {}, pending.idempotency.fingerprint)
        plan.recorded_at = recorded_at

    @staticmethod
    def _learn(
        tx: WriteTransaction,
        pending: PendingCommit,
        versions: dict[UUID, int],
        owners: dict[tuple[str, str], UUID],
    ) -> None:
        """Adds the versions and claim owners a command decided again needs and the batch had
        not read yet."""
        touched = {a.stream_id for a in pending.appends} | set(pending.observed)
        unread = sorted(touched - versions.keys())
        if unread:
            found = tx.stream_versions(unread)
            for stream_id in unread:
                versions[stream_id] = found.get(stream_id, 0)
        unclaimed = [(c.scope, c.value) for c in pending.claims if (c.scope, c.value) not in owners]
        if unclaimed:
            owners.update(tx.claim_owners(unclaimed))

    @staticmethod
    def _answer(plan: _Plan, positions: Sequence[int]) -> None:
        """Each accepted command's outcome, once its events have their positions."""
        plan.records.clear()
        last = positions[-1] if positions else 0
        cursor = 0
        for index, pending in plan.accepted:
            count = sum(len(a.events) for a in pending.appends)
            own = tuple(positions[cursor : cursor + count])
            cursor += count
            response = pending.render(own, last) if pending.render else None
            plan.outcomes[index] = Committed(own, response)
            if pending.idempotency is not None and response is not None:
                plan.records.append((pending.idempotency, response, plan.recorded_at))

    def _settle(self, plan: _Plan, error: Exception) -> None:
        """After a ``COMMIT`` whose reply was lost: the outcomes if the batch was written;
        ``error`` again if it was not, so the commands may be tried again."""
        deadline = time.monotonic() + self.settle_seconds
        while True:
            try:
                positions = self._written_positions(plan)
                break
            except Exception as unreachable:
                if time.monotonic() >= deadline:
                    raise CommitOutcomeUnknown(
                        "the connection to the database was lost while the command was being "
                        "committed, and whether it was written can't be told yet"
                    ) from unreachable
                time.sleep(0.05)
        if positions is None:
            raise error
        self._answer(plan, positions)

    def _written_positions(self, plan: _Plan) -> list[int] | None:
        """The positions of the batch's events if the log holds them; ``None`` if not."""
        if plan.rows:
            found = self.backend.select_events_at([(row[0], row[1]) for row in plan.rows])
            stream_id, version, _, state = plan.rows[0]
            first = found.get((stream_id, version))
            # A transaction is written whole or not at all: its first event tells which. The
            # envelope holds the event's own id, so an equal one is this batch's.
            if first is None or bytes(first[1]) != state:
                return None
            return [found[(row[0], row[1])][0] for row in plan.rows]
        if plan.records:
            key, response, _ = plan.records[0]
            stored = self.backend.stored_response(key.principal, key.key)
            if stored is None or dump_response(stored) != dump_response(response):
                return None
        return []

    @staticmethod
    def _refusal(
        pending: PendingCommit,
        versions: dict[UUID, int],
        known_keys: dict[tuple[str, str], StoredResponse],
        owners: dict[tuple[str, str], UUID],
    ) -> CommitOutcome | None:
        if pending.idempotency is not None:
            known = known_keys.get((pending.idempotency.principal, pending.idempotency.key))
            if known is not None:
                return Replayed(known)
        for append in pending.appends:
            actual = versions.get(append.stream_id, 0)
            if actual != append.expected_version:
                return VersionConflict(append.stream_id, append.expected_version, actual)
        for stream_id, expected in pending.observed.items():
            actual = versions.get(stream_id, 0)
            if actual != expected:
                return VersionConflict(stream_id, expected, actual)
        for claim in pending.claims:
            owner = owners.get((claim.scope, claim.value))
            if owner is not None and owner != claim.owner_id:
                return ClaimTaken(claim, owner)
        return None

    @staticmethod
    def _answer_in_batch_replays(
        batch: Sequence[PendingCommit], outcomes: list[CommitOutcome | None]
    ) -> None:
        """A retry that arrived in the same batch as its original gets the original's answer."""
        first: dict[tuple[str, str], StoredResponse] = {}
        for pending, outcome in zip(batch, outcomes, strict=True):
            if pending.idempotency is None:
                continue
            key = (pending.idempotency.principal, pending.idempotency.key)
            if isinstance(outcome, Committed) and outcome.response is not None:
                first[key] = StoredResponse(
                    outcome.response.status,
                    outcome.response.body,
                    pending.idempotency.fingerprint,
                )
        for index, (pending, outcome) in enumerate(zip(batch, outcomes, strict=True)):
            if pending.idempotency is None or not isinstance(outcome, Replayed):
                continue
            if outcome.response.status == 0:
                key = (pending.idempotency.principal, pending.idempotency.key)
                outcomes[index] = Replayed(first[key])


def iter_pages(
    store: EventStore, after: int, page_size: int, until: int | None = None
) -> Iterator[list[RecordedEvent]]:
    """Pages of the log after ``after`` (up to ``until``), until a page comes back empty."""
    while True:
        page = store.read(after, page_size, until=until)
        if not page:
            return
        yield page
        after = page[-1].position
