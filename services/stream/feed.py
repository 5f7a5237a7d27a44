"""The log over HTTP: ``GET /v1/events`` pages through it, ``GET /v1/events/stream`` follows it.

Both answer CloudEvents, the same JSON the Kafka relay publishes, and both resume from a log
position: ``after=`` for a page, ``Last-Event-ID`` (each SSE ``id`` is an event's position) for a
stream. Positions follow commit order, so resuming after position P never misses an event that
commits later and never repeats one. One watcher thread per process follows the log for every open
stream, so an idle stream holds no thread.

uvicorn waits for open responses to finish before it shuts down, and an event stream never
finishes by itself: ``EventFeed.shutdown()`` ends them all, and ``FeedServer`` calls it as soon as
a shutdown begins.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Annotated
from uuid import UUID

import anyio
import anyio.to_thread
import uvicorn
from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field, StringConstraints

from contracts.cloudevents import CloudEvent
from contracts.events import EventContract, UnknownEventContract
from contracts.inputs import Id
from services.infrastructure.codec import RecordedEvent
from services.infrastructure.http import (
    CurrentPrincipal,
    ProblemError,
    Routes,
    include_routes,
    problem_responses,
)
from services.infrastructure.metrics import FeedMetrics
from services.infrastructure.parameters import DIGITS
from services.infrastructure.store import MAX_POSITION, EventStore
from services.stream.cloudevents import CloudEventMapper

log = logging.getLogger("workledger.feed")

MAX_PAGE = 1000
# A filtered page reads at most this many events before answering, so no request scans the
# whole log; the answer's ``next_cursor`` says where to go on.
MAX_SCAN = 10_000
STREAM_READ = 500
RECONNECT_MILLISECONDS = 2000


class EventPage(BaseModel):
    """A page of the log."""

    items: list[CloudEvent]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (or `after`) for the next page; null when this page "
        "reached the end of the log. A filtered page may hold fewer than `limit` items, even "
        "none, while more follow."
    )
    position: int = Field(
        description="The position this page read up to: pass it as `after` to poll for newer "
        "events once `next_cursor` is null."
    )


@dataclass(frozen=True)
class Selection:
    """Which events a request wants, and in which version of each type."""

    type_names: tuple[str, ...] = ()
    versions: dict[str, EventContract] = field(default_factory=dict)
    object_id: UUID | None = None

    def wants(self, event: RecordedEvent) -> bool:
        return self.object_id is None or event.stream_id == self.object_id


class EventFeed:
    """What the feed routes serve: the log, its CloudEvent mapping, and the open streams."""

    def __init__(
        self,
        store: EventStore,
        *,
        heartbeat_seconds: float = 15.0,
        poll_seconds: float = 1.0,
        metrics: FeedMetrics | None = None,
    ) -> None:
        self.store = store
        self._clients = (metrics or FeedMetrics.detached()).sse_clients
        self.mapper = CloudEventMapper(store.codec)
        self.heartbeat_seconds = heartbeat_seconds
        self._poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._generation = 0
        self._open = 0
        self._head = 0
        self._watcher: threading.Thread | None = None
        self._waiters: set[asyncio.Future[None]] = set()
        self._closed = False

    @property
    def open_streams(self) -> int:
        with self._lock:
            return self._open

    def shutdown(self) -> None:
        """Ends every open stream now; clients reconnect with ``Last-Event-ID`` elsewhere.

        Streams opened afterwards work as usual. Safe to call from a signal handler.
        """
        with self._lock:
            self._generation += 1
            self._wake_waiters()

    def close(self, timeout: float = 5.0) -> None:
        """Ends every stream and waits for the watcher to let go of the store; call it before
        closing the store's backend. No stream follows the log afterwards."""
        with self._lock:
            self._closed = True
            watcher = self._watcher
        self.shutdown()
        if watcher is not None:
            watcher.join(timeout)

    # Reading

    def selection(self, names: list[str], object_id: UUID | None) -> Selection:
        """The selection for ``type=`` values (versioned or not) and ``object_id=``."""
        versions: dict[str, EventContract] = {}
        for name in names:
            try:
                contract = self.mapper.catalog.resolve(name)
            except UnknownEventContract:
                raise _bad_parameter("type", f"no published event has the type {name!r}") from None
            type_name = self.mapper.type_name_of(contract)
            if versions.get(type_name, contract) != contract:
                raise _bad_parameter("type", f"ask for one version of {contract.family}")
            versions[type_name] = contract
        return Selection(tuple(versions), versions, object_id)

    def page(self, after: int, limit: int, selection: Selection) -> tuple[list[bytes], int, bool]:
        """Up to ``limit`` selected events after ``after``: their JSON, the position read up
        to, and whether more of the log follows.

        When no event of the selected types follows, the position moves to the head read before
        looking: positions follow commit order, so nothing can appear before it later."""
        items: list[bytes] = []
        position = after
        scanned = 0
        while len(items) < limit and scanned < MAX_SCAN:
            wanted = limit - len(items)
            size = wanted if selection.object_id is None else min(MAX_PAGE, MAX_SCAN - scanned)
            head = self.store.last_position()
            events = self.store.read(position, size, selection.type_names)
            if not events:
                return items, max(position, head), False
            scanned += len(events)
            for event in events:
                position = event.position
                if selection.wants(event):
                    items.append(self._json(event, selection))
                    if len(items) == limit:
                        break
        return items, position, position < self.store.last_position()

    def frames(self, after: int, selection: Selection) -> tuple[bytes, int]:
        """The SSE frames of the next selected events after ``after``, and the position read
        up to (which moves past unselected events too)."""
        head = self.store.last_position()
        events = self.store.read(after, STREAM_READ, selection.type_names)
        frames = [
            b"id: %d\ndata: %s\n\n" % (event.position, self._json(event, selection))
            for event in events
            if selection.wants(event)
        ]
        return b"".join(frames), events[-1].position if events else max(after, head)

    def _json(self, event: RecordedEvent, selection: Selection) -> bytes:
        return self.mapper.to_json(event, selection.versions.get(event.type))

    # Following the log

    async def stream(self, start: int, selection: Selection) -> AsyncIterator[bytes]:
        """Server-Sent Events from right after ``start``, until shutdown or disconnection."""
        with self._lock:
            if self._closed:
                return
            generation = self._generation
            self._open += 1
            self._clients.inc()
            if self._watcher is None:
                self._watcher = threading.Thread(
                    target=self._watch, name="workledger-feed", daemon=True
                )
                self._watcher.start()
        try:
            yield b"retry: %d\n\n" % RECONNECT_MILLISECONDS
            position = start
            last_sent = time.monotonic()
            while self._generation == generation:
                chunk, read_to = await anyio.to_thread.run_sync(self.frames, position, selection)
                if chunk:
                    yield chunk
                    last_sent = time.monotonic()
                if read_to != position:
                    position = read_to
                    continue
                quiet = time.monotonic() - last_sent
                if quiet >= self.heartbeat_seconds:
                    yield b": keep-alive\n\n"
                    last_sent = time.monotonic()
                    continue
                await self._wait_past(position, generation, self.heartbeat_seconds - quiet)
        finally:
            with self._lock:
                self._open -= 1
                self._clients.dec()

    async def _wait_past(self, position: int, generation: int, timeout: float) -> None:
        """Returns once the log passes ``position``, on shutdown, or after ``timeout``."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._head > position or self._generation != generation:
                return
            self._waiters.add(waiter)
        try:
            with anyio.move_on_after(timeout):
                await waiter
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def _watch(self) -> None:
        """Follows the log's head while any stream is open, waking the streams it passes."""
        head = 0
        while True:
            with self._lock:
                if self._open == 0 or self._closed:
                    self._watcher = None
                    return
            try:
                head = self.store.wait_for_events(head, self._poll_seconds)
            except Exception:
                # The streams still poll at their heartbeat; the watcher only makes them prompt.
                log.exception("the event feed can't read the log's head; retrying")
                time.sleep(self._poll_seconds)
                continue
            with self._lock:
                if head > self._head:
                    self._head = head
                    self._wake_waiters()

    def _wake_waiters(self) -> None:
        """Wakes every waiting stream; called with the lock held.

        A stream removes its waiter under the same lock before its event loop can close, so
        no waiter woken here belongs to a closed (or closing) loop.
        """
        for waiter in self._waiters:
            waiter.get_loop().call_soon_threadsafe(_resolve, waiter)
        self._waiters = set()


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _bad_parameter(name: str, message: str) -> ProblemError:
    return ProblemError(
        422,
        "validation_error",
        "the request is not valid",
        errors=[{"field": name, "message": message}],
    )


