"""The issue page's forms: edit its fields, move it along its workflow, assign it, comment on it.

Each runs the command API's own route with ``If-Match`` set to the version the page was opened
at, so a form sent after someone else changed the issue is refused ("changed since you opened
it") and overwrites nothing. The answer is the page's main part, read again once the views have
applied the change, with a confirmation; a plain form post (no script) is sent back to the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from contracts.commands import AssignIssue, Comment, TransitionIssue, UpdateIssue
from services.command.routes import issues
from services.infrastructure.http import ProblemError
from services.web.commands import FormFields, body_of, read_form, run_command
from services.web.page import CurrentPage, Page, WebRoute
from services.web.pages.detail_common import Doc, main_part
from services.web.pages.detail_issue import issue_context
from services.web.reads import read_issue
from services.web.render import label

router = APIRouter(route_class=WebRoute, include_in_schema=False)


async def _form(page: Page) -> tuple[FormFields, int]:
    """The form sent, once it is known to be ours and its sender may change work; and the
    version of the issue the page showed."""
    form = await read_form(page)
    if not page.may_change_work:
        raise ProblemError(
            403, "forbidden", f"work can't be changed by a {page.principal.role} or in the past"
        )
    version = form.whole("version")
    if version is None:
        raise ProblemError(422, "validation_error", "the form lacks the version it was opened at")
    return form, version


def _edited(form: FormFields, issue: Doc) -> dict[str, Any]:
    """The fields the form sets to something other than what the issue holds."""
    title = form.required("title")
    priority = form.required("priority")
    estimate = form.number("estimate")
    due = form.day("due_date")
    due_date = due.isoformat() if due is not None else None
    values: dict[str, Any] = {}
    if title != issue["title"]:
        values["title"] = title
    if priority != issue["priority"]:
        values["priority"] = priority
    held = issue.get("estimate")
    if estimate != (float(held) if held is not None else None):
        values["estimate"] = estimate
    if due_date != issue.get("due_date"):
        values["due_date"] = due_date
    return values


async def _answer(page: Page, issue_id: UUID, notice: str, done: dict[str, Any] | None) -> Response:
    """The issue page again, as the command left it, with ``notice``."""
    if done is not None:
        page.min_position = int(done["position"])
    if not page.request.headers.get("hx-request"):
        after = f"?min_position={page.min_position}" if page.min_position is not None else ""
        return RedirectResponse(f"/issues/{issue_id}{after}", status_code=303)
    context = await issue_context(page, issue_id)
    context["notice"] = notice
    return main_part(page, "issue.html", **context)


async def _run(
    page: Page,
    issue_id: UUID,
    version: int,
    command: Callable[..., Response],
    body: Any,
    notice: str,
) -> Response:
    """Runs the command route ``command`` on the issue with ``body``, if the issue is still at
    ``version``; the page again with ``notice``."""
    done = await run_command(page, command, if_match=version, issue_id=issue_id, data=body)
    return await _answer(page, issue_id, notice, done)


@router.post("/issues/{issue_id}/edit")
async def edit_issue(issue_id: UUID, page: CurrentPage) -> Response:
    form, version = await _form(page)
    values = _edited(form, await read_issue(page, issue_id))
    if not values:
        return await _answer(page, issue_id, "Nothing to save: every field is as it was.", None)
    changed = ", ".join(label(name) for name in values)
    body = body_of(UpdateIssue, values)
    return await _run(page, issue_id, version, issues.update_issue, body, f"Saved: {changed}.")


@router.post("/issues/{issue_id}/transition")
async def transition_issue(issue_id: UUID, page: CurrentPage) -> Response:
    form, version = await _form(page)
    status = form.required("status")
    body = body_of(TransitionIssue, {"status": status})
    moved = f"Moved to {label(status)}."
    return await _run(page, issue_id, version, issues.transition_issue, body, moved)


@router.post("/issues/{issue_id}/assign")
async def assign_issue(issue_id: UUID, page: CurrentPage) -> Response:
    form, version = await _form(page)
    assignee = form.uuid("assignee_id")
    body = body_of(AssignIssue, {"assignee_id": str(assignee) if assignee else None})
    notice = "Assigned." if assignee else "Unassigned."
    return await _run(page, issue_id, version, issues.assign_issue, body, notice)


@router.post("/issues/{issue_id}/comment")
async def comment_on_issue(issue_id: UUID, page: CurrentPage) -> Response:
    form, version = await _form(page)
    body = body_of(Comment, {"body": form.required("body")})
    return await _run(page, issue_id, version, issues.comment_on_issue, body, "Comment added.")
