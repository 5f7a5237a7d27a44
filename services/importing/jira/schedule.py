"""Import lines waiting for their turn, and the ids the conversion derives for new objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from contracts.commands import Body
from services.importing.lines import ImportLine, line

# Every id the conversion makes is a name in this namespace: the Jira site and what is named on
# it. Converting the same export again gives the same ids, so a retried import names the
# objects the first attempt created instead of making new ones.
NAMESPACE = uuid5(NAMESPACE_URL, "https://workledger.dev/import/jira")


def derived_id(site: str, kind: str, name: str) -> UUID:
    """The id of the object that Jira's ``kind`` named ``name`` on ``site`` becomes."""
    return uuid5(NAMESPACE, f"{site}/{kind}/{name}")


class Rank(IntEnum):
    """The order of lines that happen at the same moment: what a line needs comes first (a
    team before its members, a member before their work, an issue before changes to it), and
    a member leaves only after their last act."""

    TEAM = 0
    MEMBER = 1
    JOIN = 2
    PROJECT = 3
    ISSUE = 4
    WORK = 5
    DEACTIVATE = 6


@dataclass(frozen=True)
class Scheduled:
    at: datetime
    rank: Rank
    line: ImportLine


def schedule(
    command: str,
    at: datetime,
    rank: Rank,
    actor: UUID | None,
    body: Body | None = None,
    *,
    id: UUID | None = None,
) -> Scheduled:
    """A line whose body is a contracts model, checked as the API would and written as JSON."""
    data: dict[str, Any] | None = (
        body.model_dump(mode="json", exclude_unset=True) if body is not None else None
    )
    return Scheduled(at, rank, line(command, at, actor, data, id=id))


def in_order(scheduled: list[Scheduled]) -> list[ImportLine]:
    """The lines by time, then rank; lines equal in both keep the order they were made in."""
    return [item.line for item in sorted(scheduled, key=lambda item: (item.at, item.rank))]
