"""The edge between the log and the published contracts: recorded events as CloudEvents.

A domain event class maps to the contract ``workledger.<kind>.<fact>.v<N>``: ``<kind>`` is the
kind of object whose stream records it, ``<fact>`` is the class name without that kind's prefix, in
snake_case (``IssueAssigned`` on an issue is ``workledger.issue.assigned``), and ``<N>`` is the
schema version the codec decodes it to. Building a mapper checks that every event the codec knows
has its contract, so a new or changed event can't be published without one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from contracts.cloudevents import DATA_CONTENT_TYPE, EVENT_SOURCE, SPEC_VERSION, format_sequence
from contracts.events import EventCatalog, EventContract, UnknownEventContract, downcast
from domain.catalog import kind_of_event
from services.infrastructure.codec import EventCodec, RecordedEvent, event_data

_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


def fact_of(kind: str, type_name: str) -> str:
    """``IssueDependencyAdded`` on an issue is ``dependency_added``; ``MilestoneAdded`` on a
    project (no ``Project`` prefix) is ``milestone_added``."""
    prefix = kind.capitalize()
    rest = type_name[len(prefix) :]
    if type_name.startswith(prefix) and rest[:1].isupper():
        type_name = rest
    return _WORD_START.sub("_", type_name).lower()


class NotPublished(LookupError):
    """A domain event has no published contract, or the codec and the contracts disagree."""


@dataclass(frozen=True)
class Published:
    """How one domain event type is published."""

    type_name: str
    kind: str
    contract: EventContract
    # Worked out once: the relay maps thousands of events a second.
    cloudevent_type: str
    dataschema: str


def _encode_extra(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} can't be published")


class CloudEventMapper:
    """Turns recorded events into CloudEvents JSON, in their latest version or an earlier one."""

    def __init__(self, codec: EventCodec, catalog: EventCatalog | None = None) -> None:
        self.catalog = catalog or EventCatalog()
        self._published: dict[str, Published] = {}
        self._by_family: dict[str, Published] = {}
        for event_type in codec.event_types:
            kind = kind_of_event(event_type.cls)
            fact = fact_of(kind, event_type.name)
            try:
                contract = self.catalog.find(kind, fact, event_type.schema_version)
            except UnknownEventContract:
                raise NotPublished(
                    f"{event_type.name} (schema version {event_type.schema_version}) has no "
                    f"contract workledger.{kind}.{fact}.v{event_type.schema_version} in "
                    "contracts/events.py"
                ) from None
            if not self.catalog.is_latest(contract):
                raise NotPublished(
                    f"{event_type.name} decodes to {contract.type}, but the contracts define a "
                    f"later {self.catalog.latest(contract.family).type}"
                )
            published = Published(
                event_type.name, kind, contract, contract.type, contract.dataschema
            )
            self._published[event_type.name] = published
            self._by_family[contract.family] = published
        unpublished = {c.family for c in self.catalog.contracts} - self._by_family.keys()
        if unpublished:
            raise NotPublished(f"no domain event publishes {', '.join(sorted(unpublished))}")

    def published(self, type_name: str) -> Published:
        """How the domain event type ``type_name`` (``IssueAssigned``) is published."""
        return self._published[type_name]

    def type_name_of(self, contract: EventContract) -> str:
        """The domain event type a contract (of any version) publishes."""
        return self._by_family[contract.family].type_name

    def to_json(self, event: RecordedEvent, version: EventContract | None = None) -> bytes:
        """The event as a CloudEvent, in its latest version or in ``version`` (an earlier one)."""
        published = self._published[event.type]
        cloudevent_type, dataschema = published.cloudevent_type, published.dataschema
        data: Any = event.data
        if version is not None and version != published.contract:
            latest = published.contract
            if version.family != latest.family or version.version > latest.version:
                raise NotPublished(f"{event.type} can't be shown as {version.type}")
            data = downcast(event_data(event.data), version)
            cloudevent_type, dataschema = version.type, version.dataschema
        metadata = event.metadata
        return orjson.dumps(
            {
                "specversion": SPEC_VERSION,
                "id": metadata.event_id_text,
                "source": EVENT_SOURCE,
                "type": cloudevent_type,
                "subject": f"{published.kind}/{event.stream_id_text}",
                "time": metadata.occurred_at,
                "datacontenttype": DATA_CONTENT_TYPE,
                "dataschema": dataschema,
                "sequence": format_sequence(event.position),
                "actor": metadata.actor,
                "correlationid": metadata.correlation_id_text,
                "causationid": metadata.causation_id_text,
                "recordedtime": event.recorded_at,
                "data": data,
            },
            default=_encode_extra,
            option=orjson.OPT_NAIVE_UTC,
        )
