"""Where each relay stands, saved in the database: its position, its broker's health and its
last error, read by ``workledger status`` wherever the relay runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend, EventStore

POSITIONS_TABLE = "workledger_relay_positions"
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RelayStatus:
    """Where a relay stands: what it has published, how far behind it is, and how it fares."""

    name: str
    topic: str
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    broker_reachable: bool | None
    last_error: str | None
    last_error_at: datetime | None
    updated_at: datetime | None
    running: bool
    # Running, but another relay holds the topic's lease and publishes it.
    standby: bool = False

    def describe(self) -> str:
        """One line for ``workledger status`` and the relay's log."""
        broker = {True: "reachable", False: "unreachable", None: "unknown"}[self.broker_reachable]
        line = (
            f"relay {self.name}: position {self.position} of {self.head}, "
            f"lag {self.lag_events} events / {self.lag_seconds:.1f} s, broker {broker}"
        )
        if self.last_error and not self.broker_reachable:
            line += f", last error: {self.last_error}"
        if self.standby:
            line += ", standing by: another relay publishes this topic"
        return line


class RelayPositions:
    """The relays' positions, saved in their own table of the event store's database."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        with backend.setup_transaction() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {POSITIONS_TABLE} ("
                " name TEXT PRIMARY KEY, position BIGINT NOT NULL, updated_at TEXT NOT NULL,"
                " last_error TEXT, last_error_at TEXT)"
            )

    def load(self, name: str) -> int:
        rows = self._backend.fetchall(
            f"SELECT position FROM {POSITIONS_TABLE} WHERE name = %s", (name,)
        )
        return int(rows[0][0]) if rows else 0

    def save(self, name: str, position: int, at: datetime) -> None:
        with self._backend.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {POSITIONS_TABLE} (name, position, updated_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (name) DO UPDATE"
                " SET position = excluded.position, updated_at = excluded.updated_at"
                # A relay that lost its lease mid-batch never moves the position back.
                f" WHERE {POSITIONS_TABLE}.position <= excluded.position",
                (name, position, at.isoformat()),
            )

    def restart(self, name: str, at: datetime) -> None:
        """Moves the position back to the start of the log, for a topic that lost what was
        published to it (``save`` never moves it back)."""
        with self._backend.transaction() as cursor:
            cursor.execute(
                f"UPDATE {POSITIONS_TABLE} SET position = 0, updated_at = %s WHERE name = %s",
                (at.isoformat(), name),
            )

    def record_error(self, name: str, error: str, at: datetime) -> None:
        with self._backend.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {POSITIONS_TABLE} (name, position, updated_at, last_error,"
                " last_error_at) VALUES (%s, 0, %s, %s, %s)"
                " ON CONFLICT (name) DO UPDATE"
                " SET last_error = excluded.last_error, last_error_at = excluded.last_error_at",
                (name, at.isoformat(), error, at.isoformat()),
            )

    def status(
        self,
        store: EventStore,
        name: str,
        topic: str,
        now: datetime,
        *,
        running: bool = False,
        broker_reachable: bool | None = None,
    ) -> RelayStatus:
        """The relay's status from what it saved; a running relay adds what it knows live."""
        rows = self._backend.fetchall(
            f"SELECT position, updated_at, last_error, last_error_at FROM {POSITIONS_TABLE}"
            " WHERE name = %s",
            (name,),
        )
        position, updated_at, last_error, last_error_at = (
            (int(rows[0][0]), _time(rows[0][1]), rows[0][2], _time(rows[0][3]))
            if rows
            else (0, None, None, None)
        )
        if broker_reachable is None and updated_at is not None:
            broker_reachable = last_error_at is None or last_error_at < updated_at
        head = store.last_position()
        oldest = store.read(position, 1)
        lag_seconds = max(0.0, (now - oldest[0].recorded_at).total_seconds()) if oldest else 0.0
        return RelayStatus(
            name=name,
            topic=topic,
            position=position,
            head=head,
            lag_events=max(0, head - position),
            lag_seconds=lag_seconds,
            broker_reachable=broker_reachable,
            last_error=last_error,
            last_error_at=last_error_at,
            updated_at=updated_at,
            running=running,
        )


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def relay_name(topic: str) -> str:
    """A relay is named after its topic: a new topic is published from the start of the log."""
    return f"kafka:{topic}"


def relay_status(store: EventStore, settings: Settings, clock: Clock = utc_now) -> RelayStatus:
    """The relay's status as saved in the database, for ``workledger status``."""
    name = relay_name(settings.kafka_topic)
    return RelayPositions(store.backend).status(store, name, settings.kafka_topic, clock())
