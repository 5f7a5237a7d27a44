"""Writes the published contracts into ``contracts/schemas/``: ``python -m contracts.generate``.

One JSON Schema per event type and version (``workledger.issue.assigned.v1.json``), each
describing the whole CloudEvent, and one AsyncAPI 3.0 document (``asyncapi.json``) describing
the Kafka topic and the Server-Sent Events channel. The files are checked in; the suite fails when
they differ from what this module generates, so run ``make contracts`` after changing a contract.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from contracts.cloudevents import (
    DATA_CONTENT_TYPE,
    SPEC_VERSION,
    STRUCTURED_CONTENT_TYPE,
    event_json_schema,
)
from contracts.events import EventCatalog, EventContract

SCHEMAS_DIR = Path(__file__).parent / "schemas"
ASYNCAPI_FILE = "asyncapi.json"
DEFAULT_KAFKA_TOPIC = "workledger.events"
KAFKA_BINDING_VERSION = "0.5.0"
HTTP_BINDING_VERSION = "0.3.0"

KAFKA_DESCRIPTION = f"""\
Every event of the log, published by the relay (`workledger relay`) in log order.

- One record per event; its value is the CloudEvent as structured JSON (the Kafka header
  `content-type` is `{STRUCTURED_CONTENT_TYPE}`), and its key is the id of the object the event
  happened to, so each object's events stay in order within one partition.
- Delivery is at least once: after a crash of the relay or an outage of the broker, the relay may
  publish again events the broker had already taken. Deduplicate on the CloudEvent `id`.
- Records carry the latest version of each event type. Versions only add fields, so a consumer
  written for an earlier version parses later ones by ignoring the fields it doesn't know.
- The topic's name (default `{DEFAULT_KAFKA_TOPIC}`), partitions and replication are settings
  of the deployment; the relay creates the topic when it is missing."""

SSE_DESCRIPTION = """\
`GET /v1/events/stream` with `Authorization: Bearer <token>`: the log as Server-Sent Events.

- Each SSE event's `id` is the event's position in the log and its `data` is the CloudEvent as
  structured JSON; the SSE event name is the default (`message`).
- `after=<position>` starts right after that position; without it the stream starts live, at the
  end of the log. On reconnect, `Last-Event-ID` resumes right after the last event received, with
  no event missed or repeated.
- Comment lines (`: keep-alive`) arrive when nothing else has been sent for a while.
- `type=` (repeatable) keeps only those types; a versioned type of an earlier version, such as
  `workledger.issue.commented.v1`, is served in that version. `object_id=` keeps one object's.
