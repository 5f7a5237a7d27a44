"""Issue commands."""

from __future__ import annotations

from typing import Literal

from fastapi.responses import Response

from contracts import commands as body
from contracts.inputs import Id
from domain.catalog import ISSUE
from services.command.actions import issues as actions
from services.command.deps import Run
from services.command.routes.common import MEMBER, command
from services.infrastructure.http import Routes

router = Routes(tags=["issues"])


@router.post("/issues", **command(MEMBER, created=True))
def create_issue(data: body.CreateIssue, run: Run) -> Response:
    """Creates an issue. Tasks start in `backlog`; bugs, incidents and requests in `triage`."""
    return run(actions.create_issue(data), payload=data)


@router.patch("/issues/{issue_id}", **command(MEMBER))
def update_issue(issue_id: Id, data: body.UpdateIssue, run: Run) -> Response:
    """Changes the fields present in the body; `null` clears severity, estimate or due date."""
    return run(actions.update_issue(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.post("/issues/{issue_id}/assign", **command(MEMBER))
def assign_issue(issue_id: Id, data: body.AssignIssue, run: Run) -> Response:
    """Assigns the issue to an active member, or unassigns it with `null`."""
    return run(actions.assign_issue(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.post("/issues/{issue_id}/transition", **command(MEMBER))
def transition_issue(issue_id: Id, data: body.TransitionIssue, run: Run) -> Response:
    """Moves the issue along its workflow; any move outside it is `invalid_transition`."""
    return run(actions.transition_issue(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.post("/issues/{issue_id}/block", **command(MEMBER))
def block_issue(issue_id: Id, data: body.BlockIssue, run: Run) -> Response:
    """Flags the issue as blocked, with a reason; its status is unchanged."""
    return run(actions.block_issue(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.post("/issues/{issue_id}/unblock", **command(MEMBER))
def unblock_issue(issue_id: Id, run: Run) -> Response:
    """Clears the blocked flag."""
    return run(actions.unblock_issue(issue_id), target=(ISSUE, issue_id))


@router.post("/issues/{issue_id}/dependencies", **command(MEMBER))
def add_dependency(issue_id: Id, data: body.AddDependency, run: Run) -> Response:
    """Records that the issue waits on another; a dependency cycle is refused."""
    return run(actions.add_dependency(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.delete("/issues/{issue_id}/dependencies/{blocked_by_id}", **command(MEMBER))
def remove_dependency(issue_id: Id, blocked_by_id: Id, run: Run) -> Response:
    """Removes a dependency."""
    return run(actions.remove_dependency(issue_id, blocked_by_id), target=(ISSUE, issue_id))


@router.post("/issues/{issue_id}/links", **command(MEMBER))
def link_issue(issue_id: Id, data: body.LinkIssue, run: Run) -> Response:
    """Links the issue to a goal it advances, or to a project, operation or goal it `affects`."""
    return run(actions.link_issue(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.delete("/issues/{issue_id}/links/{kind}/{target_id}", **command(MEMBER))
def unlink_issue(
    issue_id: Id, kind: Literal["goal", "affects"], target_id: Id, run: Run
) -> Response:
    """Removes a link."""
    return run(actions.unlink_issue(issue_id, kind, target_id), target=(ISSUE, issue_id))


@router.post("/issues/{issue_id}/comments", **command(MEMBER, created=True))
def comment_on_issue(issue_id: Id, data: body.Comment, run: Run) -> Response:
    """Adds a comment; the answer names it as `comment_id`."""
    return run(actions.comment_on_issue(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.post("/issues/{issue_id}/watchers", **command(MEMBER))
def watch_issue(issue_id: Id, data: body.Watch, run: Run) -> Response:
    """Adds a member to the issue's watchers."""
    return run(actions.watch_issue(issue_id, data), target=(ISSUE, issue_id), payload=data)


@router.delete("/issues/{issue_id}/watchers/{member_id}", **command(MEMBER))
def unwatch_issue(issue_id: Id, member_id: Id, run: Run) -> Response:
    """Removes a member from the issue's watchers."""
    return run(actions.unwatch_issue(issue_id, member_id), target=(ISSUE, issue_id))
