"""Metrics read from the database when scraped: the log's position, each view's position, lag
and failures, and the relay's position and lag.

These are facts every process can read, wherever the worker or relay they describe runs, so any
API process reports every view. They are the same whichever process answers: a dashboard takes
their ``max`` across the processes scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from services.infrastructure.http import STORE_ERRORS

log = logging.getLogger("workledger.metrics")


class ViewReading(Protocol):
    """How one view stands (``services.projections.health.ViewHealth`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def position(self) -> int: ...

    @property
    def lag_events(self) -> int: ...

    @property
    def lag_seconds(self) -> float: ...

    @property
    def failures(self) -> int: ...


class RelayReading(Protocol):
    """How the relay stands (``services.stream.relay_positions.RelayStatus`` is one)."""

    @property
    def position(self) -> int: ...

    @property
    def lag_events(self) -> int: ...

    @property
    def lag_seconds(self) -> float: ...


class DatabaseReadings:
    """A collector that reads, at each scrape, what the database says of the log, of the views
    ``views`` reads and, when given, of the relay."""

    def __init__(
        self,
        log_position: Callable[[], int],
        views: Callable[[], Sequence[ViewReading]] | None = None,
        relay: Callable[[], RelayReading | None] | None = None,
    ) -> None:
        self._log_position = log_position
        self._views = views
        self._relay = relay

    def collect(self) -> Iterable[Metric]:
        try:
            position = self._log_position()
            views = self._views() if self._views is not None else []
            relay = self._relay() if self._relay is not None else None
        except STORE_ERRORS as error:
            # The scrape still answers with what this process counted; the outage itself is
            # told by the requests that meet it.
            log.debug("metrics: the database can't be read (%s)", error)
            return []
        return [
            _gauge("workledger_log_position", "The position of the log's last event.", position),
            *_view_metrics(views),
            *(_relay_metrics(relay) if relay is not None else []),
        ]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _view_metrics(views: Sequence[ViewReading]) -> list[Metric]:
    position = GaugeMetricFamily(
        "workledger_view_position", "The log position a view has applied up to.", labels=["view"]
    )
    lag_events = GaugeMetricFamily(
        "workledger_view_lag_events", "Events of the log a view has not applied.", labels=["view"]
    )
    lag_seconds = GaugeMetricFamily(
        "workledger_view_lag_seconds",
        "Age of the oldest event a view has not applied (0 when it is at the log's end).",
        labels=["view"],
    )
    failures = CounterMetricFamily(
        "workledger_view_failures",
        "Pages a view's worker failed to apply (each is retried), wherever it runs.",
        labels=["view"],
    )
    for view in views:
        position.add_metric([view.name], view.position)
        lag_events.add_metric([view.name], view.lag_events)
        lag_seconds.add_metric([view.name], view.lag_seconds)
        failures.add_metric([view.name], view.failures)
    return [position, lag_events, lag_seconds, failures]


def _relay_metrics(relay: RelayReading) -> list[Metric]:
    return [
        _gauge(
            "workledger_relay_position",
            "The log position the relay has published to Kafka up to.",
            relay.position,
        ),
        _gauge(
            "workledger_relay_lag_events",
            "Events of the log the relay has not published.",
            relay.lag_events,
        ),
        _gauge(
            "workledger_relay_lag_seconds",
            "Age of the oldest event the relay has not published.",
            relay.lag_seconds,
        ),
    ]
