"""What workledger measures, in Prometheus' terms: every metric it exports is named here.

Each process's runtime owns one ``Metrics``: a ``CollectorRegistry`` of its own (two apps in one
test process count apart) holding the instruments the parts update as they work, one group per
part, and the readings taken from the database when scraped (``metrics_readings``).

Several API processes (``workledger api --workers N``) count together through prometheus-client's
multiprocess mode: the parent prepares a directory (``multiprocess_directory``), each process
writes its instruments' values to files there, and whichever process answers a scrape adds them
all up.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

# prometheus-client's own variable: it reads it when imported, so a process learns it from its
# parent, before anything is measured.
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# From a millisecond (a query, a command under no load) to ten seconds (a long import's answer).
SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Commands per group commit: one when idle, up to ``WORKLEDGER_COMMIT_MAX_BATCH`` under load.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


@dataclass(frozen=True)
class HttpMetrics:
    """Requests as the HTTP edge sees them (``services.infrastructure.http_observer``)."""

    commands: Counter
    request_seconds: Histogram

    @classmethod
    def on(cls, registry: CollectorRegistry) -> HttpMetrics:
        return cls(
            commands=Counter(
                "workledger_commands",
                "Commands answered, by command (its route's name) and outcome: accepted (2xx), "
                "rejected (other 4xx), conflict (409, 412), error (5xx).",
                ["command", "outcome"],
                registry=registry,
            ),
            request_seconds=Histogram(
                "workledger_http_request_duration_seconds",
                "Time from a request's arrival to its answer's status line, by method, route "
                "template (unmatched: none answered) and status class.",
                ["method", "route", "status_class"],
                buckets=SECONDS_BUCKETS,
                registry=registry,
            ),
        )


@dataclass(frozen=True)
class CommitterMetrics:
    """The group committer's batches (``services.infrastructure.committer``)."""

    batch_size: Histogram
    commit_seconds: Histogram

    @classmethod
    def on(cls, registry: CollectorRegistry) -> CommitterMetrics:
        return cls(
            batch_size=Histogram(
                "workledger_committer_batch_size",
                "Commands written by one group commit.",
                buckets=BATCH_BUCKETS,
                registry=registry,
            ),
            commit_seconds=Histogram(
                "workledger_committer_commit_duration_seconds",
                "Time one group commit took, from its first statement to its answer.",
                buckets=SECONDS_BUCKETS,
                registry=registry,
            ),
        )

    @classmethod
    def detached(cls) -> CommitterMetrics:
        """Instruments that nothing reads, for a committer built outside a runtime."""
        return cls.on(CollectorRegistry())


@dataclass(frozen=True)
class ViewMetrics:
    """What the projection workers of this process applied, by view."""

    pages_applied: Counter
    events_applied: Counter

    @classmethod
    def on(cls, registry: CollectorRegistry) -> ViewMetrics:
        return cls(
            pages_applied=Counter(
                "workledger_view_pages_applied",
                "Pages of the log a view's worker applied in this process.",
                ["view"],
                registry=registry,
            ),
            events_applied=Counter(
                "workledger_view_events_applied",
                "Events a view's worker applied in this process.",
                ["view"],
                registry=registry,
            ),
        )

    @classmethod
    def detached(cls) -> ViewMetrics:
        return cls.on(CollectorRegistry())


@dataclass(frozen=True)
class RelayMetrics:
    """The Kafka relay's sends (``services.stream.relay``)."""

    send_seconds: Histogram
    failures: Counter

    @classmethod
    def on(cls, registry: CollectorRegistry) -> RelayMetrics:
        return cls(
            send_seconds=Histogram(
                "workledger_relay_send_duration_seconds",
                "Time from sending a batch to Kafka to the broker's acknowledgement of all of it.",
                buckets=SECONDS_BUCKETS,
                registry=registry,
            ),
            failures=Counter(
                "workledger_relay_failures",
                "Times the relay failed (a broker away, a send refused) and started over from "
                "its saved position.",
                registry=registry,
            ),
        )

    @classmethod
    def detached(cls) -> RelayMetrics:
        return cls.on(CollectorRegistry())


