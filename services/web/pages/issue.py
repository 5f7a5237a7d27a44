"""``/issues/{id}``: one issue as ``GET /v1/issues/{id}`` answers it, its comments and every
change recorded to it, and (for people who may change work, in the present) the forms that edit,
move, assign and comment on it, each sent with the version the page was opened at."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response

from services.web.page import CurrentPage, WebRoute
from services.web.pages import detail_issue_edit
from services.web.pages.detail_issue import issue_context, links_context

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/issues/{issue_id}")
async def issue_page(issue_id: UUID, page: CurrentPage) -> Response:
    return page.render("issue.html", **(await issue_context(page, issue_id)))


@router.get("/issues/{issue_id}/links")
async def issue_links_part(issue_id: UUID, page: CurrentPage) -> Response:
    return page.render("parts/detail_issue_links.html", **(await links_context(page, issue_id)))


router.include_router(detail_issue_edit.router)
