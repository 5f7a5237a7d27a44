"""How each view's worker is faring, kept where every process can read it.

A worker that fails on a page records it here (how many times, the last error, when), and clears
its error once a page goes through again. ``workledger status`` and ``/readyz`` read it, along
with each view's position, from whatever process they run in: a worker stuck on a failing event
shows, whichever process runs it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from services.infrastructure.store import Backend, EventStore
from services.projections.runner import read_state

log = logging.getLogger("workledger.projections")

HEALTH_DDL = (
    "CREATE TABLE IF NOT EXISTS workledger_view_health ("
    " name TEXT PRIMARY KEY, failures BIGINT NOT NULL, last_error TEXT, failed_at BIGINT)"
)
# Errors are kept short: a person reads them in a table, and a traceback is in the worker's log.
ERROR_CHARS = 500


@dataclass(frozen=True)
class ViewHealth:
    """One view as ``status`` and ``/readyz`` see it."""

    name: str
    position: int
    lag_events: int
    lag_seconds: float
    last_page_at: float | None
    failures: int
    last_error: str | None
    failed_at: float | None

    @property
    def failing(self) -> bool:
        """Whether the worker's last attempt failed (it is retrying the same page)."""
        return self.last_error is not None


def ensure_health_table(backend: Backend) -> None:
    with backend.setup_transaction() as cursor:
        cursor.execute(HEALTH_DDL)


def record_failure(backend: Backend, name: str, error: BaseException) -> None:
    """Counts a failed page of ``name``'s worker, with its error. Best effort: the failure may
    be the database's own, and then there is nowhere to record it but the log."""
    message = f"{type(error).__name__}: {error}"[:ERROR_CHARS]
    try:
        backend.execute(
            "INSERT INTO workledger_view_health (name, failures, last_error, failed_at) "
            "VALUES (%s, 1, %s, %s) ON CONFLICT (name) DO UPDATE SET "
            "failures = workledger_view_health.failures + 1, "
            "last_error = excluded.last_error, failed_at = excluded.failed_at",
            (name, message, _now()),
        )
    except Exception:
        log.warning("could not record the failure of view %s", name)


def record_recovery(backend: Backend, name: str) -> None:
    """Clears the error of ``name``'s worker once a page went through again (the count stays)."""
    try:
        backend.execute(
            "UPDATE workledger_view_health SET last_error = NULL WHERE name = %s", (name,)
        )
    except Exception:
        log.warning("could not record the recovery of view %s", name)


def views_health(store: EventStore, names: list[str]) -> list[ViewHealth]:
    """Each view's position, lag (in events and in seconds since the oldest event it has not
    applied was recorded), last applied page and failures, as the database says now."""
    backend = store.backend
    last = store.last_position()
    now = time.time()
    recorded = {
        row[0]: (int(row[1]), row[2], row[3])
        for row in backend.fetchall(
            "SELECT name, failures, last_error, failed_at FROM workledger_view_health"
        )
    }
    found: list[ViewHealth] = []
    for name in names:
        state = read_state(backend, name)
        position = state.position if state else 0
        behind = store.read(position, 1) if position < last else []
        lag_seconds = max(0.0, now - behind[0].recorded_at.timestamp()) if behind else 0.0
        failures, error, failed_at = recorded.get(name, (0, None, None))
        found.append(
            ViewHealth(
                name=name,
                position=position,
                lag_events=last - position,
                lag_seconds=lag_seconds,
                last_page_at=state.updated_at / 1e6 if state else None,
                failures=failures,
                last_error=error,
                failed_at=failed_at / 1e6 if failed_at is not None else None,
            )
        )
    return found


def _now() -> int:
    return time.time_ns() // 1000
