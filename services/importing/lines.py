"""The import line: one command of the public API as it happened.

A line is a JSON object ``{"command": "<METHOD> <path>", "body": {...}, "occurred_at": ...,
"actor_id": ..., "id": ...}``. ``occurred_at`` is when the command happened (an ISO 8601 time
with its zone), ``actor_id`` the member who did it (``null``: the system), and ``id``, on a
command that creates an object, the id that object gets, so later lines can refer to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, NotRequired, TypedDict
from uuid import UUID

import orjson


class ImportLine(TypedDict):
    command: str
    occurred_at: str
    actor_id: str | None
    body: NotRequired[dict[str, Any]]
    id: NotRequired[str]


def line(
    command: str,
    occurred_at: datetime,
    actor_id: UUID | None,
    body: dict[str, Any] | None = None,
    *,
    id: UUID | None = None,
) -> ImportLine:
    """One import line; ``occurred_at`` must carry its zone (it is written in UTC)."""
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at needs a time zone")
    made: ImportLine = {
        "command": command,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(),
        "actor_id": str(actor_id) if actor_id is not None else None,
    }
    if body is not None:
        made["body"] = body
    if id is not None:
        made["id"] = str(id)
    return made


def dump_line(made: ImportLine) -> bytes:
    """A line as JSON Lines text, newline included (UUIDs and dates in a body are written as
    their ISO or canonical strings)."""
    return orjson.dumps(made) + b"\n"


def dump_lines(lines: Iterable[ImportLine]) -> Iterator[bytes]:
    for made in lines:
        yield dump_line(made)
