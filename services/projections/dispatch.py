"""The shape of every read model: its tables and one typed handler per event class it reads.

A view registers a function per event class with ``EventHandlers.on`` (mypy checks that the
function takes that class), and is a ``View``: name, schema version, tables and handlers. A view
that reads every event the same way (the history) registers one handler with ``on_every``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from domain.catalog import EVENT_CLASSES, DomainEvent
from services.infrastructure.codec import RecordedEvent
from services.projections.page_writer import PageWriter
from services.projections.readmodel import Row, Table
from services.projections.runner import event_time

E = TypeVar("E")


class Change:
    """One event being applied: where its versions go and when they start.

    Read-only by convention: a plain slotted class, since one is made per event applied and a
    frozen dataclass costs three times as much to make."""

    __slots__ = ("at", "event", "writer")

    def __init__(self, writer: PageWriter, event: RecordedEvent, at: int) -> None:
        self.writer = writer
        self.event = event
        self.at = at

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

    def append(self, table: Table, row: Row) -> None:
        """Adds a fact to an append-only table."""
        self.writer.append(table.name, row)


Handler = Callable[[Change, Any], None]
Registrar = Callable[[Callable[[Change, E], None]], Callable[[Change, E], None]]


class EventHandlers:
    """A read model's handlers, one per event class it cares about; other events pass by."""

    def __init__(self) -> None:
        self._by_class: dict[type[Any], Handler] = {}
        self._every: Callable[[Change, DomainEvent], None] | None = None

    def on(
        self, event_class: type[E]
    ) -> Callable[[Callable[[Change, E], None]], Callable[[Change, E], None]]:
        def register(handler: Callable[[Change, E], None]) -> Callable[[Change, E], None]:
            self._by_class[event_class] = handler
            return handler

        return register

    def on_every(
        self, handler: Callable[[Change, DomainEvent], None]
    ) -> Callable[[Change, DomainEvent], None]:
        """Registers ``handler`` for every event, whatever its class (and no other handler)."""
        if self._by_class:
            raise ValueError("a view reads every event with one handler, or each with its own")
        self._every = handler
        return handler

    def include(self, other: EventHandlers) -> None:
        """Adds ``other``'s handlers to these: a view whose handlers live in several modules
        gathers them in one."""
        if self._every is not None or other._every is not None:
            raise ValueError("a view that reads every event with one handler includes no others")
        overlap = self._by_class.keys() & other._by_class.keys()
        if overlap:
            raise ValueError(f"two handlers for {sorted(c.__name__ for c in overlap)}")
        self._by_class.update(other._by_class)

    def registered(self) -> dict[object, Callable[[Change, Any], None]]:
        """Each handler by what it reads: its event class, or ``DomainEvent`` (every event) for
        the one registered with ``on_every``."""
        if self._every is not None:
            return {DomainEvent: self._every}
        found: dict[object, Handler] = {}
        for event_class, handler in self._by_class.items():
            found[event_class] = handler
        return found

    def classes(self) -> frozenset[type[Any]]:
        """The event classes with a handler of their own."""
        return frozenset(self._by_class)

    def type_names(self) -> frozenset[str] | None:
        """The names of the event types with a handler (what a worker needs to read); ``None``
        for every type."""
        if self._every is not None or self._by_class.keys() >= set(EVENT_CLASSES):
            # Reading every event, the log is read as it is, with no filter on its types.
            return None
        return frozenset(event_class.__name__ for event_class in self._by_class)

    def apply(self, writer: PageWriter, event: RecordedEvent) -> None:
        if self._every is not None:
            self._every(Change(writer, event, event_time(event)), event.data)
            return
        handler = self._by_class.get(type(event.data))
        if handler is not None:
            handler(Change(writer, event, event_time(event)), event.data)


@dataclass
class View:
    """A read model as the projection runner drives it (a ``Projection``): its name, the
    version of its tables' schema (a new one rebuilds it beside the serving copy), its tables,
    and its handlers."""

    name: str
    schema_version: int
    tables: tuple[Table, ...]
    handlers: EventHandlers
    # Folded in the order events occurred (see ``runner.Projection``); the history follows the
    # log as recorded, its chain the order entries were written in.
    occurred_order: bool = True
    # Read once the handlers are registered: a view is made after its handlers' module is.
    event_types: frozenset[str] | None = field(init=False)

    def __post_init__(self) -> None:
        self.event_types = self.handlers.type_names()

    def apply(self, writer: PageWriter, event: RecordedEvent) -> None:
        self.handlers.apply(writer, event)
