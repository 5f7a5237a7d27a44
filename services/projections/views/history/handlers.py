"""Every event becomes one chained entry, with the changes it made to its object's fields.

The chain's head (the last entry's hash, and the latest time any entry occurred, which the time
index needs) is kept in ``hi_chain``, so a page is applied without reading the entries.
"""

from __future__ import annotations

from typing import Any

import orjson

from contracts.views.history import GENESIS_HASH
from domain import team
from domain.catalog import DomainEvent, kind_of_event
from services.projections.dispatch import Change, EventHandlers
from services.projections.readmodel import micros
from services.projections.views.history.chain import entry_hash, iso_time
from services.projections.views.history.changes import (
    MAIN,
    Fields,
    field_changes,
    fields_set,
    part_of,
)
from services.projections.views.history.tables import CHAIN, ENTRIES, OBJECTS

HANDLERS = EventHandlers()

_HEAD = ("head",)
_PARSED = "_parsed_fields"


@HANDLERS.on_every
def record(change: Change, data: DomainEvent) -> None:
    """Appends the event's entry, chained to the one before it, and keeps its object's fields."""
    # The writer itself, not ``Change``'s shorthands: this runs for every event of the log.
    writer, event, occurred = change.writer, change.event, change.at
    kind = kind_of_event(type(data))
    object_id = event.stream_id_text
    part = part_of(data)
    main = writer.get(OBJECTS.name, (object_id, MAIN))
    state = main if part == MAIN else writer.get(OBJECTS.name, (object_id, part))
    before: Fields | None = None
    if state is not None:
        # Rows this worker wrote carry their fields parsed (a key that is not a column).
        before = state.get(_PARSED)
        if before is None:
            before = orjson.loads(state["fields"])
    values = fields_set(before, data)
    if main is not None:
        # As the object's creation named it: a team's own row names the team itself.
        team_id: str | None = main["team_id"]
    elif isinstance(data, team.TeamEvent):
        team_id = object_id
    else:
        # A creation event: the object's first fields name its team, if it has one.
        team_id = values.get("team_id") if values is not None and part == MAIN else None
    changes = field_changes(part, before, values) if values is not None else []
    if values is not None and (before is None or changes):
        after = values if before is None else {**before, **values}
        writer.put(
            OBJECTS.name,
            {
                "object_id": object_id,
                "part": part,
                "team_id": team_id,
                "fields": orjson.dumps(after).decode(),
                _PARSED: after,
            },
            occurred,
            event.position,
        )
    head = writer.get(CHAIN.name, _HEAD)
    metadata = event.metadata
    recorded = micros(event.recorded_at)
    # Canonical JSON (sorted keys) once: stored as is, and hashed as is inside the entry.
    data_text = orjson.dumps(event.payload, option=orjson.OPT_SORT_KEYS).decode()
    changes_text = orjson.dumps(changes, option=orjson.OPT_SORT_KEYS).decode()
    row: dict[str, Any] = {
        "position": event.position,
        "event_id": metadata.event_id_text,
        "occurred": occurred,
        "recorded": recorded,
        "actor": metadata.actor,
        "object_kind": kind,
        "object_id": object_id,
        "event_type": event.type,
        "team_id": team_id,
        "correlation_id": metadata.correlation_id_text,
        "causation_id": metadata.causation_id_text,
        "data": data_text,
        "changes": changes_text,
        "previous_hash": head["hash"] if head is not None else GENESIS_HASH,
    }
    latest = head["occurred_max"] if head is not None else occurred
    # What ``entry_content`` reads back from the row, built without parsing it again.
    content = {
        **row,
        "occurred_at": iso_time(occurred),
        "recorded_at": iso_time(recorded),
        "data": orjson.Fragment(data_text),
        "changes": orjson.Fragment(changes_text),
    }
    del content["occurred"], content["recorded"]
    row["hash"] = entry_hash(content)
    row["occurred_max"] = max(latest, occurred)
    row["out_of_order"] = occurred < latest
    writer.append(ENTRIES.name, row)
    writer.put(
        CHAIN.name,
        {
            "chain": _HEAD[0],
            "last_position": event.position,
            "hash": row["hash"],
            "occurred_max": row["occurred_max"],
        },
        occurred,
        event.position,
    )
