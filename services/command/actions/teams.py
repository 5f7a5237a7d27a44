"""Team commands."""

from __future__ import annotations

from uuid import UUID

from contracts import commands as body
from domain import team
from domain.catalog import TEAM
from services.command.actions.common import member_active, on, refuse_nulls
from services.command.handler import Action, Reply, Session
from services.infrastructure.ids import new_id


def create_team(data: body.CreateTeam) -> Action:
    team_id = new_id()

    def action(s: Session) -> Reply:
        s.decide(TEAM, team_id, team.CreateTeam(team_id, data.name, data.weekly_capacity))
        return Reply(team_id, created=True)

    return action


def update_team(team_id: UUID, data: body.UpdateTeam) -> Action:
    refuse_nulls(data, ("name",))

    def action(s: Session) -> Reply:
        s.require(TEAM, team_id, "team_id")
        if "name" in data.model_fields_set and data.name is not None:
            s.decide(TEAM, team_id, team.RenameTeam(data.name))
        if "weekly_capacity" in data.model_fields_set:
            s.decide(TEAM, team_id, team.SetTeamCapacity(data.weekly_capacity))
        return Reply(team_id)

    return action


def add_team_member(team_id: UUID, data: body.AddTeamMember) -> Action:
    def action(s: Session) -> Reply:
        s.require(TEAM, team_id, "team_id")
        active = member_active(s, data.member_id, "member_id")
        s.decide(TEAM, team_id, team.AddTeamMember(data.member_id, active))
        return Reply(team_id)

    return action


def remove_team_member(team_id: UUID, member_id: UUID) -> Action:
    def action(s: Session) -> Reply:
        s.require(TEAM, team_id, "team_id")
        s.decide(TEAM, team_id, team.RemoveTeamMember(member_id))
        return Reply(team_id)

    return action


def add_team_lead(team_id: UUID, data: body.AddTeamLead) -> Action:
    def action(s: Session) -> Reply:
        s.require(TEAM, team_id, "team_id")
        active = member_active(s, data.member_id, "member_id")
        s.decide(TEAM, team_id, team.AddTeamLead(data.member_id, active))
        return Reply(team_id)

    return action


def remove_team_lead(team_id: UUID, member_id: UUID) -> Action:
    return on(TEAM, team_id, team.RemoveTeamLead(member_id))


def set_working_agreement(team_id: UUID, data: body.WorkingAgreement) -> Action:
    return on(TEAM, team_id, team.SetWorkingAgreement(data.text))


def set_definition_of_done(team_id: UUID, data: body.DefinitionOfDone) -> Action:
    return on(TEAM, team_id, team.SetDefinitionOfDone(tuple(data.items)))
