"""Member commands."""

from __future__ import annotations

from uuid import UUID

from contracts import commands as body
from domain import member, team
from domain.catalog import MEMBER, TEAM
from services.command.actions.common import on, refuse_nulls
from services.command.handler import Action, Reply, Session
from services.infrastructure.ids import new_id


def create_member(data: body.CreateMember) -> Action:
    member_id = new_id()

    def action(s: Session) -> Reply:
        events = s.decide(
            MEMBER,
            member_id,
            member.RegisterMember(
                member_id, data.name, data.email, data.role, data.weekly_capacity
            ),
        )
        registered = events[0]
        assert isinstance(registered, member.MemberRegistered)
        s.claim("member.email", registered.email, member_id)
        for team_id in dict.fromkeys(data.team_ids):
            s.require(TEAM, team_id, "team_ids")
            s.decide(TEAM, team_id, team.AddTeamMember(member_id, member_active=True))
        return Reply(member_id, created=True)

    return action


def update_member(member_id: UUID, data: body.UpdateMember) -> Action:
    refuse_nulls(data, ("name", "role", "weekly_capacity"))

    def action(s: Session) -> Reply:
        s.require(MEMBER, member_id, "member_id")
        if data.name is not None:
            s.decide(MEMBER, member_id, member.RenameMember(data.name))
        if data.role is not None:
            s.decide(MEMBER, member_id, member.ChangeMemberRole(data.role))
        if data.weekly_capacity is not None:
            s.decide(MEMBER, member_id, member.SetMemberCapacity(data.weekly_capacity))
        return Reply(member_id)

    return action


def deactivate_member(member_id: UUID) -> Action:
    return on(MEMBER, member_id, member.DeactivateMember())


def reactivate_member(member_id: UUID) -> Action:
    return on(MEMBER, member_id, member.ReactivateMember())
