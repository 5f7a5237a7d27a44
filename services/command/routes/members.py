"""Member commands."""

from __future__ import annotations

from fastapi.responses import Response

from contracts import commands as body
from contracts.inputs import Id
from domain.catalog import MEMBER
from services.command.actions import members as actions
from services.command.deps import Run
from services.command.routes.common import ADMIN, command
from services.infrastructure.http import Routes

router = Routes(tags=["members"])


@router.post("/members", **command(ADMIN, created=True))
def create_member(data: body.CreateMember, run: Run) -> Response:
    """Registers a member (emails are unique, case-insensitively) and adds them to teams."""
    return run(actions.create_member(data), payload=data)


@router.patch("/members/{member_id}", **command(ADMIN))
def update_member(member_id: Id, data: body.UpdateMember, run: Run) -> Response:
    """Renames a member, changes their role or their weekly capacity."""
    return run(actions.update_member(member_id, data), target=(MEMBER, member_id), payload=data)


@router.post("/members/{member_id}/deactivate", **command(ADMIN))
def deactivate_member(member_id: Id, run: Run) -> Response:
    """Deactivates a member: no new work can be assigned to them."""
    return run(actions.deactivate_member(member_id), target=(MEMBER, member_id))


@router.post("/members/{member_id}/reactivate", **command(ADMIN))
def reactivate_member(member_id: Id, run: Run) -> Response:
    """Makes a deactivated member active again."""
    return run(actions.reactivate_member(member_id), target=(MEMBER, member_id))
