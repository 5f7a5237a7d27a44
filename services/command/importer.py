"""Importing history: commands as they happened, each with its original time and actor.

Every line is a command of the public API (see ``lines``), decided by the same actions and
deciders as a live command, with ``now`` at the line's ``occurred_at``. Its events keep that
time, and are recorded today: the log is appended to, never rewritten, and views place what the
line did where it occurred (``services.infrastructure.timeline``).

Lines are decided one after another against the state the earlier lines left, which the import
keeps in a cache of its own, and written in atomic batches: a batch's events and the import's
progress (``ImportProgress``: how many of its lines are in the log) commit together. So an import
that is retried or resumed under the same id skips the lines already written and writes nothing
twice. A line that is refused stops the import: the lines before it are written, nothing of it
is, and the answer names its number and the refusal, so it can be fixed and the import resumed
from there.

An object's events never go back in time: a line that would change an object before its latest
change is refused (``occurred_out_of_order``). Other objects a line refers to (a team, an
assignee) are checked as they stand when it is imported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.catalog import MEMBER
from domain.errors import DomainError, MemberInactive
from domain.operation import OperationCreated
from services.command.actions import operations as operation_actions
from services.command.errors import problem_of
from services.command.handler import CommandContext, Session
from services.command.import_report import (
    ImportBusy,
    ImportGap,
    ImportReport,
    LineError,
    RawLine,
    parsed_line,
)
from services.command.lines import CommandCatalog, LineCommand, invalid
from services.command.outcomes import ClaimConflict, ConcurrencyConflict
from services.command.streams import StreamCache
from services.infrastructure.http import ProblemError
from services.infrastructure.ids import new_id
from services.infrastructure.store import (
    ClaimTaken,
    Committed,
    EventStore,
    ImportProgress,
    PendingCommit,
    Refused,
    VersionConflict,
)

log = logging.getLogger("workledger.import")

# Lines decided before their events are written together: large enough that a transaction
# carries many, small enough that a batch to decide again (after a live writer got in between)
# is quick to redo.
BATCH_LINES = 500
# A tick schedules at most this far past the line's time, as a live one does past now.
MAX_TICK_AHEAD = timedelta(days=366)
# A line whose objects live writers keep changing is decided again this many times at most.
LINE_ATTEMPTS = 5


@dataclass
class _Decided:
    line: LineCommand
    commits: list[PendingCommit]
    sessions: list[Session] = field(default_factory=list)


class ImportRun:
    """One run of an import: lines are fed in order, then ``finish`` answers the report."""

    def __init__(
        self,
        importer: Importer,
        import_id: str,
        principal: str,
        first_line: int,
        known: ImportProgress | None,
    ) -> None:
        self._importer = importer
        self._store = importer.store
        self.import_id = import_id
        self._principal = principal
        self._known = known
        done = known.lines if known else 0
        if first_line > done + 1:
            raise ImportGap(
                f"import {import_id} has {done} lines in the log; "
                f"resume it from line {done + 1}, not {first_line}"
            )
        self.report = ImportReport(
            import_id,
            first_line,
            lines_done=done,
            events=0,
            position=known.position if known else 0,
        )
        self._total_events = known.events if known else 0
        self._started_at = known.started_at if known else importer.clock()
        self._next = first_line
        # The last line fed whose effects (if any) are decided: the batch goes up to it.
        self._fed_upto = done
        self._batch: list[_Decided] = []
        # The import's own view of the streams it writes: states with the batch's events not
        # yet committed, and when each stream's latest event occurred.
        self._cache = StreamCache(capacity=200_000)
        self._times: dict[UUID, datetime] = {}

    def stopped(self) -> bool:
        return self.report.error is not None

    def feed(self, raw: RawLine) -> bool:
        """Takes the next line; ``False`` once a refused line has stopped the run."""
        if self.stopped():
            return False
        number = self._next
        self._next += 1
        self.report.lines_read += 1
        if number <= self.report.lines_done:
            self.report.skipped += 1
            return True
        try:
            decided = self._decide(number, raw)
        except Exception as error:
            if self.stopped():
                # The lines before this one were refused when it wrote them.
                return False
            problem = _problem(error)
            self._flush()
            if not self.stopped():
                self.report.error = LineError(number, problem)
            return False
        if decided is not None:
            self._batch.append(decided)
        self._fed_upto = number
        if len(self._batch) >= self._importer.batch_lines:
            self._flush()
        return not self.stopped()

    def finish(self) -> ImportReport:
        self._flush()
        return self.report

    # Deciding

    def _decide(self, number: int, raw: RawLine) -> _Decided | None:
        parsed = parsed_line(raw)
        if parsed is None:
            return None
        line = self._importer.catalog.parse(number, parsed, self._importer.clock())
        if line.is_tick:
            self._flush()
            if self.stopped():
                raise _Stopped
            return self._tick(line)
        session = self._session(line, trust_cache=True)
        commit = self._commit_of(line, session)
        return _Decided(line, [commit], [session])

    def _session(self, line: LineCommand, *, trust_cache: bool) -> Session:
        actor = str(line.actor_id) if line.actor_id else "system"
        context = CommandContext(
            actor=actor,
            principal=f"import:{self.import_id}",
            now=line.occurred_at,
            correlation_id=new_id(),
            causation_id=new_id(),
        )
        return Session(self._store, self._cache, context, trust_cache=trust_cache)

    def _commit_of(self, line: LineCommand, session: Session) -> PendingCommit:
        if line.actor_id is not None:
            actor = session.require(MEMBER, line.actor_id, "actor_id")
            if not actor.active:
                # As a deactivated member's token writes nothing live.
                raise MemberInactive(
                    f"member {line.actor_id} was deactivated before this line", field="actor_id"
                )
        assert line.action is not None
        line.action(session)
        commit = session.pending()
        self._check_times(line, commit)
        self._written(line, commit, session)
        return commit

    def _tick(self, line: LineCommand) -> _Decided:
        """Schedules every operation's occurrences up to ``until``, as of the line's time;
        operations changed after that time are left as they are."""
        until = line.tick_until or (line.occurred_at + self._importer.horizon).date()
        if until > (line.occurred_at + MAX_TICK_AHEAD).date():
            raise invalid("until may be at most a year after occurred_at", "body.until")
        decided = _Decided(line, [])
        for operation_id in self._store.streams_created_by(OperationCreated.__name__):
            session = self._session(line, trust_cache=True)
            try:
                operation_actions.schedule_occurrences(operation_id, until)(session)
            except DomainError:
                continue
            commit = session.pending()
            if not commit.appends or self._changed_after(line, commit):
                continue
            self._written(line, commit, session)
            decided.commits.append(commit)
            decided.sessions.append(session)
        return decided

    def _latest(self, stream_id: UUID, version: int) -> datetime | None:
        known = self._times.get(stream_id)
        if known is not None:
            return known
        events = self._store.load(stream_id, after_version=version - 1)
        return events[-1].metadata.occurred_at if events else None

    def _changed_after(self, line: LineCommand, commit: PendingCommit) -> bool:
        for append in commit.appends:
            if append.expected_version == 0:
                continue
            latest = self._latest(append.stream_id, append.expected_version)
            if latest is not None and latest > line.occurred_at:
                return True
        return False

    def _check_times(self, line: LineCommand, commit: PendingCommit) -> None:
        for append in commit.appends:
            if append.expected_version == 0:
                continue
            latest = self._latest(append.stream_id, append.expected_version)
            if latest is not None and latest > line.occurred_at:
                raise ProblemError(
                    409,
                    "occurred_out_of_order",
                    f"object {append.stream_id} last changed at {latest.isoformat()}, after "
                    f"this line's occurred_at {line.occurred_at.isoformat()}: an object's "
                    "history can't be changed before its latest change",
                    errors=[{"field": "occurred_at", "message": "before the object's latest"}],
                )

    def _written(self, line: LineCommand, commit: PendingCommit, session: Session) -> None:
        """The line's events as the import's next lines see them (not committed yet)."""
        for append in commit.appends:
            self._times[append.stream_id] = line.occurred_at
        session.remember_committed([0] * sum(len(a.events) for a in commit.appends))

    # Writing

    def _flush(self) -> None:
        if self.stopped():
            # A line was refused (perhaps one of a batch written line by line): the lines after
            # the last one written are not done, and the progress must not say they are.
            return
        batch, self._batch = self._batch, []
        upto = self._fed_upto
        if not batch and upto <= self.report.lines_done:
            return
        commits = [commit for decided in batch for commit in decided.commits]
        outcomes = self._store.commit(commits, atomic=True, progress=self._progress(upto, commits))
        if all(isinstance(outcome, Committed) for outcome in outcomes):
            self._committed(batch, outcomes, upto)
            return
        # A live writer changed an object the batch read since the import decided: the import
        # forgets what it knew and decides each line again, alone.
        self._forget()
        for decided in batch:
            if not self._one_by_one(decided):
                return
        # Blank lines after the batch's last command are done too.
        self._flush()

    def _one_by_one(self, decided: _Decided) -> bool:
        line = decided.line
        for _ in range(LINE_ATTEMPTS):
            try:
                if line.is_tick:
                    fresh = self._tick(line)
                else:
                    session = self._session(line, trust_cache=False)
                    fresh = _Decided(line, [self._commit_of(line, session)], [session])
            except Exception as error:
                self._forget()
                self.report.error = LineError(line.number, _problem(error))
                return False
            outcomes = self._store.commit(
                fresh.commits, atomic=True, progress=self._progress(line.number, fresh.commits)
            )
            if all(isinstance(outcome, Committed) for outcome in outcomes):
                self._committed([fresh], outcomes, line.number)
                return True
            self._forget()
            refusal = next(o for o in outcomes if not isinstance(o, Committed))
            if isinstance(refusal, VersionConflict):
                continue
            self.report.error = LineError(line.number, _problem(_refusal_error(refusal)))
            return False
        self.report.error = LineError(
            line.number,
            ProblemError(409, "conflict", "live writers kept changing this line's objects"),
        )
        return False

    def _progress(self, upto: int, commits: list[PendingCommit]) -> Callable[[Any], ImportProgress]:
        def progress(positions: Any) -> ImportProgress:
            return ImportProgress(
                self.import_id,
                self._principal,
                upto,
                self._total_events + len(positions),
                positions[-1] if positions else self.report.position,
                self._started_at,
                self._importer.clock(),
            )

        return progress

    def _committed(self, batch: list[_Decided], outcomes: list[Any], upto: int) -> None:
        written = sum(len(outcome.positions) for outcome in outcomes)
        self.report.applied += upto - self.report.lines_done
        self.report.lines_done = upto
        self.report.events += written
        self._total_events += written
        last = [outcome.positions[-1] for outcome in outcomes if outcome.positions]
        if last:
            self.report.position = max(last)
        progress = self._importer.on_progress
        if progress is not None:
            progress(self.report)

    def _forget(self) -> None:
        self._cache = StreamCache(capacity=200_000)
        self._times.clear()


class _Stopped(Exception):
    """The batch before a tick was refused: the run has already stopped."""


def _problem(error: Exception) -> ProblemError:
    """The refusal of a line; anything else (the database away, a defect) is raised."""
    try:
        return problem_of(error)
    except TypeError:
        raise error from None


def _refusal_error(refusal: Any) -> Exception:
    if isinstance(refusal, ClaimTaken):
        return ClaimConflict(refusal.claim, refusal.owner_id)
    if isinstance(refusal, Refused):
        return refusal.error
    return ConcurrencyConflict(f"the line could not be written: {refusal!r}")


class Importer:
    """Runs imports against one store; one run of an import id at a time."""

    def __init__(
        self,
        store: EventStore,
        catalog: CommandCatalog,
        *,
        horizon: timedelta,
        clock: Callable[[], datetime] | None = None,
        batch_lines: int = BATCH_LINES,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.horizon = horizon
        self.clock = clock or (lambda: datetime.now(UTC))
        self.batch_lines = batch_lines
        self.on_progress: Callable[[ImportReport], None] | None = None

    def progress(self, import_id: str) -> ImportProgress | None:
        rows = self.store.backend.fetchall(
            "SELECT import_id, principal, lines, events, position, started_at, updated_at "
            "FROM workledger_imports WHERE import_id = %s",
            (import_id,),
        )
        if not rows:
            return None
        import_id, principal, lines, events, position, started, updated = rows[0]
        return ImportProgress(
            import_id, principal, lines, events, position, _moment(started), _moment(updated)
        )

    def run(
        self,
        import_id: str,
        lines: Iterable[RawLine],
        *,
        principal: str = "system",
        first_line: int = 1,
    ) -> ImportReport:
        """Imports ``lines`` (numbered from ``first_line``) under ``import_id``."""
        lock = self.store.backend.try_lock(f"workledger-import:{import_id}")
        if lock is None:
            raise ImportBusy(f"import {import_id} is being written by another run")
        try:
            run = ImportRun(self, import_id, principal, first_line, self.progress(import_id))
            for raw in lines:
                if not run.feed(raw):
                    break
            return run.finish()
        finally:
            lock.release()


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