@dataclass(frozen=True)
class FeedMetrics:
    """The HTTP event feed (``services.stream.feed``)."""

    sse_clients: Gauge

    @classmethod
    def on(cls, registry: CollectorRegistry) -> FeedMetrics:
        return cls(
            sse_clients=Gauge(
                "workledger_sse_clients",
                "Open /v1/events/stream connections.",
                multiprocess_mode="livesum",
                registry=registry,
            )
        )

    @classmethod
    def detached(cls) -> FeedMetrics:
        return cls.on(CollectorRegistry())


@dataclass(frozen=True)
class SchedulerMetrics:
    """The operation scheduler's ticks (``services.command.scheduler``)."""

    ticks: Counter
    occurrences: Counter

    @classmethod
    def on(cls, registry: CollectorRegistry) -> SchedulerMetrics:
        return cls(
            ticks=Counter(
                "workledger_scheduler_ticks",
                "Scheduler ticks run (on its timer, or asked for over HTTP).",
                registry=registry,
            ),
            occurrences=Counter(
                "workledger_scheduler_occurrences",
                "Occurrences of operations the ticks created.",
                registry=registry,
            ),
        )

    @classmethod
    def detached(cls) -> SchedulerMetrics:
        return cls.on(CollectorRegistry())


@dataclass(frozen=True)
class ConnectionMetrics:
    """The database connection pool (PostgreSQL's; SQLite reports none)."""

    in_use: Gauge
    waiting: Gauge

    @classmethod
    def on(cls, registry: CollectorRegistry) -> ConnectionMetrics:
        return cls(
            in_use=Gauge(
                "workledger_db_pool_connections_in_use",
                "Database connections taken from the pool and not yet given back.",
                multiprocess_mode="livesum",
                registry=registry,
            ),
            waiting=Gauge(
                "workledger_db_pool_waiting",
                "Callers waiting for a database connection from the pool.",
                multiprocess_mode="livesum",
                registry=registry,
            ),
        )


class Metrics:
    """Every instrument of one process, and how its metrics are scraped.

    ``multiprocess_dir`` is the directory several API processes share (see
    ``multiprocess_directory``); a scrape then adds up every process's files there, with this
    process's readings from the database.
    """

    def __init__(self, *, multiprocess_dir: str | None = None) -> None:
        # Each counter and histogram would add a ``_created`` series (its creation time) beside
        # its values, doubling what is scraped; rates and increases need none of them. The
        # switch is the library's, for the whole process; it declares no types for it.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        self.multiprocess_dir = multiprocess_dir
        self.http = HttpMetrics.on(self.registry)
        self.committer = CommitterMetrics.on(self.registry)
        self.views = ViewMetrics.on(self.registry)
        self.relay = RelayMetrics.on(self.registry)
        self.feed = FeedMetrics.on(self.registry)
        self.scheduler = SchedulerMetrics.on(self.registry)
        self.connections = ConnectionMetrics.on(self.registry)
        self._readings: list[Collector] = []
        if multiprocess_dir is None:
            # The process's CPU and memory; in multiprocess mode they would be only the answerer's.
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)

    def add_readings(self, collector: Collector) -> None:
        """Adds metrics read when scraped (from the database), rather than counted here."""
        self._readings.append(collector)
        self.registry.register(collector)

    def exposition(self) -> tuple[bytes, str]:
        """The scrape: the metrics in Prometheus' text format, and its content type."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        combined = CollectorRegistry()
        # prometheus-client declares no types for its multiprocess functions.
        multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
            combined, path=self.multiprocess_dir
        )
        for collector in self._readings:
            combined.register(collector)
        return generate_latest(combined), CONTENT_TYPE_LATEST

    def close(self) -> None:
        """Forgets this process's gauges in a shared directory (its counters keep counting)."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(  # type: ignore[no-untyped-call]
                os.getpid(), self.multiprocess_dir
            )


@contextmanager
def multiprocess_directory() -> Iterator[str]:
    """The directory the API processes about to start share their metrics in, set as
    ``PROMETHEUS_MULTIPROC_DIR`` for them to inherit: the one the variable already names
    (emptied of a previous run's files), else a new temporary one, removed afterwards."""
    given = os.environ.get(MULTIPROCESS_VARIABLE)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield str(directory)
        return
    made = tempfile.mkdtemp(prefix="workledger-metrics-")
    os.environ[MULTIPROCESS_VARIABLE] = made
    try:
        yield made
    finally:
        os.environ.pop(MULTIPROCESS_VARIABLE, None)
        shutil.rmtree(made, ignore_errors=True)
