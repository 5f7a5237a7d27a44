"""The Kafka relay against a real broker: every event once per key, in order, across failures."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest
from kafka import KafkaAdminClient
from kafka.consumer.fetcher import ConsumerRecord
from kafka.partitioner.default import murmur2

from contracts.cloudevents import STRUCTURED_CONTENT_TYPE
from services.app import Runtime
from services.infrastructure.codec import RecordedEvent
from services.stream.relay import Relay
from services.stream.relay_positions import relay_status
from tests.conftest import wait_until
from tests.stream.conftest import (
    TansuBroker,
    assert_matches_its_schema,
    cloudevent,
    make_relay,
    position_of,
    positions_up_to,
    read_topic,
    relay_settings,
    wait_until_published,
)
from tests.stream.workload import Organisation, record_changes, record_every_kind_of_event

pytestmark = pytest.mark.kafka


def by_key(records: Sequence[ConsumerRecord]) -> dict[bytes, list[ConsumerRecord]]:
    keyed: dict[bytes, list[ConsumerRecord]] = defaultdict(list)
    for record in records:
        keyed[record.key].append(record)
    return keyed


def first_occurrences(records: Sequence[ConsumerRecord]) -> list[dict[str, Any]]:
    """What a consumer that deduplicates on ``id`` handles, in the order it handles it."""
    seen: set[str] = set()
    handled = []
    for record in records:
        event = cloudevent(record)
        if event["id"] not in seen:
            seen.add(event["id"])
            handled.append(event)
    return handled


def in_partition_order(records: Sequence[ConsumerRecord]) -> list[ConsumerRecord]:
    return sorted(records, key=lambda r: (r.partition, r.offset))


def assert_each_object_in_log_order(
    records: Sequence[ConsumerRecord], log: list[RecordedEvent]
) -> None:
    """After dedupe on ``id``, each key's events are exactly its object's events, in log order."""
    expected: dict[str, list[int]] = defaultdict(list)
    for event in log:
        expected[str(event.stream_id)].append(event.position)
    for key, keyed in by_key(in_partition_order(records)).items():
        assert len({r.partition for r in keyed}) == 1, f"{key!r} spans partitions"
        handled = [position_of(event) for event in first_occurrences(keyed)]
        assert handled == expected[key.decode()], f"{key!r} is out of order or incomplete"
    assert {key.decode() for key in by_key(records)} == set(expected)


def test_every_event_arrives_once_keyed_by_its_object_in_log_order(
    runtime: Runtime, broker: TansuBroker, topic: str
) -> None:
    organisation = record_every_kind_of_event(runtime)
    relay = make_relay(runtime, broker, topic)
    relay.start()
    try:
        # Events committed while the relay runs are followed live.
        record_changes(runtime, organisation.issue_ids, 40)
        head = runtime.store.last_position()
        wait_until_published(relay, head)
    finally:
        relay.stop()

    records = read_topic(broker.bootstrap_servers, topic, positions_up_to(head))
    log = runtime.store.read(0, head)
    assert sorted(position_of(cloudevent(r)) for r in records) == list(range(1, head + 1))
    assert_each_object_in_log_order(records, log)
    for record, event in zip(
        sorted(records, key=lambda r: position_of(cloudevent(r))), log, strict=True
    ):
        published = cloudevent(record)
        assert published["id"] == str(event.event_id)
        assert record.key == str(event.stream_id).encode()
        assert record.partition == (murmur2(record.key) & 0x7FFFFFFF) % 3, (
            "as Java clients place it"
        )
        assert dict(record.headers) == {"content-type": STRUCTURED_CONTENT_TYPE.encode()}
        assert_matches_its_schema(published)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_relay_killed_between_acknowledgement_and_saving_resends_only_that_batch(
    runtime: Runtime, broker: TansuBroker, topic: str
) -> None:
    organisation = record_every_kind_of_event(runtime)
    record_changes(runtime, organisation.issue_ids, 60)
    head = runtime.store.last_position()
    batches: list[list[int]] = []

    def die_after_third_batch(events: Sequence[RecordedEvent]) -> None:
        batches.append([event.position for event in events])
        if len(batches) == 3:
            # As if the process died here: acknowledged by the broker, position not saved.
            raise SystemExit

    crashing = make_relay(
        runtime, broker, topic, batch_bytes=20_000, on_acknowledged=die_after_third_batch
    )
    crashing.start()
    wait_until(lambda: not crashing.running, 30, "the relay died")
    crashing.stop()
    unsaved = batches[2]
    assert crashing.status().position == batches[1][-1]

    resumed = make_relay(runtime, broker, topic, batch_bytes=20_000)
    resumed.start()
    try:
        wait_until_published(resumed, head)
    finally:
        resumed.stop()

    records = read_topic(broker.bootstrap_servers, topic, positions_up_to(head))
    counts: dict[int, int] = defaultdict(int)
    for record in records:
        counts[position_of(cloudevent(record))] += 1
    assert sorted(counts) == list(range(1, head + 1))
    assert sorted(p for p, n in counts.items() if n > 1) == unsaved
    assert all(counts[p] == 2 for p in unsaved)
    assert_each_object_in_log_order(records, runtime.store.read(0, head))


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_broker_outage_delays_events_but_loses_or_reorders_none(
    runtime: Runtime, broker: TansuBroker, topic: str
) -> None:
    organisation = record_every_kind_of_event(runtime)
    relay = make_relay(runtime, broker, topic)
    relay.start()
    stop_writing = threading.Event()

    def keep_writing() -> None:
        while not stop_writing.wait(0.02):
            record_changes(runtime, organisation.issue_ids, 1)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        acknowledged = runtime.store.last_position()
        wait_until_published(relay, acknowledged)
        before = read_topic(broker.bootstrap_servers, topic, positions_up_to(acknowledged))

        broker.stop()
        wait_until(
            lambda: relay.status().broker_reachable is False, 30, "the relay sees the outage"
        )
        stalled = relay.status()
        assert stalled.last_error is not None
        wait_until(lambda: runtime.store.last_position() > stalled.head + 20, 30, "commands go on")
        assert relay.status().position == stalled.position
        assert relay.status().lag_events > 20

        broker.start()
        wait_until(lambda: relay.status().broker_reachable is True, 30, "the relay reconnects")
    finally:
        stop_writing.set()
        writer.join()
    try:
        head = runtime.store.last_position()
        wait_until_published(relay, head)
    finally:
        relay.stop()

    # The broker came back without the records it had acknowledged (it keeps them in memory):
    # the relay publishes the whole log again, so the topic holds all of it once more.
    after = read_topic(broker.bootstrap_servers, topic, lambda rs: _has_positions(rs, 1, head))
    assert {position_of(cloudevent(r)) for r in before} >= set(range(1, acknowledged + 1))
    resent = sorted({position_of(cloudevent(r)) for r in after})
    assert resent == list(range(1, head + 1))
    assert_each_object_in_log_order(after, runtime.store.read(0, head))


def _has_positions(records: Sequence[ConsumerRecord], first: int, last: int) -> bool:
    return {position_of(cloudevent(r)) for r in records} >= set(range(first, last + 1))


def _published_once_each(broker: TansuBroker, topic: str, head: int) -> list[ConsumerRecord]:
    records = read_topic(broker.bootstrap_servers, topic, positions_up_to(head))
    positions = sorted(position_of(cloudevent(record)) for record in records)
    assert positions == list(range(1, head + 1)), "an event was published twice or never"
    return records


def test_of_two_relays_of_one_topic_one_publishes_and_the_other_takes_over_when_it_stops(
    runtime: Runtime, broker: TansuBroker, topic: str
) -> None:
    organisation = record_every_kind_of_event(runtime)
    first = make_relay(runtime, broker, topic, standby_poll_seconds=0.1)
    second = make_relay(runtime, broker, topic, standby_poll_seconds=0.1)
    try:
        first.start()
        wait_until_published(first, runtime.store.last_position())
        second.start()
        wait_until(lambda: second.status().standby, 10, "the second relay stands by")
        assert "standing by" in second.status().describe()
        assert not first.status().standby

        record_changes(runtime, organisation.issue_ids, 30)
        wait_until_published(first, runtime.store.last_position())
        assert second.status().standby

        first.stop()
        record_changes(runtime, organisation.issue_ids, 30)
        head = runtime.store.last_position()
        wait_until_published(second, head)
        assert not second.status().standby
    finally:
        for relay in (first, second):
            relay.stop()

    records = _published_once_each(broker, topic, head)
    assert_each_object_in_log_order(records, runtime.store.read(0, head))


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_relay_whose_lease_connection_is_terminated_stops_publishing_before_its_next_batch(
    runtime: Runtime, broker: TansuBroker, topic: str, postgres_url: str
) -> None:
    organisation = record_every_kind_of_event(runtime)
    first = make_relay(runtime, broker, topic, standby_poll_seconds=0.1)
    second = make_relay(runtime, broker, topic, standby_poll_seconds=0.1)
    relays = (first, second)
    try:
        first.start()
        wait_until_published(first, runtime.store.last_position())
        second.start()
        wait_until(lambda: second.status().standby, 10, "the second relay stands by")
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
            )

        record_changes(runtime, organisation.issue_ids, 30)
        wait_until(
            lambda: "LeaseLost" in (first.status().last_error or ""), 10, "the loss is noticed"
        )
        head = runtime.store.last_position()
        wait_until_published(first, head)
        # Whichever relay took the lease again publishes, and only one of them does: the other
        # stands by once it is through its pause after the failure.
        wait_until(
            lambda: sorted(relay.status().standby for relay in relays) == [False, True],
            10,
            "one relay publishes and the other stands by",
        )
    finally:
        for relay in relays:
            relay.stop()

    records = _published_once_each(broker, topic, head)
    assert_each_object_in_log_order(records, runtime.store.read(0, head))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_relay_started_before_its_broker_waits_then_creates_the_topic(
    runtime: Runtime, broker: TansuBroker, topic: str
) -> None:
    organisation: Organisation = record_every_kind_of_event(runtime)
    head = runtime.store.last_position()
    broker.stop()
    relay = make_relay(runtime, broker, topic, partitions=4)
    relay.start()
    try:
        wait_until(
            lambda: relay.status().last_error is not None, 30, "the relay reports the failure"
        )
        waiting = relay.status()
        assert waiting.broker_reachable is False
        assert waiting.position == 0
        assert waiting.lag_events == head
        assert waiting.running
        broker.start()
        wait_until_published(relay, head)
        assert relay.status().broker_reachable is True
    finally:
        relay.stop()
    assert organisation.issue_ids

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    try:
        (described,) = admin.describe_topics([topic])
    finally:
        admin.close()
    assert len(described["partitions"]) == 4
    records = read_topic(broker.bootstrap_servers, topic, positions_up_to(head))
    assert sorted(position_of(cloudevent(r)) for r in records) == list(range(1, head + 1))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_status_reports_position_and_lag_from_the_database(
    runtime: Runtime, broker: TansuBroker, topic: str
) -> None:
    record_every_kind_of_event(runtime)
    head = runtime.store.last_position()
    settings = relay_settings(runtime, broker, topic)
    never_run = relay_status(runtime.store, settings, runtime.clock)
    assert (never_run.position, never_run.lag_events, never_run.broker_reachable) == (0, head, None)

    relay = make_relay(runtime, broker, topic)
    relay.start()
    try:
        wait_until_published(relay, head)
    finally:
        relay.stop()
    caught_up = relay_status(runtime.store, settings, runtime.clock)
    assert (caught_up.position, caught_up.lag_events, caught_up.lag_seconds) == (head, 0, 0.0)
    assert caught_up.broker_reachable is True
    assert not caught_up.running
    assert f"position {head} of {head}" in caught_up.describe()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_relay_needs_a_broker_list(runtime: Runtime) -> None:
    with pytest.raises(ValueError, match="KAFKA_BOOTSTRAP_SERVERS"):
        Relay(runtime.store, runtime.settings)
