"""``/search?q=``: an issue found by its key (``PAY-12``, in any case) or by words of its title,
as ``GET /v1/issues?q=`` finds them. A key that names exactly one issue opens it at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from services.projections.query import MAX_LIMIT
from services.projections.views.entities.routes import MAX_SEARCH
from services.web.page import CurrentPage, WebRoute
from services.web.reads import read_issues, read_members

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/search")
async def search_page(
    page: CurrentPage, q: Annotated[str, Query(max_length=MAX_SEARCH)] = ""
) -> Response:
    text = q.strip()
    if not text:
        return page.render("search.html", q="", issues=[], more=False, names={})
    found = await read_issues(page, q=text, limit=MAX_LIMIT)
    issues = found["items"]
    by_key = [issue for issue in issues if (issue.get("key") or "").upper() == text.upper()]
    if len(by_key) == 1:
        return RedirectResponse(page.url(f"/issues/{by_key[0]['id']}"), status_code=303)
    members = await read_members(page) if issues else {"items": []}
    return page.render(
        "search.html",
        q=text,
        issues=issues,
        more=found.get("next_cursor") is not None,
        names={str(member["id"]): member["name"] for member in members["items"]},
    )
