"""``workledger relay``: the relay in a process of its own, until SIGINT or SIGTERM, telling
where it stands every half minute and serving its metrics on ``WORKLEDGER_METRICS_PORT``."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from services.infrastructure.metrics import Metrics
from services.infrastructure.metrics_readings import DatabaseReadings
from services.infrastructure.metrics_server import serve_metrics_port
from services.infrastructure.postgres_pool import count_connections
from services.infrastructure.settings import Settings
from services.infrastructure.store import EventStore
from services.stream.relay import Relay

log = logging.getLogger("workledger.relay")

STATUS_LOG_SECONDS = 30.0


def run_relay(settings: Settings, store: EventStore, metrics: Metrics | None = None) -> int:
    """Publishes until SIGINT or SIGTERM; the exit status."""
    if not settings.kafka_bootstrap_servers:
        log.error("set WORKLEDGER_KAFKA_BOOTSTRAP_SERVERS to run the relay")
        return 2
    metrics = metrics or Metrics()
    count_connections(store.backend, metrics.connections)
    relay = Relay(
        store,
        settings,
        partitions=settings.kafka_topic_partitions,
        replication_factor=settings.kafka_topic_replication,
        metrics=metrics.relay,
    )
    metrics.add_readings(DatabaseReadings(store.last_position, relay=relay.status))
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[int, Any] = {
        signum: signal.signal(signum, request_stop) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    server = serve_metrics_port(metrics, settings)
    relay.start()
    try:
        while not stop.wait(STATUS_LOG_SECONDS):
            log.info(relay.status().describe())
    finally:
        relay.stop()
        if server is not None:
            server.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info(relay.status().describe())
    return 0
