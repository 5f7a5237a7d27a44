"""What must hold after faults, read from the database, the API and the broker: the log as it is,
every view equal to one rebuilt from zero, the history's hash chain, and what a consumer of the
topic saw."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from kafka.consumer.fetcher import ConsumerRecord

from services.app import make_codec
from services.infrastructure.codec import RecordedEvent
from services.infrastructure.postgres import PostgresBackend
from services.infrastructure.store import EventStore
from services.projections.readmodel import Snapshot, micros
from services.projections.runner import rebuild
from services.projections.views import all_projections
from services.stream.relay_positions import RelayPositions, relay_name
from tests.projections.test_view_properties import _dump, _generation
from tests.stream.conftest import read_topic

PAGE = 5000


def read_log(database: str) -> list[RecordedEvent]:
    """Every event of the log, in position order."""
    backend = PostgresBackend.from_url(database, pool_size=1, max_overflow=1)
    try:
        store = EventStore(backend, make_codec())
        events: list[RecordedEvent] = []
        while page := store.read(events[-1].position if events else 0, PAGE):
            events.extend(page)
        return events
    finally:
        backend.close()


def caught_up(api_url: str, position: int, *, relay: bool = False, timeout: float = 60) -> None:
    """Waits until every view (and the relay) has applied the log up to ``position``, as the
    API's ``/readyz`` reports it from the database."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            body = httpx.get(f"{api_url}/readyz", timeout=5).json()
        except (httpx.TransportError, ValueError):
            time.sleep(0.1)
            continue
        views = body.get("views", {})
        behind = [name for name, view in views.items() if view["position"] < position]
        if relay:
            behind += ["relay"] if body.get("relay", {}).get("position", 0) < position else []
        if views and not behind:
            return
        time.sleep(0.1)
    raise AssertionError(f"not caught up to {position} within {timeout} s: {body}")


def relay_position(database: str, topic: str) -> int:
    backend = PostgresBackend.from_url(database, pool_size=1, max_overflow=1)
    try:
        return RelayPositions(backend).load(relay_name(topic))
    finally:
        backend.close()


def assert_views_equal_a_rebuild(database: str, moments: Sequence[datetime] = ()) -> int:
    """Each view as its workers left it (now, and as of each of ``moments``) equals the same
    view rebuilt from the start of the log; how many views were compared. The views' workers
    must be stopped, so that none moves meanwhile."""
    backend = PostgresBackend.from_url(database, pool_size=2, max_overflow=2)
    try:
        store = EventStore(backend, make_codec())
        compared = 0
        for projection in all_projections():
            live = _generation(backend, projection)
            before = [_dump(backend, projection, Snapshot(live), full=True)]
            before += [
                _dump(backend, projection, Snapshot(live, micros(m)), full=False) for m in moments
            ]
            rebuild(store, backend, projection, page_size=1000)
            built = _generation(backend, projection)
            assert built != live
            after = [_dump(backend, projection, Snapshot(built), full=True)]
            after += [
                _dump(backend, projection, Snapshot(built, micros(m)), full=False) for m in moments
            ]
            assert after[0] == before[0], f"the {projection.name} view differs from a rebuild"
            for moment, was, rebuilt in zip(moments, before[1:], after[1:], strict=True):
                assert was == rebuilt, f"the {projection.name} view as of {moment} differs"
            compared += 1
        return compared
    finally:
        backend.close()


def assert_chain_verifies(
    api_url: str, headers: dict[str, str], log: Sequence[RecordedEvent]
) -> int:
    """The history's hash chain verifies from its first entry to the view's last, and has an
    entry for every event of ``log`` (positions have gaps, where a transaction that took one
    was rolled back); how many entries it holds."""
    answer = httpx.get(
        f"{api_url}/v1/history/verify",
        params={"min_position": log[-1].position},
        headers=headers,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["valid"] is True, verdict
    entries: int = verdict["entries"]
    assert entries == len(log), f"{len(log)} events, {entries} entries in the history"
    return entries


@dataclass(frozen=True)
class Consumed:
    """What a consumer reading the topic from its start saw."""

    records: int
    events: int
    duplicates: int

    def describe(self) -> str:
        return (
            f"the consumer read {self.records} records: {self.events} events, "
            f"{self.duplicates} sent again (deduplicated on the CloudEvent id)"
        )


def _event(record: ConsumerRecord) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(record.value)
    return event


def assert_consumer_saw(
    bootstrap_servers: str, topic: str, log: Sequence[RecordedEvent], timeout: float = 60
) -> Consumed:
    """A consumer reading the topic from its start sees every event of ``log``: after dropping
    records whose CloudEvent ``id`` it has seen, each object's events in log order."""
    wanted = {str(event.metadata.event_id) for event in log}

    def complete(records: list[ConsumerRecord]) -> bool:
        return wanted <= {_event(record)["id"] for record in records}

    records = read_topic(bootstrap_servers, topic, complete, timeout)
    ordered = sorted(records, key=lambda r: (r.partition, r.offset))
    seen: set[str] = set()
    handled: dict[str, list[int]] = defaultdict(list)
    partitions: dict[bytes, set[int]] = defaultdict(set)
    for record in ordered:
        event = _event(record)
        partitions[record.key].add(record.partition)
        if event["id"] in seen:
            continue
        seen.add(event["id"])
        handled[record.key.decode()].append(int(event["sequence"]))
    expected: dict[str, list[int]] = defaultdict(list)
    for logged in log:
        expected[str(logged.stream_id)].append(logged.position)
    spread = [key for key, found in partitions.items() if len(found) > 1]
    assert not spread, f"objects spread over partitions: {spread[:5]}"
    for key, positions in expected.items():
        got = [p for p in handled[key] if p <= log[-1].position]
        assert got == positions, f"object {key}: consumed {got}, logged {positions}"
    ids = Counter(_event(record)["id"] for record in records)
    return Consumed(len(records), len(ids), sum(n - 1 for n in ids.values()))
