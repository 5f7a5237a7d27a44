"""Team commands."""

from __future__ import annotations

from fastapi.responses import Response

from contracts import commands as body
from contracts.inputs import Id
from domain.catalog import TEAM
from services.command.actions import teams as actions
from services.command.deps import Run
from services.command.routes.common import ADMIN, MANAGER, command
from services.infrastructure.http import Routes

router = Routes(tags=["teams"])


@router.post("/teams", **command(ADMIN, created=True))
def create_team(data: body.CreateTeam, run: Run) -> Response:
    """Creates a team. Without `weekly_capacity`, its capacity is the sum of its members'.

    An admin's: a team starts with no leads, and only an admin names them."""
    return run(actions.create_team(data), payload=data)


@router.patch("/teams/{team_id}", **command(MANAGER))
def update_team(team_id: Id, data: body.UpdateTeam, run: Run) -> Response:
    """Renames a team or sets its weekly capacity (`null` returns it to the members' sum)."""
    return run(actions.update_team(team_id, data), target=(TEAM, team_id), payload=data)


@router.post("/teams/{team_id}/members", **command(MANAGER))
def add_team_member(team_id: Id, data: body.AddTeamMember, run: Run) -> Response:
    """Adds an active member to the team."""
    return run(actions.add_team_member(team_id, data), target=(TEAM, team_id), payload=data)


@router.delete("/teams/{team_id}/members/{member_id}", **command(MANAGER))
def remove_team_member(team_id: Id, member_id: Id, run: Run) -> Response:
    """Takes a member out of the team."""
    return run(actions.remove_team_member(team_id, member_id), target=(TEAM, team_id))


@router.post("/teams/{team_id}/leads", **command(ADMIN))
def add_team_lead(team_id: Id, data: body.AddTeamLead, run: Run) -> Response:
    """Makes an active member a lead of the team: a manager token acting as them manages the
    team and its work. A lead need not be one of the team's members."""
    return run(actions.add_team_lead(team_id, data), target=(TEAM, team_id), payload=data)


@router.delete("/teams/{team_id}/leads/{member_id}", **command(ADMIN))
def remove_team_lead(team_id: Id, member_id: Id, run: Run) -> Response:
    """Ends a member's lead of the team."""
    return run(actions.remove_team_lead(team_id, member_id), target=(TEAM, team_id))


@router.put("/teams/{team_id}/working-agreement", **command(MANAGER))
def set_working_agreement(team_id: Id, data: body.WorkingAgreement, run: Run) -> Response:
    """Replaces the team's working agreement; each change is a new revision."""
    return run(actions.set_working_agreement(team_id, data), target=(TEAM, team_id), payload=data)


@router.put("/teams/{team_id}/definition-of-done", **command(MANAGER))
def set_definition_of_done(team_id: Id, data: body.DefinitionOfDone, run: Run) -> Response:
    """Replaces the team's definition of done, a checklist."""
    return run(actions.set_definition_of_done(team_id, data), target=(TEAM, team_id), payload=data)
