"""What the stream's parts tell an operator: open event streams and the relay's sends and
failures in the metrics, and a relay that falls behind in ``/readyz``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.app import Runtime, build_runtime, create_app
from services.infrastructure.metrics import Metrics
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from services.stream.feed import EventFeed
from services.stream.relay import Relay
from tests.api.helpers import create_team
from tests.conftest import bearer, wait_until
from tests.integration.scraped import Scrape
from tests.stream.conftest import (
    TEST_BACKOFF,
    TEST_DELIVERY_TIMEOUT_MS,
    TansuBroker,
    make_relay,
    wait_until_published,
)
from tests.stream.workload import record_changes, record_every_kind_of_event

RELAY_BOUND_SECONDS = 0.3


def scraped(metrics: Metrics) -> Scrape:
    body, _ = metrics.exposition()
    return Scrape.of(body.decode())


def test_an_open_event_stream_counts_as_a_client_until_it_ends(runtime: Runtime) -> None:
    metrics = Metrics()
    feed = EventFeed(runtime.store, metrics=metrics.feed)

    async def follow() -> tuple[float, float]:
        stream = feed.stream(0, feed.selection([], None))
        assert isinstance(stream, AsyncGenerator)
        await anext(stream)
        open_clients = scraped(metrics).value("workledger_sse_clients")
        await stream.aclose()
        return open_clients, scraped(metrics).value("workledger_sse_clients")

    try:
        assert asyncio.run(follow()) == (1, 0)
    finally:
        feed.close()


@pytest.mark.kafka
def test_the_relay_times_its_sends_and_counts_its_failures(
    runtime: Runtime, broker: TansuBroker, topic: str
) -> None:
    metrics = Metrics()
    organisation = record_every_kind_of_event(runtime)
    relay = make_relay(runtime, broker, topic, metrics=metrics.relay)
    relay.start()
    try:
        wait_until_published(relay, runtime.store.last_position())
        sent = scraped(metrics).value("workledger_relay_send_duration_seconds_count")
        broker.stop()
        record_changes(runtime, organisation.issue_ids, 3)
        wait_until(
            lambda: scraped(metrics).value("workledger_relay_failures_total") >= 1,
            30,
            "the relay counts its failure",
        )
        broker.start()
        wait_until_published(relay, runtime.store.last_position())
    finally:
        relay.stop()

    assert sent >= 1
    assert scraped(metrics).value("workledger_relay_send_duration_seconds_count") > sent


@pytest.fixture
def relayed_runtime(
    backend: Backend, broker: TansuBroker, topic: str, tmp_path: Path
) -> Iterator[Runtime]:
    """A runtime with its views' workers, configured for a relay it does not run."""
    settings = Settings(
        data_dir=tmp_path,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        kafka_topic=topic,
        ready_max_relay_lag_seconds=RELAY_BOUND_SECONDS,
    )
    built = build_runtime(settings, backend=backend)
    built.start()
    yield built
    built.stop()


def readiness(client: TestClient) -> tuple[int, dict[str, Any]]:
    answer = client.get("/readyz")
    body: dict[str, Any] = answer.json()
    return answer.status_code, body


@pytest.mark.kafka
def test_a_relay_that_falls_behind_makes_the_service_unready_until_it_publishes(
    relayed_runtime: Runtime, topic: str
) -> None:
    runtime = relayed_runtime
    with TestClient(create_app(runtime)) as client:
        create_team(client, bearer(runtime.tokens.create("admin")))
        position = runtime.store.last_position()
        wait_until(lambda: readiness(client)[0] == 503, what="/readyz turns unready")

        status, body = readiness(client)
        assert status == 503
        assert [reason.split(" is ")[0] for reason in body["reasons"]] == [f"relay kafka:{topic}"]
        assert "behind the log (bound 0.3 s)" in body["reasons"][0]
        assert body["relay"]["position"] == 0
        behind = Scrape.of(client.get("/metrics").text)
        assert behind.value("workledger_relay_position") == 0
        assert behind.value("workledger_relay_lag_events") == position

        relay = Relay(
            runtime.store,
            runtime.settings,
            partitions=3,
            delivery_timeout_ms=TEST_DELIVERY_TIMEOUT_MS,
            backoff_seconds=TEST_BACKOFF,
        )
        relay.start()
        try:
            wait_until(lambda: readiness(client)[0] == 200, 30, "/readyz is ready again")
            caught_up = Scrape.of(client.get("/metrics").text)
        finally:
            relay.stop()

    assert caught_up.value("workledger_relay_position") == position
    assert caught_up.value("workledger_relay_lag_events") == 0
    assert caught_up.value("workledger_relay_lag_seconds") == 0
