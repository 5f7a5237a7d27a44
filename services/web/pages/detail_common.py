"""What the detail pages (an issue, a project, a goal) share: names for ids, one object's
figures at two moments, and the page's main part alone as the answer to a form."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from fastapi.responses import HTMLResponse

from services.infrastructure.http import ProblemError
from services.projections.query import MAX_LIMIT
from services.web.compare import Change, Figure, changes_between
from services.web.page import Page
from services.web.reads import read_history, read_members

Doc = dict[str, Any]


def names_of(*groups: Iterable[Doc], label: str = "name") -> dict[str, str]:
    """Each object's name by its id, as the history's macro looks actors and objects up."""
    return {str(item["id"]): str(item[label]) for group in groups for item in group}


async def or_none(reading: Awaitable[Doc]) -> Doc | None:
    """What ``reading`` answers, or ``None`` when there was no such object (at that moment)."""
    try:
        return await reading
    except ProblemError as refusal:
        if refusal.status == 404:
            return None
        raise


def object_changes(
    compared: Doc | None, shown: Doc, page: Page, figures: tuple[Figure, ...], name: str
) -> list[Change]:
    """The object's figures that differ between the moment compared with and the one shown
    (``compared`` is ``None`` when the object did not exist then)."""
    assert page.compare is not None
    compared_is_later = page.compare > page.moment
    before = [] if compared is None else [compared]
    earlier, later = ([shown], before) if compared_is_later else (before, [shown])
    return changes_between(earlier, later, figures, name=lambda _: name)


async def entries_between(page: Page, object_id: Any) -> Doc:
    """The object's history entries between the page's two moments, newest first: what made
    the figures differ."""
    assert page.compare is not None
    earlier, later = sorted((page.compare, page.moment))
    entries = await read_history(
        page, object_id=object_id, since=earlier, until=later, limit=100, present=True
    )
    return {
        "entries": entries["items"],
        "more": entries.get("next_cursor") is not None,
        "earlier": earlier,
        "later": later,
    }


class ReadObject(Protocol):
    """How a page reads one object (a project, a goal) at a moment: ``reads.read_project``."""

    def __call__(
        self, page: Page, object_id: UUID, /, *, as_of: datetime | None = None
    ) -> Awaitable[Doc]: ...


async def compared_changes(
    page: Page,
    read: ReadObject,
    object_id: UUID,
    shown: Doc,
    figures: tuple[Figure, ...],
    names: dict[str, str],
) -> Doc | None:
    """What a detail page shows when it is compared with another moment: the object's figures
    that differ (named by its name in ``names``) and the history entries between; ``names``
    learns the members' names the entries mention. ``None`` when the page compares nothing."""
    if page.compare is None:
        return None
    compared, members = await asyncio.gather(
        or_none(read(page, object_id, as_of=page.compare)), read_members(page)
    )
    name = names[str(shown["id"])]
    names.update(names_of(members["items"]))
    return {
        "figures": object_changes(compared, shown, page, figures, name),
        **(await entries_between(page, object_id)),
    }


async def object_history(
    page: Page,
    read: ReadObject,
    object_id: UUID,
    name: Callable[[Doc], str],
    *,
    newest_first: bool,
) -> tuple[Doc, Doc, dict[str, str]]:
    """The object, its whole history, and the names of whom and what the entries mention (the
    members and the object itself, called ``name(object)``)."""
    shown, history, members = await asyncio.gather(
        read(page, object_id),
        read_history(page, object_id=object_id, newest_first=newest_first, limit=MAX_LIMIT),
        read_members(page),
    )
    names = names_of(members["items"])
    names[str(object_id)] = name(shown)
    return shown, history, names


def moment_of(value: str) -> datetime:
    """A moment the API answered (ISO 8601, maybe with ``Z``)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def main_part(page: Page, template: str, **context: Any) -> HTMLResponse:
    """The page's main part alone, to replace the page's ``#page`` after a form changed it."""
    loaded = page.environment.get_template(template)
    values = {**page.context(), **context}
    body = "".join(loaded.blocks["main"](loaded.new_context(values)))
    headers = {"Cache-Control": "no-store", "HX-Retarget": "#page", "HX-Reswap": "innerHTML"}
    return HTMLResponse(body, headers=headers)


def dig(*keys: str) -> Callable[[Doc], Any]:
    """A figure read from a nested field."""

    def read(item: Doc) -> Any:
        value: Any = item
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return read
