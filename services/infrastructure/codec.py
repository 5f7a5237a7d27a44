"""How domain events become stored bytes and back.

A stored event is an orjson envelope: the event's id, type name and schema version, who caused it
and when, the correlation and causation ids, and the event's own fields under ``data``. Type names
are stable strings (``IssueAssigned``), never Python module paths, so code can move freely; an
event whose shape changes gets a new schema version and an upcaster that lifts stored older
versions on read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

import orjson
from pydantic import TypeAdapter, ValidationError
from pydantic_core import SchemaValidator, core_schema

JsonObject = dict[str, Any]
Upcaster = Callable[[JsonObject], JsonObject]
_parse_datetime = datetime.fromisoformat


class _ParsedId:
    """An id attribute that may be given as text (as the log stores it) and is parsed into a
    ``UUID`` on first use: most readers (the history, the event stream) want ids as text again,
    and parsing and printing a UUID costs more than the rest of an event's envelope together."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_{name}"

    def __get__(self, instance: Any, owner: type | None = None) -> UUID:
        value: UUID | str = getattr(instance, self._slot)
        if isinstance(value, str):
            value = UUID(value)
            setattr(instance, self._slot, value)
        return value


class _IdText:
    """The text form of a ``_ParsedId``, without parsing it first."""

    def __init__(self, slot: str) -> None:
        self._slot = slot

    def __get__(self, instance: Any, owner: type | None = None) -> str:
        return str(getattr(instance, self._slot))


class _Value(ABC):
    """Equal and hashed by ``_key()``, as a frozen dataclass would be by its fields."""

    __slots__ = ()

    @abstractmethod
    def _key(self) -> tuple[Any, ...]:
        """What equality and the hash are taken over."""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Value)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


class EventMetadata(_Value):
    """Facts about a fact: who caused it, when it occurred, and what it answered. Its ids may be
    given as text and are parsed on first use."""

    __slots__ = ("_causation_id", "_correlation_id", "_event_id", "actor", "occurred_at")

    event_id = _ParsedId()
    correlation_id = _ParsedId()
    causation_id = _ParsedId()
    event_id_text = _IdText("_event_id")
    correlation_id_text = _IdText("_correlation_id")
    causation_id_text = _IdText("_causation_id")

    def __init__(
        self,
        event_id: UUID | str,
        actor: str,
        occurred_at: datetime,
        correlation_id: UUID | str,
        causation_id: UUID | str,
    ) -> None:
        self._event_id = event_id
        self.actor = actor
        self.occurred_at = occurred_at
        self._correlation_id = correlation_id
        self._causation_id = causation_id

    def _key(self) -> tuple[Any, ...]:
        return (self.event_id, self.actor, self.occurred_at, self.correlation_id, self.causation_id)

    def __repr__(self) -> str:
        return (
            f"EventMetadata(event_id={self.event_id_text!r}, actor={self.actor!r}, "
            f"occurred_at={self.occurred_at!r}, correlation_id={self.correlation_id_text!r}, "
            f"causation_id={self.causation_id_text!r})"
        )


