"""The CloudEvents 1.0 envelope every published event travels in, as structured JSON.

One envelope everywhere: a Kafka record's value, an item of ``GET /v1/events`` and the ``data`` of
a Server-Sent Event are the same JSON document. Besides the required attributes it carries
``subject`` (``<object kind>/<id>``), ``time`` (when the fact occurred), ``dataschema`` (its JSON
Schema), the ``sequence`` extension (the event's position in the log) and workledger's own
extensions ``actor``, ``correlationid``, ``causationid`` and ``recordedtime``.

``sequence`` is a string, as the CloudEvents sequence extension requires, of 20 digits padded
with zeros, so it orders the same as text and as a number: ``int(event["sequence"])`` is the
position that ``after=`` and ``Last-Event-ID`` take.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import EventContract

SPEC_VERSION = "1.0"
EVENT_SOURCE = "/workledger"
DATA_CONTENT_TYPE = "application/json"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
SEQUENCE_DIGITS = 20
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def format_sequence(position: int) -> str:
    """The ``sequence`` attribute of the event at ``position``."""
    return f"{position:0{SEQUENCE_DIGITS}d}"


def parse_sequence(sequence: str) -> int:
    """The log position a ``sequence`` attribute names."""
    return int(sequence)


class CloudEvent(BaseModel):
    """A workledger event as a CloudEvents 1.0 structured JSON document."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = Field(description="The CloudEvents version: always 1.0.")
    id: UUID = Field(description="The event's id, stable forever: consumers dedupe on it.")
    source: str = Field(
        description="Where the event happened: the workledger that recorded it.",
        json_schema_extra={"format": "uri-reference"},
    )
    type: str = Field(description="What happened: workledger.<object>.<fact>.v<version>.")
    subject: str = Field(description="The object the event happened to: <object kind>/<id>.")
    time: datetime = Field(description="When the fact occurred.")
    datacontenttype: Literal["application/json"] = Field(description="data is JSON.")
    dataschema: str = Field(
        description="The JSON Schema of this type of event.", json_schema_extra={"format": "uri"}
    )
    sequence: Annotated[str, Field(pattern=rf"^[0-9]{{{SEQUENCE_DIGITS}}}$")] = Field(
        description="The event's position in the log, as 20 digits: later events sort after."
    )
    actor: str = Field(description="Who caused the event: a member id, or system.")
    correlationid: UUID = Field(description="Shared by every event one request caused.")
    causationid: UUID = Field(description="The id of the request or event that caused it.")
    recordedtime: datetime = Field(description="When the log recorded the event.")
    data: dict[str, Any] = Field(description="The event's own fields, as its type's schema says.")

    @property
    def position(self) -> int:
        """The event's position in the log."""
        return parse_sequence(self.sequence)

    @property
    def object_kind(self) -> str:
        return self.subject.partition("/")[0]

    @property
    def object_id(self) -> UUID:
        return UUID(self.subject.partition("/")[2])


def event_json_schema(contract: EventContract) -> dict[str, Any]:
    """The JSON Schema of a whole CloudEvent of this type: envelope and ``data``."""
    envelope = CloudEvent.model_json_schema()
    properties: dict[str, Any] = envelope["properties"]
    properties["type"] = {**properties["type"], "const": contract.type}
    properties["dataschema"] = {**properties["dataschema"], "const": contract.dataschema}
    properties["subject"] = {
        **properties["subject"],
        "pattern": f"^{contract.kind}/{_UUID_PATTERN}$",
    }
    data = copy.deepcopy(contract.data.model_json_schema())
    definitions: dict[str, Any] = data.pop("$defs", {})
    data_name = contract.data.__name__
    definitions[data_name] = data
    properties["data"] = {"$ref": f"#/$defs/{data_name}", "description": contract.description}
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": contract.dataschema,
        "title": contract.type,
        "description": contract.description,
        "type": "object",
        "properties": properties,
        "required": envelope["required"],
        "$defs": dict(sorted(definitions.items())),
    }
