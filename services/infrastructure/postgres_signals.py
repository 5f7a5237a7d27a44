"""PostgreSQL's signals between processes: notifications of commits (``LISTEN``) and advisory
locks (one rebuild or import run at a time)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from services.infrastructure.backend import CommitSignal

log = logging.getLogger("workledger.postgres")


class Listener:
    """LISTENs on the log's channel and bumps the commit signal on every notification.

    If the connection dies (a restart, ``pg_terminate_backend``) it reconnects; meanwhile the
    signal's polling interval keeps readers moving.
    """

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], channel: str) -> None:
        self._connect = connect
        self._channel = channel
        self.signal = CommitSignal(poll_interval=1.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connection: psycopg.Connection[Any] | None = None

    def ensure_started(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="workledger-listen", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        lost = False
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    self._connection = conn
                    conn.execute(SQL("LISTEN {0}").format(Identifier(self._channel)))
                    if lost:
                        log.info("listening again")
                        lost = False
                    # Commits may have happened while not listening: wake readers to look.
                    self.signal.bump()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self.signal.bump()
            except psycopg.Error as error:
                # Tried again every 0.2 s, the loss would otherwise fill the log through an outage.
                if not lost:
                    log.warning("lost the LISTEN connection (%s); reconnecting", error)
                    lost = True
                self._stop.wait(0.2)
            finally:
                self._connection = None

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)


def lock_key(name: str) -> int:
    """An advisory lock's 64-bit key for a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class AdvisoryLock:
    """A session advisory lock, held for as long as its connection lives."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def held(self) -> bool:
        if self._connection.closed:
            return False
        try:
            self._connection.execute("SELECT 1")
        except psycopg.Error:
            # The connection is gone, and with it the lock: another holder may have it now.
            self._connection.close()
            return False
        return True

    def release(self) -> None:
        # Closing the session releases its locks, but the server notices a closed connection a
        # moment later; unlocked first, the lock is free for the next taker at once.
        if not self._connection.closed:
            with contextlib.suppress(psycopg.Error):
                self._connection.execute("SELECT pg_advisory_unlock_all()")
        self._connection.close()
