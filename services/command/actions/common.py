"""What every command's action is made of: one generic action for a command on one object that
needs no lookups, and the checks several commands share.

An *action* is what the command handler runs against a ``Session``: it loads what the command
needs, asks the domain to decide, and names the object it answers for. Ids of new objects are
chosen when the action is made, outside it, so an action decided again creates the same object.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel

from domain.catalog import MEMBER, Aggregate
from domain.errors import InvalidInput
from services.command.handler import Action, Reply, Session

# Traversals of the issue and goal graphs stop here: far beyond any real hierarchy.
MAX_GRAPH_NODES = 10_000


def on(
    aggregate: Aggregate[Any, Any, Any],
    stream_id: UUID,
    command: Any,
    *,
    extra: dict[str, Any] | None = None,
    created: bool = False,
) -> Action:
    """A command on one existing object that needs nothing else looked up (a transition, a
    pause, a check-in ...); it answers for that object."""
    field = f"{aggregate.kind}_id"

    def action(s: Session) -> Reply:
        s.require(aggregate, stream_id, field)
        s.decide(aggregate, stream_id, command)
        return Reply(stream_id, created=created, extra=extra or {})

    return action


def member_active(s: Session, member_id: UUID | None, field: str) -> bool:
    """Whether the member named in ``field`` may be given work (no member: nothing to check)."""
    if member_id is None:
        return True
    return bool(s.require(MEMBER, member_id, field).active)


def refuse_nulls(data: BaseModel, fields: tuple[str, ...]) -> None:
    """A field that can't be empty may be left out of a PATCH, but not set to ``null``."""
    for name in fields:
        if name in data.model_fields_set and getattr(data, name) is None:
            raise InvalidInput(f"{name} can't be null; leave it out to keep it", field=name)
