"""The consumer of docs/events.md, run against the broker, handles every event once in order."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pytest

from services.app import Runtime
from services.infrastructure.codec import RecordedEvent
from tests.conftest import wait_until
from tests.stream.conftest import TansuBroker, make_relay, wait_until_published
from tests.stream.consumer_example import consume
from tests.stream.workload import record_changes, record_every_kind_of_event

pytestmark = pytest.mark.kafka


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_the_consumer_example_handles_each_event_once_in_order_despite_redelivery(
    runtime: Runtime, broker: TansuBroker, topic: str
) -> None:
    organisation = record_every_kind_of_event(runtime)
    record_changes(runtime, organisation.issue_ids, 30)
    head = runtime.store.last_position()

    acknowledged: list[int] = []

    def die_once(events: Sequence[RecordedEvent]) -> None:
        acknowledged.append(events[-1].position)
        if len(acknowledged) == 2:
            raise SystemExit

    # The first relay dies after its second batch was acknowledged but not saved, so the topic
    # holds that batch twice: the consumer must see it once.
    crashing = make_relay(runtime, broker, topic, batch_bytes=15_000, on_acknowledged=die_once)
    crashing.start()
    wait_until(lambda: not crashing.running, 30, "the relay died")
    crashing.stop()
    relay = make_relay(runtime, broker, topic, batch_bytes=15_000)
    relay.start()
    try:
        wait_until_published(relay, head)
    finally:
        relay.stop()

    handled: list[dict[str, Any]] = []
    seen: set[str] = set()
    deadline = time.monotonic() + 60
    consumer = threading.Thread(
        target=consume,
        args=(handled.append, seen, lambda: len(handled) < head and time.monotonic() < deadline),
        kwargs={
            "bootstrap_servers": broker.bootstrap_servers,
            "topic": topic,
            "group_id": "example",
            "session_timeout_ms": 6000,
            "heartbeat_interval_ms": 1000,
        },
    )
    consumer.start()
    consumer.join(90)

    assert len(handled) == head, f"handled {len(handled)} of {head} events"
    assert sorted(int(event["sequence"]) for event in handled) == list(range(1, head + 1))
    order: dict[str, list[int]] = defaultdict(list)
    for event in handled:
        order[event["subject"]].append(int(event["sequence"]))
    assert all(positions == sorted(positions) for positions in order.values())
    assert len(order) == len({event.stream_id for event in runtime.store.read(0, head)})
