"""Per-event handlers for read models: register one function per event class, apply by type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from services.infrastructure.codec import RecordedEvent
from services.projections.readmodel import PageWriter, Row, Table
from services.projections.runner import event_time

E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class Change:
    """One event being applied: where its versions go and when they start."""

    writer: PageWriter
    event: RecordedEvent
    at: int

    @property
    def subject(self) -> str:
        return self.event.stream_id_text

    def put(self, table: Table, row: Row) -> None:
        self.writer.put(table.name, row, self.at, self.event.position)

    def update(self, table: Table, key: tuple[Any, ...], changes: Row) -> Row | None:
        return self.writer.update(table.name, key, changes, self.at, self.event.position)

    def delete(self, table: Table, key: tuple[Any, ...]) -> None:
        self.writer.delete(table.name, key, self.at, self.event.position)

    def get(self, table: Table, key: tuple[Any, ...]) -> Row | None:
        return self.writer.get(table.name, key)


Handler = Callable[[Change, Any], None]
Registrar = Callable[[Callable[[Change, E], None]], Callable[[Change, E], None]]


class EventHandlers:
    """A read model's handlers, one per event class it cares about; other events pass by."""

    def __init__(self) -> None:
        self._by_class: dict[type[Any], Handler] = {}

    def on(
        self, event_class: type[E]
    ) -> Callable[[Callable[[Change, E], None]], Callable[[Change, E], None]]:
        def register(handler: Callable[[Change, E], None]) -> Callable[[Change, E], None]:
            self._by_class[event_class] = handler
            return handler

        return register

    def type_names(self) -> frozenset[str]:
        """The names of the event types with a handler (what a worker needs to read)."""
        return frozenset(event_class.__name__ for event_class in self._by_class)

    def apply(self, writer: PageWriter, event: RecordedEvent) -> None:
        handler = self._by_class.get(type(event.data))
        if handler is not None:
            handler(Change(writer, event, event_time(event)), event.data)