- The paged form of the same log is `GET /v1/events?after=&limit=`."""


def _message(contract: EventContract, *, kafka: bool) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": contract.type,
        "title": contract.type,
        "summary": contract.description.splitlines()[0],
        "description": contract.description,
        "contentType": STRUCTURED_CONTENT_TYPE if kafka else "application/json",
        "correlationId": {
            "description": "Shared by every event one request caused.",
            "location": "$message.payload#/correlationid",
        },
        "payload": {
            "schemaFormat": "application/schema+json;version=draft-2020-12",
            "schema": {"$ref": f"./{contract.schema_file}"},
        },
    }
    if kafka:
        message["headers"] = {
            "type": "object",
            "properties": {"content-type": {"type": "string", "const": STRUCTURED_CONTENT_TYPE}},
        }
        message["bindings"] = {
            "kafka": {
                "key": {
                    "type": "string",
                    "format": "uuid",
                    "description": "The id of the object the event happened to.",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        }
    return message


def _message_key(contract: EventContract) -> str:
    return contract.type.replace(".", "_")


def asyncapi_document(catalog: EventCatalog) -> dict[str, Any]:
    """The AsyncAPI 3.0 description of both ways to subscribe to the log."""
    latest = [contract for contract in catalog.contracts if catalog.is_latest(contract)]
    every = list(catalog.contracts)
    messages: dict[str, Any] = {}
    for contract in every:
        key = _message_key(contract)
        messages[f"kafka_{key}"] = _message(contract, kafka=True)
        messages[f"sse_{key}"] = _message(contract, kafka=False)
    kafka_messages = {
        _message_key(c): {"$ref": f"#/components/messages/kafka_{_message_key(c)}"} for c in latest
    }
    sse_messages = {
        _message_key(c): {"$ref": f"#/components/messages/sse_{_message_key(c)}"} for c in every
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "workledger events",
            "version": "1",
            "description": (
                "Every change to teams, members, goals, projects, issues and operations is an "
                "immutable event in workledger's log. Subscribe to it on Kafka or over "
                f"Server-Sent Events; each event is a CloudEvents {SPEC_VERSION} document whose "
                "`type` is `workledger.<object>.<fact>.v<version>`, whose `data` is "
                f"{DATA_CONTENT_TYPE} described by the JSON Schema its `dataschema` names, and "
                "whose `sequence` is its position in the log."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "The brokers of WORKLEDGER_KAFKA_BOOTSTRAP_SERVERS.",
            },
            "http": {
                "host": "localhost:8000",
                "protocol": "http",
                "description": "The workledger API (`workledger serve`).",
                "security": [{"$ref": "#/components/securitySchemes/bearer"}],
            },
        },
        "channels": {
            "events": {
                "address": DEFAULT_KAFKA_TOPIC,
                "title": "The event log on Kafka",
                "description": KAFKA_DESCRIPTION,
                "servers": [{"$ref": "#/servers/kafka"}],
                "messages": kafka_messages,
                "bindings": {
                    "kafka": {"topic": DEFAULT_KAFKA_TOPIC, "bindingVersion": KAFKA_BINDING_VERSION}
                },
            },
            "eventStream": {
                "address": "/v1/events/stream",
                "title": "The event log as Server-Sent Events",
                "description": SSE_DESCRIPTION,
                "servers": [{"$ref": "#/servers/http"}],
                "messages": sse_messages,
                "bindings": {
                    "http": {"method": "GET", "bindingVersion": HTTP_BINDING_VERSION},
                },
            },
        },
        "operations": {
            "publishEvents": {
                "action": "send",
                "title": "The relay publishes every event to Kafka",
                "channel": {"$ref": "#/channels/events"},
                "messages": [
                    {"$ref": f"#/channels/events/messages/{key}"} for key in kafka_messages
                ],
            },
            "streamEvents": {
                "action": "send",
                "title": "The API streams every event to a subscriber",
                "channel": {"$ref": "#/channels/eventStream"},
                "messages": [
                    {"$ref": f"#/channels/eventStream/messages/{key}"} for key in sse_messages
                ],
            },
        },
        "components": {
            "messages": messages,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `workledger token create`; any role may read.",
                }
            },
        },
    }


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generate(catalog: EventCatalog | None = None) -> dict[str, str]:
    """Every file of ``contracts/schemas/``, by name, as the code defines it now."""
    catalog = catalog or EventCatalog()
    files = {
        contract.schema_file: _dump(event_json_schema(contract)) for contract in catalog.contracts
    }
    files[ASYNCAPI_FILE] = _dump(asyncapi_document(catalog))
    return files


def differences(directory: Path = SCHEMAS_DIR) -> list[str]:
    """The files of ``directory`` that are missing, stale or no longer generated."""
    expected = generate()
    present = {path.name for path in directory.glob("*.json")}
    problems = [f"{name} is missing" for name in sorted(expected.keys() - present)] + [
        f"{name} is no longer generated" for name in sorted(present - expected.keys())
    ]
    for name in sorted(expected.keys() & present):
        if (directory / name).read_text(encoding="utf-8") != expected[name]:
            problems.append(f"{name} differs from what the code generates")
    return problems


def write(directory: Path = SCHEMAS_DIR) -> list[str]:
    """Brings ``directory`` up to date; the names of the files written or removed."""
    directory.mkdir(parents=True, exist_ok=True)
    expected = generate()
    changed: list[str] = []
    for path in sorted(directory.glob("*.json")):
        if path.name not in expected:
            path.unlink()
            changed.append(path.name)
    for name, text in expected.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contracts.generate", description="Write contracts/schemas/."
    )
    parser.add_argument(
        "--check", action="store_true", help="only report files that are out of date"
    )
    args = parser.parse_args(argv)
    if args.check:
        problems = differences()
        for problem in problems:
            print(f"contracts/schemas/{problem}", file=sys.stderr)
        return 1 if problems else 0
    changed = write()
    print(f"contracts/schemas/: {len(changed)} file(s) written or removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
