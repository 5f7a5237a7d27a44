"""``GET /v1/events/stream`` over a real uvicorn server: live, resumable, and stoppable."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
import uvicorn

from services.app import Runtime
from services.stream.feed import EventFeed, FeedServer
from tests.api.helpers import assert_problem
from tests.conftest import bearer, wait_until
from tests.stream.conftest import assert_matches_its_schema, feed_app, free_port
from tests.stream.workload import Organisation, record_changes, record_every_kind_of_event

HEARTBEAT_SECONDS = 0.3
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@dataclass
class Served:
    server: FeedServer
    thread: threading.Thread
    feed: EventFeed
    url: str
    headers: dict[str, str]


@pytest.fixture
def served(runtime: Runtime) -> Iterator[Served]:
    feed = EventFeed(runtime.store, heartbeat_seconds=HEARTBEAT_SECONDS)
    port = free_port()
    config = uvicorn.Config(
        feed_app(runtime, feed), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = FeedServer(config, feed)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10, "uvicorn is serving")
    headers = bearer(runtime.tokens.create("viewer"))
    yield Served(server, thread, feed, f"http://127.0.0.1:{port}/v1/events/stream", headers)
    server.handle_exit(signal.SIGTERM, None)
    thread.join(10)
    feed.close()
    assert not thread.is_alive(), "uvicorn did not stop"


@dataclass
class Frame:
    """One Server-Sent Events frame: an event, a comment, or a reconnection delay."""

    fields: dict[str, str]
    comments: list[str]

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.fields["data"])
        return event


class EventStream:
    """A minimal SSE reader that keeps comments, which EventSource would hide."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines

    def next_frame(self) -> Frame | None:
        """The next frame, or ``None`` when the server ended the stream."""
        fields: dict[str, str] = {}
        comments: list[str] = []
        for line in self._lines:
            if line == "":
                if fields or comments:
                    return Frame(fields, comments)
                continue
            if line.startswith(":"):
                comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        return None

    def events(self, count: int, timeout: float = 20) -> list[Frame]:
        """The next ``count`` event frames, skipping comments and the reconnection delay."""
        frames: list[Frame] = []
        deadline = time.monotonic() + timeout
        while len(frames) < count:
            assert time.monotonic() < deadline, f"only {len(frames)} of {count} events came"
            frame = self.next_frame()
            assert frame is not None, f"the stream ended after {len(frames)} of {count} events"
            if "data" in frame.fields:
                frames.append(frame)
        return frames


