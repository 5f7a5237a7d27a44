"""Issue commands."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi.responses import Response

from contracts import commands as body
from domain import issue
from domain.catalog import ISSUE
from services.command import actions
from services.command.deps import Run
from services.command.routes.common import CHANGED, CREATED
from services.infrastructure.http import Routes

router = Routes(tags=["issues"])


@router.post("/issues", **CREATED)
def create_issue(data: body.CreateIssue, run: Run) -> Response:
    """Creates an issue. Tasks start in `backlog`; bugs, incidents and requests in `triage`."""
    return run(actions.create_issue(data), payload=data)


@router.patch("/issues/{issue_id}", **CHANGED)
def update_issue(issue_id: UUID, data: body.UpdateIssue, run: Run) -> Response:
    """Changes the fields present in the body; `null` clears severity, estimate or due date."""
    return run(actions.update_issue(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.post("/issues/{issue_id}/assign", **CHANGED)
def assign_issue(issue_id: UUID, data: body.AssignIssue, run: Run) -> Response:
    """Assigns the issue to an active member, or unassigns it with `null`."""
    return run(actions.assign_issue(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.post("/issues/{issue_id}/transition", **CHANGED)
def transition_issue(issue_id: UUID, data: body.TransitionIssue, run: Run) -> Response:
    """Moves the issue along its workflow; any move outside it is `invalid_transition`."""
    action = actions.on_issue(issue_id, issue.TransitionIssue(data.status))
    return run(action, target=(ISSUE, issue_id), payload=data)


@router.post("/issues/{issue_id}/block", **CHANGED)
def block_issue(issue_id: UUID, data: body.BlockIssue, run: Run) -> Response:
    """Flags the issue as blocked, with a reason; its status is unchanged."""
    action = actions.on_issue(issue_id, issue.BlockIssue(data.reason))
    return run(action, target=(ISSUE, issue_id), payload=data)


@router.post("/issues/{issue_id}/unblock", **CHANGED)
def unblock_issue(issue_id: UUID, run: Run) -> Response:
    """Clears the blocked flag."""
    return run(actions.on_issue(issue_id, issue.UnblockIssue()), target=(ISSUE, issue_id))


@router.post("/issues/{issue_id}/dependencies", **CHANGED)
def add_dependency(issue_id: UUID, data: body.AddDependency, run: Run) -> Response:
    """Records that the issue waits on another; a dependency cycle is refused."""
    return run(actions.add_dependency(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.delete("/issues/{issue_id}/dependencies/{blocked_by_id}", **CHANGED)
def remove_dependency(issue_id: UUID, blocked_by_id: UUID, run: Run) -> Response:
    """Removes a dependency."""
    action = actions.on_issue(issue_id, issue.RemoveDependency(blocked_by_id))
    return run(action, target=(ISSUE, issue_id))


@router.post("/issues/{issue_id}/links", **CHANGED)
def link_issue(issue_id: UUID, data: body.LinkIssue, run: Run) -> Response:
    """Links the issue to a goal it advances, or to a project, operation or goal it `affects`."""
    return run(actions.link_issue(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.delete("/issues/{issue_id}/links/{kind}/{target_id}", **CHANGED)
def unlink_issue(
    issue_id: UUID, kind: Literal["goal", "affects"], target_id: UUID, run: Run
) -> Response:
    """Removes a link."""
    action = actions.on_issue(issue_id, issue.UnlinkIssue(kind, target_id))
    return run(action, target=(ISSUE, issue_id))


@router.post("/issues/{issue_id}/comments", **CREATED)
def comment_on_issue(issue_id: UUID, data: body.Comment, run: Run) -> Response:
    """Adds a comment; the answer names it as `comment_id`."""
    return run(actions.comment_on_issue(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.post("/issues/{issue_id}/watchers", **CHANGED)
def watch_issue(issue_id: UUID, data: body.Watch, run: Run) -> Response:
    """Adds a member to the issue's watchers."""
    return run(actions.watch_issue(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.delete("/issues/{issue_id}/watchers/{member_id}", **CHANGED)
def unwatch_issue(issue_id: UUID, member_id: UUID, run: Run) -> Response:
    """Removes a member from the issue's watchers."""
    action = actions.on_issue(issue_id, issue.UnwatchIssue(member_id))
    return run(action, target=(ISSUE, issue_id))
