"""An object's rows as an event changes them: its next version, and its edges to others.

A filter column always holds the document's field of the same name, so the two never disagree.
An event whose object has no row (it was never created) changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson

from services.projections.dispatch import Change
from services.projections.readmodel import Row, Table, micros

from .tables import EDGES, OBJECTS

Doc = dict[str, Any]

_OWN_COLUMNS = ("id", "created_occurred", "created_position", "version", "doc")
_PARSED = "_parsed_doc"
# Per table, the columns that repeat a field of the document.
_FIELD_COLUMNS = {
    table.name: tuple(name for name in table.column_names if name not in _OWN_COLUMNS)
    for table in OBJECTS
}


@dataclass
class Current:
    """One object's current row and document, as one event changes them."""

    table: Table
    row: Row
    doc: Doc

    def set(self, **fields: Any) -> None:
        self.doc.update(fields)


def create(change: Change, table: Table, doc: Doc) -> None:
    """The event's object, created with ``doc`` (and when it was)."""
    doc["created_at"] = change.event.metadata.occurred_at.isoformat()
    row = {
        "id": change.subject,
        "created_occurred": micros(change.event.metadata.occurred_at),
        "created_position": change.event.position,
    }
    save(change, Current(table, row, doc))


def load(change: Change, table: Table) -> Current | None:
    """The event's object as it is, to change; ``None`` if it was never created."""
    row = change.get(table, (change.subject,))
    if row is None:
        return None
    # Rows this worker wrote carry their document parsed (a key that is not a column); a copy,
    # as the event changes it in place.
    parsed = row.get(_PARSED)
    doc = dict(parsed) if parsed is not None else orjson.loads(row["doc"])
    return Current(table, row, doc)


def save(change: Change, changed: Current) -> None:
    """The object's next version; its filter columns follow its document."""
    doc = changed.doc
    row = {
        **changed.row,
        "version": change.event.version,
        "doc": orjson.dumps(doc).decode(),
        **{name: doc.get(name) for name in _FIELD_COLUMNS[changed.table.name]},
        _PARSED: doc,
    }
    change.put(changed.table, row)


def revise(change: Change, table: Table, **fields: Any) -> None:
    """The event's object with ``fields`` set, if it was created."""
    current = load(change, table)
    if current is not None:
        current.doc.update(fields)
        save(change, current)


def link(change: Change, node: str, relation: str, other: str) -> None:
    change.put(EDGES, {"node_id": node, "relation": relation, "other_id": other})


def unlink(change: Change, node: str, relation: str, other: str) -> None:
    change.delete(EDGES, (node, relation, other))


def id_text(value: UUID | None) -> str | None:
    return str(value) if value is not None else None


def added(items: list[Any], item: Any) -> list[Any]:
    return items if item in items else [*items, item]


def removed(items: list[Any], item: Any) -> list[Any]:
    return [existing for existing in items if existing != item]