@contextmanager
def connect(
    served: Served, headers: dict[str, str] | None = None, **params: Any
) -> Iterator[EventStream]:
    with (
        httpx2.Client(timeout=httpx2.Timeout(10.0)) as client,
        client.stream(
            "GET", served.url, params=params, headers={**served.headers, **(headers or {})}
        ) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventStream(response.iter_lines())


def test_a_stream_starts_live_and_each_id_is_the_event_position(
    runtime: Runtime, served: Served
) -> None:
    organisation = record_every_kind_of_event(runtime)
    head = runtime.store.last_position()
    with connect(served) as stream:
        first = stream.next_frame()
        assert first is not None
        assert first.fields == {"retry": "2000"}
        record_changes(runtime, organisation.issue_ids, 3)
        frames = stream.events(3)
    assert [int(frame.fields["id"]) for frame in frames] == [head + 1, head + 2, head + 3]
    for frame in frames:
        assert int(frame.event["sequence"]) == int(frame.fields["id"])
        assert_matches_its_schema(frame.event)


def test_a_reconnect_with_last_event_id_misses_and_repeats_nothing(
    runtime: Runtime, served: Served
) -> None:
    organisation = record_every_kind_of_event(runtime)
    done_writing = threading.Event()

    def keep_writing() -> None:
        record_changes(runtime, organisation.issue_ids, 120)
        done_writing.set()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    received: list[int] = []
    try:
        with connect(served, after=0) as stream:
            received += [int(frame.fields["id"]) for frame in stream.events(50)]
        # EventSource reconnects to the same URL and adds the header, which wins over after=.
        with connect(served, {"Last-Event-ID": str(received[-1])}, after=0) as stream:
            received += [int(frame.fields["id"]) for frame in stream.events(60)]
        done_writing.wait(30)
        head = runtime.store.last_position()
        with connect(served, {"Last-Event-ID": str(received[-1])}) as stream:
            received += [int(frame.fields["id"]) for frame in stream.events(head - received[-1])]
    finally:
        writer.join()
    assert received == list(range(1, head + 1))


@sqlite_only
def test_a_quiet_stream_sends_heartbeats(served: Served) -> None:
    with connect(served) as stream:
        frames = [stream.next_frame() for _ in range(3)]
    assert [frame.comments if frame else None for frame in frames[1:]] == [
        ["keep-alive"],
        ["keep-alive"],
    ]


@sqlite_only
def test_a_client_that_disconnects_ends_its_stream(served: Served) -> None:
    with connect(served) as stream:
        assert stream.next_frame() is not None
        assert served.feed.open_streams == 1
    wait_until(lambda: served.feed.open_streams == 0, 5, "the server ends the stream")


@sqlite_only
def test_a_server_shutting_down_ends_its_streams_and_stops(served: Served) -> None:
    with connect(served) as stream:
        assert stream.next_frame() is not None
        served.server.handle_exit(signal.SIGTERM, None)
        deadline = time.monotonic() + 5
        while stream.next_frame() is not None:
            assert time.monotonic() < deadline, "the stream goes on after shutdown began"
    served.thread.join(10)
    assert not served.thread.is_alive()
    assert served.feed.open_streams == 0


@sqlite_only
def test_a_stream_can_follow_one_object_in_an_earlier_version(
    runtime: Runtime, served: Served
) -> None:
    organisation: Organisation = record_every_kind_of_event(runtime)
    incident = organisation.issue_ids[1]
    record_changes(runtime, (incident, organisation.issue_ids[0]), 4)
    with connect(
        served, after=0, type="workledger.issue.commented.v1", object_id=str(incident)
    ) as stream:
        frames = stream.events(3)
    assert {frame.event["type"] for frame in frames} == {"workledger.issue.commented.v1"}
    assert {frame.event["subject"] for frame in frames} == {f"issue/{incident}"}
    assert [int(f.fields["id"]) for f in frames] == [
        e.position
        for e in runtime.store.read(0, 1000)
        if e.stream_id == incident and e.type == "IssueCommented"
    ]


@sqlite_only
def test_a_filtered_stream_waits_quietly_past_events_of_other_types(
    runtime: Runtime, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    organisation = record_every_kind_of_event(runtime)
    reads = 0
    read = runtime.store.read

    def counted_read(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return read(*args, **kwargs)

    monkeypatch.setattr(runtime.store, "read", counted_read)
    with connect(served, after=0, type="workledger.issue.assigned") as stream:
        stream.events(1)
        record_changes(runtime, organisation.issue_ids, 5)
        time.sleep(0.2)
        reads_before = reads
        time.sleep(1.0)
    # A read per heartbeat or so; a stream that span on the other events would read thousands.
    assert reads - reads_before <= 2 * (1.0 / HEARTBEAT_SECONDS) + 2


@sqlite_only
def test_a_bad_last_event_id_or_a_missing_token_is_a_problem(served: Served) -> None:
    with httpx2.Client(timeout=5) as client:
        bad = client.get(served.url, headers={**served.headers, "Last-Event-ID": "latest"})
        beyond = client.get(served.url, headers={**served.headers, "Last-Event-ID": str(2**63)})
        anonymous = client.get(served.url)
    assert_problem(bad, 422, "validation_error", field="Last-Event-ID")
    assert_problem(beyond, 422, "validation_error", field="Last-Event-ID")
    assert_problem(anonymous, 401, "unauthorized")
