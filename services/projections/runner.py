"""Projection workers: follow the log page by page, applying each page and its position at once.

Each projection keeps a row in ``workledger_projections``: the position it has applied up to and
the generation of tables it writes. A page of events and the new position are committed in one
transaction, so after any crash a worker resumes exactly where its last commit left it: no event
is lost and none is applied twice. The position is advanced with a compare-and-set, so two workers
of one projection can't both apply a page (one of them rolls back and reloads).

A failing event stops its worker's progress loudly (logged, reported by ``status``); the worker
retries the same page with a growing pause. It never skips.

Positions follow commit order because every writer takes the log's table lock (see
``services.infrastructure.store``), so a worker that has read up to ``p`` can never later find
an event below ``p`` committed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from eventsourcing.persistence import InterfaceError, OperationalError

from services.infrastructure.codec import RecordedEvent
from services.infrastructure.metrics import ViewMetrics
from services.infrastructure.store import Backend, EventStore
from services.infrastructure.timeline import last_given_time_position
from services.projections.page_writer import DEFAULT_CACHE_CAPACITY, RowCache
from services.projections.rebuild import (
    RebuildInProgress,
    RebuildProgress,
    rebuild,
)
from services.projections.state import (
    ADVANCE,
    PositionLost,
    Projection,
    ProjectionState,
    apply_page,
    create_tables,
    ensure_projection,
    event_time,
    largest_current_table,
    load_current_rows,
    now_micros,
    read_page,
    read_state,
)

# What the projections' other modules and their callers take from here.
__all__ = [
    "PositionLost",
    "Projection",
    "ProjectionState",
    "ProjectionWorker",
    "RebuildInProgress",
    "RebuildProgress",
    "apply_page",
    "create_tables",
    "ensure_projection",
    "event_time",
    "read_state",
    "rebuild",
]

log = logging.getLogger("workledger.projections")

# How far behind the log a starting worker must be to read its view's current rows first.
WARM_UP_BEHIND = 50_000

# A failing page is retried after a pause that doubles from the first to the most, so that a
# page that can't be applied (a bug) does not fill the log with its failure.
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0
# A database that is away (a lost connection, none from the pool in time) or briefly refusing
# (a lock or serialization failure) is no fault of the page: the worker tries again about every
# second, so the view moves again as soon as the database is back, however long it was away.
DATABASE_AWAY = (OperationalError, InterfaceError)
RETRY_AWAY_SECONDS = 1.0
# Before deriving a view again for imported history, a worker waits until no import has written
# for this long (checked this often), so that one derivation takes in a whole import; but never
# longer than the most.
IMPORT_QUIET_SECONDS = 0.5
IMPORT_POLL_SECONDS = 0.25
IMPORT_WAIT_MAX_SECONDS = 60.0
# A page's log line names the correlation ids of its events, the first this many of them: enough
# to follow a command into every view, few enough to keep a busy page's line short.
LOGGED_CORRELATION_IDS = 10


class ProjectionWorker:
    """Keeps one projection up to date with the log."""

    def __init__(
        self,
        store: EventStore,
        backend: Backend,
        projection: Projection,
        *,
        page_size: int = 2000,
        linger: float = 0.02,
        warm_up_behind: int = WARM_UP_BEHIND,
        cache_capacity: int = DEFAULT_CACHE_CAPACITY,
        metrics: ViewMetrics | None = None,
    ) -> None:
        self.store = store
        self.backend = backend
        self.projection = projection
        self.page_size = page_size
        self.linger = linger
        self.warm_up_behind = warm_up_behind
        self.cache_capacity = cache_capacity
        self._cache = RowCache(cache_capacity)
        self._state: ProjectionState | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # While the worker is behind, the page after the one being applied is read meanwhile.
        self._reader: ThreadPoolExecutor | None = None
        self._ahead: tuple[int, Future[tuple[list[RecordedEvent], int]]] | None = None
        self.last_error: str | None = None
        self.failures = 0
        # How many times the view was derived again for history that arrived out of order, and
        # how long no import must have written before it is.
        self.derivations = 0
        self.import_quiet_seconds = IMPORT_QUIET_SECONDS
        # Where a failure and the recovery after it are told (``health`` records them where
        # ``status`` and ``/readyz`` read them).
        self.on_failure: Callable[[str, BaseException], None] = lambda _name, _error: None
        self.on_recovery: Callable[[str], None] = lambda _name: None
        # Whether the worker has applied a full page since it last found nothing more to apply:
        # it is catching up, and its pages come by the thousand.
        self._catching_up = False
        views = metrics or ViewMetrics.detached()
        self._pages_applied = views.pages_applied.labels(projection.name)
        self._events_applied = views.events_applied.labels(projection.name)

    @property
    def name(self) -> str:
        return self.projection.name

    def position(self) -> int:
        state = read_state(self.backend, self.name)
        return state.position if state else 0

    def prepare(self) -> None:
        state = ensure_projection(self.backend, self.projection)
        if state.schema_version != self.projection.schema_version:
            # Its tables are an older release's: ``step`` builds this schema's copy beside them.
            self._state, self._cache = state, RowCache(capacity=None)
            return
        # A cache that holds every row of the view needs no lookups, where a cold one makes
        # one per key it meets. At position 0 the tables are empty (rows and position commit
        # together), so an empty cache holds them all. Otherwise the worker reads every current
        # row first when they fit in its cache, and also when it is far behind the log, as
        # after downtime: a catch-up with every row at hand beats one lookup per key. (A cache
        # unbounded while catching up is bounded once the worker reaches the log.)
        if state.position == 0:
            cache = RowCache(capacity=None)
        else:
            far_behind = self.store.last_position() - state.position >= self.warm_up_behind
            cache = RowCache(self.cache_capacity)
            if (
                far_behind
                or largest_current_table(self.backend, self.projection, state.generation)
                <= self.cache_capacity
            ):
                loaded, warm = load_current_rows(self.backend, self.projection)
                if loaded is not None:
                    state, cache = loaded, warm
                    if not far_behind:
                        cache.limit(self.cache_capacity)
        self._state, self._cache = state, cache

    @property
    def holds_every_row(self) -> bool:
        """Whether the worker holds every row of its view in memory."""
        return self._cache.complete

    def step(self) -> int:
        """Applies the next page, if any; the number of events applied (at least 1 if the
        position moved on)."""
        if self._state is None:
            self.prepare()
        state = self._state
        assert state is not None
        if state.schema_version != self.projection.schema_version:
            # A `workledger rebuild` of this release may have switched its copy in meanwhile.
            self.prepare()
            state = self._state
            assert state is not None
        if state.schema_version != self.projection.schema_version:
            return self._build_from_scratch(
                f"its schema version {self.projection.schema_version} beside the copy of "
                f"version {state.schema_version} that keeps serving"
            )
        if state.position == 0 and self.store.last_position() >= self.warm_up_behind:
            # A view that starts from nothing far behind the log (new, or of a new schema) is
            # built as a rebuild builds it: tables filled without indexes, each row version
            # written once. Page by page it would update every row it replaces, in place.
            return self._build_from_scratch()
        events, last = self._read(state.position)
        if last == state.position:
            self._catching_up = False
            return 0
        through = state.occurred_through
        if self.projection.occurred_order:
            for event in events:
                occurred = event_time(event)
                if occurred < through:
                    return self._derive_again()
                through = occurred
        elif events:
            through = max(through, *map(event_time, events))
        if len(events) == self.page_size:
            # Behind the log: the next page is read while this one is applied, so that the
            # database's part of reading overlaps with applying.
            self._read_ahead(last)
        try:
            with self.backend.transaction() as cursor:
                # The position first: its row stays locked until the page commits, so another
                # worker of this view waits here and then finds the position moved, rather than
                # applying the same page beside this one.
                cursor.execute(
                    ADVANCE[self.backend.name],
                    (last, now_micros(), through, self.name, state.position, state.generation),
                )
                if cursor.fetchone() is None:
                    raise PositionLost(self.name)
                if events:
                    apply_page(cursor, self.projection, state.generation, self._cache, events)
        except PositionLost:
            # A rebuild switched generations, or another worker got there first: start over.
            self._state = None
            self._cache = RowCache(self.cache_capacity)
            return 0
        except BaseException:
            # Whatever the page did is rolled back; the next step starts from the stored state.
            self._state = None
            self._cache = RowCache(self.cache_capacity)
            raise
        self._state = ProjectionState(
            state.name, last, state.generation, state.schema_version, now_micros(), through
        )
        self._pages_applied.inc()
        self._events_applied.inc(len(events))
        self._log_page(state.position, last, events)
        if len(events) < self.page_size and self._cache.capacity is None:
            self._cache.limit(self.cache_capacity)
        # Never 0 once the position moved, even if no event was the view's: callers stop at 0.
        return max(len(events), 1)

    def _log_page(self, after: int, position: int, events: list[RecordedEvent]) -> None:
        """A line for a page that applied events: at INFO for the log's new events as they
        come, at DEBUG from a full page until the worker next reaches the end of the log (a
        catch-up after a start or a stop, whose pages come by the thousand)."""
        if len(events) >= self.page_size:
            self._catching_up = True
        level = logging.DEBUG if self._catching_up else logging.INFO
        if not events or not log.isEnabledFor(level):
            return
        correlations = list(dict.fromkeys(event.metadata.correlation_id_text for event in events))
        fields: dict[str, object] = {
            "view": self.name,
            "after": after,
            "position": position,
            "events": len(events),
            "correlation_ids": correlations[:LOGGED_CORRELATION_IDS],
        }
        if len(correlations) > LOGGED_CORRELATION_IDS:
            fields["correlation_ids_omitted"] = len(correlations) - LOGGED_CORRELATION_IDS
        log.log(level, "page applied", extra=fields)

    def _derive_again(self) -> int:
        """The next page holds an event that occurred before events the view has applied:
        imported history, recorded after what happened later. The view is the fold of its
        events in the order they occurred, so it is derived again, in that order, beside the
        copy that keeps serving (which stays where it is until the switch, so a query that
        waits for a position past the import waits for the view that tells it right).

        An import writes in batches, so the worker first waits until none has been written
        for a moment (or a minute at most): one derivation then takes in the whole import.
        """
        self._ahead = None
        log.info(
            "view %s: events arrived that occurred before ones it has applied (imported "
            "history); deriving it again in the order they occurred",
            self.name,
        )
        self._await_quiet_imports()
        if not self._stop.is_set():
            try:
                rebuild(self.store, self.backend, self.projection)
                self.derivations += 1
            except RebuildInProgress:
                # Another worker of this view (or `workledger rebuild`) is at it: its switch
                # moves this worker on.
                self._stop.wait(1.0)
        self._state = None
        self._cache = RowCache(self.cache_capacity)
        return 1

    def _build_from_scratch(self, what: str = "it") -> int:
        log.info("view %s: building %s from the start of the log", self.name, what)
        try:
            built = rebuild(self.store, self.backend, self.projection)
        except RebuildInProgress:
            self._stop.wait(1.0)
            built = None
        self._state = None
        self._cache = RowCache(self.cache_capacity)
        return max(built.applied if built else 0, 1)

    def _await_quiet_imports(self) -> None:
        if self.import_quiet_seconds <= 0:
            return
        started = changed_at = time.monotonic()
        last = last_given_time_position(self.store)
        while not self._stop.wait(IMPORT_POLL_SECONDS):
            now = time.monotonic()
            latest = last_given_time_position(self.store)
            if latest != last:
                last, changed_at = latest, now
            quiet = now - changed_at >= self.import_quiet_seconds
            if quiet or now - started >= IMPORT_WAIT_MAX_SECONDS:
                return

    def _read(self, after: int) -> tuple[list[RecordedEvent], int]:
        """The page after ``after``: the one read ahead, if it was read from there."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == after:
            return ahead[1].result()
        return read_page(self.store, self.projection, after, self.page_size)

    def _read_ahead(self, after: int) -> None:
        if self._reader is None:
            self._reader = ThreadPoolExecutor(1, thread_name_prefix=f"workledger-read-{self.name}")
        future = self._reader.submit(read_page, self.store, self.projection, after, self.page_size)
        self._ahead = (after, future)

    def catch_up(self, until: int | None = None) -> int:
        """Applies pages until the log (or ``until``) is reached; the events applied."""
        applied = 0
        while True:
            count = self.step()
            applied += count
            state = self._state
            if count == 0 or (until is not None and state is not None and state.position >= until):
                return applied

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"workledger-projection-{self.name}", daemon=True
        )
        self._thread.start()

    def request_stop(self) -> None:
        """Asks the worker to stop after its current page, waking it if it waits."""
        self._stop.set()
        self.backend.notify_committed()

    def stop(self) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._ahead = None
        if self._reader is not None:
            self._reader.shutdown(wait=True, cancel_futures=True)
            self._reader = None

    def _run(self) -> None:
        pause = RETRY_FIRST_SECONDS
        while not self._stop.is_set():
            try:
                applied = self.step()
                if applied == 0:
                    state = self._state
                    self.store.wait_for_events(state.position if state else 0, 1.0, self._stop)
                elif applied < self.page_size:
                    # Busy but not behind: let a few more commits gather, so that every page
                    # (a transaction and a few statements per table) carries several of them.
                    # The first commit after a quiet spell is still applied at once.
                    self._stop.wait(self.linger)
                if self.last_error is not None:
                    self.last_error = None
                    self.on_recovery(self.name)
                pause = RETRY_FIRST_SECONDS
            except Exception as error:
                self.failures += 1
                self.last_error = f"{type(error).__name__}: {error}"
                self.on_failure(self.name, error)
                if isinstance(error, DATABASE_AWAY):
                    log.warning(
                        "projection %s can't reach the database (%s); retrying", self.name, error
                    )
                    self._stop.wait(min(pause, RETRY_AWAY_SECONDS))
                else:
                    log.exception(
                        "projection %s failed; retrying from its last position", self.name
                    )
                    self._stop.wait(pause)
                pause = min(pause * 2, RETRY_MAX_SECONDS)