class RecordedEvent(_Value):
    """An event as the log holds it, decoded to its current schema version.

    Read-only by convention (a slotted class rather than a frozen dataclass: a rebuild makes a
    million of these, and a frozen dataclass sets each field through ``object.__setattr__``).
    The stream id may be given as text, as the log stores it, and is parsed on first use.
    """

    __slots__ = (
        "_payload",
        "_state",
        "_stream_id",
        "data",
        "metadata",
        "position",
        "recorded_at",
        "schema_version",
        "type",
        "version",
    )

    stream_id = _ParsedId()
    stream_id_text = _IdText("_stream_id")

    def __init__(
        self,
        position: int,
        stream_id: UUID | str,
        version: int,
        type: str,
        schema_version: int,
        data: Any,
        metadata: EventMetadata,
        recorded_at: datetime,
        *,
        payload: JsonObject | None = None,
        state: bytes | None = None,
    ) -> None:
        if payload is None and state is None:
            raise ValueError("a recorded event needs its payload or its stored envelope")
        self.position = position
        self._stream_id = stream_id
        self.version = version
        self.type = type
        self.schema_version = schema_version
        self.data = data
        self.metadata = metadata
        self.recorded_at = recorded_at
        self._payload = payload
        self._state = state

    @property
    def event_id(self) -> UUID:
        return self.metadata.event_id

    @property
    def payload(self) -> JsonObject:
        """``data`` as the log holds it (JSON values, at the current schema version), for
        readers that want JSON again and would otherwise serialise ``data`` anew."""
        payload = self._payload
        if payload is None:
            assert self._state is not None
            payload = self._payload = orjson.loads(self._state)["data"]
        return payload

    def _key(self) -> tuple[Any, ...]:
        return (
            self.position,
            self.stream_id,
            self.version,
            self.type,
            self.schema_version,
            self.data,
            self.metadata,
            self.recorded_at,
        )

    def __repr__(self) -> str:
        return (
            f"RecordedEvent(position={self.position!r}, stream_id={self.stream_id_text!r}, "
            f"version={self.version!r}, type={self.type!r}, data={self.data!r})"
        )


@dataclass(frozen=True)
class EventType:
    name: str
    cls: type[Any]
    schema_version: int
    adapter: TypeAdapter[Any]


class UnknownEventType(LookupError):
    """The log holds an event type this code does not know: never guessed at, always loud."""


class EventCodec:
    """Maps event classes to stable names and encodes or decodes stored envelopes."""

    def __init__(
        self,
        event_classes: Iterable[type[Any]],
        *,
        schema_versions: Mapping[str, int] | None = None,
        upcasters: Mapping[tuple[str, int], Upcaster] | None = None,
    ) -> None:
        self._by_name: dict[str, EventType] = {}
        self._by_class: dict[type[Any], EventType] = {}
        versions = dict(schema_versions or {})
        self._upcasters = dict(upcasters or {})
        for cls in event_classes:
            if not is_dataclass(cls):
                raise TypeError(f"{cls!r} is not a dataclass")
            name = cls.__name__
            if name in self._by_name:
                raise ValueError(f"two event classes are named {name}")
            # An event class declares its stored shape's versions and upcasters itself.
            version = versions.get(name, getattr(cls, "SCHEMA_VERSION", 1))
            for older, upcast in getattr(cls, "UPCASTERS", {}).items():
                self._upcasters.setdefault((name, older), upcast)
            missing = [v for v in range(1, version) if (name, v) not in self._upcasters]
            if missing:
                raise ValueError(
                    f"{name} is at schema version {version} with no upcaster from {missing}"
                )
            event_type = EventType(name, cls, version, TypeAdapter(cls))
            self._by_name[name] = event_type
            self._by_class[cls] = event_type

    @property
    def event_types(self) -> list[EventType]:
        return list(self._by_name.values())

    def type_of(self, event: Any) -> EventType:
        try:
            return self._by_class[type(event)]
        except KeyError:
            raise UnknownEventType(f"{type(event).__name__} is not a registered event") from None

    def encode(
        self,
        event: Any,
        metadata: EventMetadata,
        recorded_at: datetime,
        occurred_at: datetime | None = None,
    ) -> bytes:
        """The stored envelope of ``event``; ``occurred_at``, when given, replaces the
        metadata's (a live command occurs when it commits)."""
        event_type = self.type_of(event)
        return orjson.dumps(
            {
                "id": metadata.event_id,
                "type": event_type.name,
                "schema_version": event_type.schema_version,
                "actor": metadata.actor,
                "occurred_at": metadata.occurred_at if occurred_at is None else occurred_at,
                "recorded_at": recorded_at,
                "correlation_id": metadata.correlation_id,
                "causation_id": metadata.causation_id,
                "data": event,
            },
            default=_encode_extra,
        )

    def decode(
        self, position: int, stream_id: UUID | str, version: int, state: bytes
    ) -> RecordedEvent:
        """The stored envelope ``state`` as a recorded event of its current schema version."""
        try:
            envelope = self._envelopes.validate_json(state)
        except ValidationError:
            # Not an envelope of the current schemas: an older schema version to upcast, an
            # unknown type, or damage, which the careful path names.
            return self._decode_carefully(position, stream_id, version, state)
        event_type = self._by_name[envelope["type"]]
        if envelope.get("schema_version", 1) != event_type.schema_version:
            return self._decode_carefully(position, stream_id, version, state)
        return RecordedEvent(
            position,
            stream_id,
            version,
            event_type.name,
            event_type.schema_version,
            envelope["data"],
            _metadata_of(envelope),
            _parse_datetime(envelope["recorded_at"]),
            state=state,
        )

    @cached_property
    def _envelopes(self) -> SchemaValidator:
        """Validates a whole stored envelope in one pass from its JSON, choosing the event's
        schema by its ``type``: about twice as fast as parsing the JSON and then validating the
        event's fields, which matters to a rebuild reading millions of them."""
        return SchemaValidator(
            core_schema.tagged_union_schema(
                {
                    event_type.name: _envelope_schema(event_type)
                    for event_type in self._by_name.values()
                },
                discriminator="type",
            )
        )

    def _decode_carefully(
        self, position: int, stream_id: UUID | str, version: int, state: bytes
    ) -> RecordedEvent:
        envelope = orjson.loads(state)
        name = envelope["type"]
        try:
            event_type = self._by_name[name]
        except KeyError:
            raise UnknownEventType(f"the log holds an unknown event type {name!r}") from None
        data = envelope["data"]
        schema_version = int(envelope.get("schema_version", 1))
        while schema_version < event_type.schema_version:
            data = self._upcasters[(name, schema_version)](data)
            schema_version += 1
        return RecordedEvent(
            position,
            stream_id,
            version,
            name,
            schema_version,
            event_type.adapter.validate_python(data),
            _metadata_of(envelope),
            _parse_datetime(envelope["recorded_at"]),
            payload=data,
        )