# A log position as text, as a cursor or ``Last-Event-ID`` carries it.
POSITION_PATTERN = r"^[0-9]{1,19}$"


def _position(name: str, value: str) -> int:
    # ASCII digits only: str.isdigit() also admits the likes of "²", which int() refuses.
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_POSITION:
        raise _bad_parameter(
            name, f"must be a log position: a whole number from 0 to {MAX_POSITION}"
        )
    return int(value)


# A published type, versioned or not: ``workledger.issue.commented`` or ``….commented.v1``.
EventTypeName = Annotated[
    str, StringConstraints(max_length=120, pattern=r"^workledger(\.[a-z_]+){2}(\.v[0-9]{1,4})?$")
]
TypeFilter = Annotated[
    list[EventTypeName] | None,
    Query(
        alias="type",
        description="Only events of this type (repeatable). An unversioned type "
        "(`workledger.issue.commented`) means its latest version; an earlier version "
        "(`workledger.issue.commented.v1`) is served in that version.",
    ),
]
ObjectFilter = Annotated[
    Id | None, Query(description="Only the events of this object (team, issue, ...).")
]


def include_event_feed(app: FastAPI) -> None:
    """Adds ``GET /v1/events`` and ``GET /v1/events/stream``, which serve from
    ``app.state.event_feed`` (an ``EventFeed``)."""
    router = Routes(prefix="/v1", tags=["events"])

    @router.get(
        "/events",
        response_model=EventPage,
        responses=problem_responses(),
    )
    def list_events(
        request: Request,
        _: CurrentPrincipal,
        after: Annotated[
            int,
            Query(ge=0, le=MAX_POSITION, description="Start right after this log position."),
            DIGITS,
        ] = 0,
        cursor: Annotated[
            str | None,
            Query(
                description="The `next_cursor` of the previous page.",
                json_schema_extra={"pattern": POSITION_PATTERN},
            ),
        ] = None,
        limit: Annotated[
            int, Query(ge=1, le=MAX_PAGE, description="At most this many."), DIGITS
        ] = 100,
        event_types: TypeFilter = None,
        object_id: ObjectFilter = None,
    ) -> Response:
        """The log as CloudEvents, oldest first, a page at a time."""
        feed: EventFeed = request.app.state.event_feed
        start = _position("cursor", cursor) if cursor is not None else after
        selection = feed.selection(event_types or [], object_id)
        items, position, more = feed.page(start, limit, selection)
        next_cursor = b'"%d"' % position if more else b"null"
        body = b'{"items":[%s],"next_cursor":%s,"position":%d}' % (
            b",".join(items),
            next_cursor,
            position,
        )
        return Response(body, media_type="application/json")

    @router.get(
        "/events/stream",
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {"text/event-stream": {}},
                "description": "Server-Sent Events: each `id` is a log position, each `data` a "
                "CloudEvent; `: keep-alive` comments while the log is quiet.",
            },
            **problem_responses(),
        },
    )
    async def stream_events(
        request: Request,
        _: CurrentPrincipal,
        after: Annotated[
            int | None,
            Query(
                ge=0,
                le=MAX_POSITION,
                description="Start right after this position; default: live from now.",
            ),
            DIGITS,
        ] = None,
        last_event_id: Annotated[
            str | None,
            Header(
                description="Resume right after this position (sent by EventSource).",
                json_schema_extra={"pattern": POSITION_PATTERN},
            ),
        ] = None,
        event_types: TypeFilter = None,
        object_id: ObjectFilter = None,
    ) -> StreamingResponse:
        """The log as Server-Sent Events, following it live."""
        feed: EventFeed = request.app.state.event_feed
        selection = feed.selection(event_types or [], object_id)
        if last_event_id is not None:
            start = _position("Last-Event-ID", last_event_id.strip())
        elif after is not None:
            start = after
        else:
            start = await anyio.to_thread.run_sync(feed.store.last_position)
        return StreamingResponse(
            feed.stream(start, selection),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    include_routes(app, router)


class FeedServer(uvicorn.Server):
    """A uvicorn server that ends the event streams as soon as it begins to shut down.

    uvicorn lets open responses finish before it stops, and an event stream never finishes on
    its own; ending the streams lets the shutdown go on, and their clients reconnect elsewhere.
    """

    def __init__(self, config: uvicorn.Config, feed: EventFeed) -> None:
        super().__init__(config)
        self.feed = feed

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.feed.shutdown()
        super().handle_exit(sig, frame)
