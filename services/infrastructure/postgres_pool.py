"""The connection pool to PostgreSQL: the eventsourcing library's datastore, made to answer
promptly while the database is away and to use it again as soon as it is back."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresDatastore
from psycopg.abc import PQGen
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow
from psycopg_pool import PoolTimeout

from services.infrastructure.answer_limit import ANSWER_LIMIT
from services.infrastructure.metrics import ConnectionMetrics
from services.infrastructure.settings import DATABASE_WAIT_SECONDS

# How long a request waits for a connection while the database is known to be away: enough for
# the attempt its wait starts to reach a nearby database that has come back (one farther away
# lands in the pool for the next request), short enough that while it has not, requests and the
# commands queued behind one in the committer are answered at once, not a full wait each.
AWAY_WAIT_SECONDS = 0.1
# psycopg_pool retries a failed connection attempt with a backoff that doubles up to its
# ``reconnect_timeout`` (five minutes by default), and meanwhile grows the pool no further: a
# database back after a long outage would wait minutes to be used. Given up this soon, the next
# request that finds no connection starts a new attempt at once.
RECONNECT_SECONDS = 0.5
# libpq's least: without one, an attempt that gets no answer at all (a lost network rather than
# a stopped server) would hold one of the pool's few connecting threads for minutes.
CONNECT_TIMEOUT_SECONDS = 2
# psycopg's own interval between checks for an interrupt while it waits for the server.
WAIT_INTERVAL = 0.1

RV = TypeVar("RV")


class BoundedConnection(psycopg.Connection[DictRow]):
    """A connection whose round trips wait for the database at most the limit the work at hand
    set (``services.infrastructure.answer_limit``); past it, the connection is dropped and the
    statement fails as a lost connection does."""

    def wait(
        self, gen: PQGen[RV], interval: float = WAIT_INTERVAL, timeout: float | None = None
    ) -> RV:
        limit = ANSWER_LIMIT.get()
        if limit is None or timeout is not None:
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, limit)
        except psycopg.errors._WaitTimeout:
            # The statement is still out, and what the server does with it is unknown: the
            # connection can't be used again. Dropped, it counts as broken, and the pool
            # replaces it.
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the database did not answer within {limit:g} s"
            ) from None


class PooledDatastore(PostgresDatastore):
    """The library's datastore, its connections set up for the short statements workledger runs,
    and its pool made to answer promptly while the database is away and to use it again as soon
    as it is back."""

    def __init__(self, *, wait_seconds: float, **options: Any) -> None:
        # The library's ``connect_timeout`` is the pool's: how long a caller waits for a connection.
        super().__init__(connect_timeout=wait_seconds, **options)
        self.wait_seconds = wait_seconds
        self.pool.reconnect_timeout = RECONNECT_SECONDS
        self.pool.connection_class = BoundedConnection
        kwargs = self.pool.kwargs
        assert isinstance(kwargs, dict)
        self.pool.kwargs = {
            **kwargs,
            "connect_timeout": max(CONNECT_TIMEOUT_SECONDS, math.ceil(wait_seconds)),
        }
        self._checking = threading.Lock()
        # Where connections waited for and in use are counted, once a runtime measures them.
        self.connections: ConnectionMetrics | None = None

    def after_connect_func(self) -> Callable[[psycopg.Connection[Any]], None]:
        library_setup = super().after_connect_func()

        def after_connect(connection: psycopg.Connection[Any]) -> None:
            library_setup(connection)
            # Starting parallel workers costs a few milliseconds, more than they save on the
            # short queries of the views and the log: a team's workload took 8 ms instead of 3.
            connection.execute(b"SET max_parallel_workers_per_gather = 0")

        return after_connect

    @contextmanager
    def get_connection(self) -> Iterator[psycopg.Connection[DictRow]]:
        broken = False
        try:
            with self._counted_connection() as connection:
                try:
                    yield connection
                except psycopg.Error:
                    broken = connection.broken
                    raise
        except PersistenceError as error:
            if broken or isinstance(error.__cause__, PoolTimeout):
                self._away(check=broken)
            raise
        self.pool.timeout = self.wait_seconds

    @contextmanager
    def _counted_connection(self) -> Iterator[psycopg.Connection[DictRow]]:
        """A connection from the pool, counted while it is waited for, then while in use."""
        gauges = self.connections
        if gauges is None:
            with super().get_connection() as connection:
                yield connection
            return
        gauges.waiting.inc()
        taken = False
        try:
            with super().get_connection() as connection:
                gauges.waiting.dec()
                taken = True
                with gauges.in_use.track_inprogress():
                    yield connection
        finally:
            if not taken:
                gauges.waiting.dec()

    def _away(self, *, check: bool) -> None:
        self.pool.timeout = min(self.wait_seconds, AWAY_WAIT_SECONDS)
        # A restart ends every session at once: the connections idle in the pool are as dead as
        # the one that failed. Found now, they are replaced at once, rather than each failing a
        # request of its own once the database is back.
        if check and self._checking.acquire(blocking=False):
            threading.Thread(
                target=self._check_idle, name="workledger-pool-check", daemon=True
            ).start()

    def _check_idle(self) -> None:
        try:
            self.pool.check()
        finally:
            self._checking.release()


def datastore_from_url(
    url: str,
    *,
    pool_size: int = 8,
    max_overflow: int = 8,
    wait_seconds: float = DATABASE_WAIT_SECONDS,
) -> PooledDatastore:
    """A library datastore for a ``postgresql://`` URL; a caller waits at most ``wait_seconds``
    for one of its connections."""
    parts = conninfo_to_dict(url)
    return PooledDatastore(
        dbname=str(parts.get("dbname") or "postgres"),
        host=str(parts.get("host") or "127.0.0.1"),
        port=str(parts.get("port") or 5432),
        user=str(parts.get("user") or "postgres"),
        password=str(parts.get("password") or ""),
        pool_size=pool_size,
        max_overflow=max_overflow,
        idle_in_transaction_session_timeout=30,
        wait_seconds=wait_seconds,
    )


def count_connections(backend: object, metrics: ConnectionMetrics) -> None:
    """Counts the connections of ``backend``'s pool in ``metrics`` from now on, when it has one
    of these pools (a PostgreSQL backend does; SQLite's connections go uncounted)."""
    datastore = getattr(backend, "datastore", None)
    if isinstance(datastore, PooledDatastore):
        datastore.connections = metrics