def _metadata_of(envelope: Mapping[str, Any]) -> EventMetadata:
    return EventMetadata(
        envelope["id"],
        envelope["actor"],
        _parse_datetime(envelope["occurred_at"]),
        envelope["correlation_id"],
        envelope["causation_id"],
    )


def _envelope_schema(event_type: EventType) -> core_schema.TypedDictSchema:
    text = core_schema.str_schema()
    # Times stay text here and are parsed by ``datetime.fromisoformat``: its datetimes carry
    # the standard library's UTC, which later arithmetic on them handles far faster.
    moment = text
    return core_schema.typed_dict_schema(
        {
            "type": core_schema.typed_dict_field(core_schema.literal_schema([event_type.name])),
            "schema_version": core_schema.typed_dict_field(
                core_schema.int_schema(), required=False
            ),
            "id": core_schema.typed_dict_field(text),
            "actor": core_schema.typed_dict_field(text),
            "occurred_at": core_schema.typed_dict_field(moment),
            "recorded_at": core_schema.typed_dict_field(moment),
            "correlation_id": core_schema.typed_dict_field(text),
            "causation_id": core_schema.typed_dict_field(text),
            "data": core_schema.typed_dict_field(event_type.adapter.core_schema),
        }
    )


def _encode_extra(value: Any) -> Any:
    """orjson knows dataclasses, UUIDs, dates and tuples; frozensets are stored sorted."""
    if isinstance(value, frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} can't be stored in an event")


def event_data(event: Any) -> JsonObject:
    """The event's fields as JSON-ready values (tuples and frozensets become lists)."""
    return {f.name: _plain(getattr(event, f.name)) for f in fields(event)}


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted((_plain(item) for item in value), key=str)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return event_data(value)
    return value
