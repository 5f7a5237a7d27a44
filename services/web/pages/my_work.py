"""``/my-work``: what an individual contributor reads — their open work in the queue's order,
each item with the reasons for its place and its context: project, goals, what it blocks and who
waits on it. Comparing two moments lists what entered or left the queue and what moved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.infrastructure.http import ProblemError
from services.web.page import CurrentPage, Page, WebRoute
from services.web.reads import read_members, read_queue

router = APIRouter(route_class=WebRoute, include_in_schema=False)

MemberChoice = Annotated[UUID | None, Query(description="Whose queue to show.")]


@dataclass(frozen=True)
class QueueMove:
    """An item that entered or left the queue, or changed rank (1 is first), between two
    moments; a rank is ``None`` where the item was not in the queue."""

    item_id: str
    name: str
    earlier: int | None
    later: int | None

    @property
    def change(self) -> str:
        if self.earlier is None:
            return "entered"
        if self.later is None:
            return "left"
        return "moved up" if self.later < self.earlier else "moved down"


def item_name(item: dict[str, Any]) -> str:
    """An item as a person names it: an issue by its key and title, an occurrence by its
    operation and due date."""
    if item.get("key"):
        return f"{item['key']} {item['title']}"
    name = str(item["title"])
    operation = item.get("operation")
    if operation and operation["title"] != name:
        name = f"{operation['title']}: {name}"
    if item["kind"] == "occurrence" and item.get("due_date"):
        name += f" (due {item['due_date']})"
    return name


def queue_moves(earlier: list[dict[str, Any]], later: list[dict[str, Any]]) -> list[QueueMove]:
    """What entered, left or moved between two readings of a queue, in the later order (what
    left last, in its earlier order)."""
    ranks_before = {str(item["id"]): rank for rank, item in enumerate(earlier, 1)}
    ranks_after = {str(item["id"]): rank for rank, item in enumerate(later, 1)}
    moves = [
        QueueMove(key, item_name(item), ranks_before.get(key), rank)
        for rank, item in enumerate(later, 1)
        if ranks_before.get(key := str(item["id"])) != rank
    ]
    moves += [
        QueueMove(key, item_name(item), rank, None)
        for rank, item in enumerate(earlier, 1)
        if (key := str(item["id"])) not in ranks_after
    ]
    return moves


async def _queue_then(page: Page, member_id: UUID) -> list[dict[str, Any]]:
    """The queue's items at the compared moment (none if the member was not registered yet)."""
    assert page.compare is not None
    try:
        then = await read_queue(page, member_id, as_of=page.compare)
    except ProblemError as refusal:
        if refusal.status == 404:
            return []
        raise
    items: list[dict[str, Any]] = then["items"]
    return items


async def _changes(page: Page, member_id: UUID, shown: list[dict[str, Any]]) -> dict[str, Any]:
    assert page.compare is not None
    compared = await _queue_then(page, member_id)
    earlier, later = sorted((page.compare, page.moment))
    before, after = (shown, compared) if page.compare > page.moment else (compared, shown)
    return {"moves": queue_moves(before, after), "earlier": earlier, "later": later}


@router.get("/my-work")
async def my_work_page(page: CurrentPage, member: MemberChoice = None) -> Response:
    member_id = member or page.principal.member_id
    if member_id is None:
        # A token acting for no member (a service's, an admin's) has no queue of its own.
        members = (await read_members(page))["items"]
        ordered = sorted(members, key=lambda one: (str(one["name"]).casefold(), str(one["id"])))
        return page.render("my_work.html", queue=None, members=ordered, changes=None, own=False)
    queue = await read_queue(page, member_id)
    changes = await _changes(page, member_id, queue["items"]) if page.compare else None
    return page.render(
        "my_work.html",
        queue=queue,
        members=None,
        changes=changes,
        own=member_id == page.principal.member_id,
    )
