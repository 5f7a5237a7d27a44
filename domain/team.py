"""Team: a group of members with a weekly capacity, a working agreement, a definition of done,
and leads: the members who manage it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import assert_never
from uuid import UUID

from domain.errors import AlreadyExists, MemberInactive, NotFound
from domain.rules import require_non_negative, require_text

# Commands


@dataclass(frozen=True)
class CreateTeam:
    team_id: UUID
    name: str
    weekly_capacity: float | None = None


@dataclass(frozen=True)
class RenameTeam:
    name: str


@dataclass(frozen=True)
class SetTeamCapacity:
    """``None`` returns the team to the default: the sum of its members' capacities."""

    weekly_capacity: float | None


@dataclass(frozen=True)
class AddTeamMember:
    member_id: UUID
    member_active: bool


@dataclass(frozen=True)
class RemoveTeamMember:
    member_id: UUID


@dataclass(frozen=True)
class AddTeamLead:
    """A lead manages the team; they need not be one of its members (whose capacity it counts)."""

    member_id: UUID
    member_active: bool


@dataclass(frozen=True)
class RemoveTeamLead:
    member_id: UUID


@dataclass(frozen=True)
class SetWorkingAgreement:
    text: str


@dataclass(frozen=True)
class SetDefinitionOfDone:
    items: tuple[str, ...]


TeamCommand = (
    CreateTeam
    | RenameTeam
    | SetTeamCapacity
    | AddTeamMember
    | RemoveTeamMember
    | AddTeamLead
    | RemoveTeamLead
    | SetWorkingAgreement
    | SetDefinitionOfDone
)

# Events


@dataclass(frozen=True)
class TeamCreated:
    team_id: UUID
    name: str
    weekly_capacity: float | None


@dataclass(frozen=True)
class TeamRenamed:
    name: str


@dataclass(frozen=True)
class TeamCapacitySet:
    weekly_capacity: float | None


@dataclass(frozen=True)
class TeamMemberAdded:
    member_id: UUID


@dataclass(frozen=True)
class TeamMemberRemoved:
    member_id: UUID


@dataclass(frozen=True)
class TeamLeadAdded:
    member_id: UUID


@dataclass(frozen=True)
class TeamLeadRemoved:
    member_id: UUID


@dataclass(frozen=True)
class WorkingAgreementUpdated:
    text: str
    revision: int


@dataclass(frozen=True)
class DefinitionOfDoneUpdated:
    items: tuple[str, ...]


TeamEvent = (
    TeamCreated
    | TeamRenamed
    | TeamCapacitySet
    | TeamMemberAdded
    | TeamMemberRemoved
    | TeamLeadAdded
    | TeamLeadRemoved
    | WorkingAgreementUpdated
    | DefinitionOfDoneUpdated
)

# State


@dataclass(frozen=True)
class Team:
    id: UUID
    name: str
    weekly_capacity: float | None
    member_ids: frozenset[UUID] = frozenset()
    working_agreement: str = ""
    agreement_revision: int = 0
    definition_of_done: tuple[str, ...] = ()
    lead_ids: frozenset[UUID] = frozenset()


def decide(command: TeamCommand, state: Team | None, now: datetime) -> list[TeamEvent]:
    """The events that ``command`` causes on a team in ``state`` (``None``: not created yet)."""
    if isinstance(command, CreateTeam):
        if state is not None:
            raise AlreadyExists("the team exists already")
        require_non_negative(command.weekly_capacity, "weekly_capacity")
        name = require_text(command.name, "name")
        return [TeamCreated(command.team_id, name, command.weekly_capacity)]
    if state is None:
        raise NotFound("no such team")
    match command:
        case RenameTeam(name=name):
            name = require_text(name, "name")
            return [] if name == state.name else [TeamRenamed(name)]
        case SetTeamCapacity(weekly_capacity=capacity):
            require_non_negative(capacity, "weekly_capacity")
            return [] if capacity == state.weekly_capacity else [TeamCapacitySet(capacity)]
        case AddTeamMember(member_id=member_id, member_active=active):
            if not active:
                raise MemberInactive("a deactivated member can't join a team", field="member_id")
            return [] if member_id in state.member_ids else [TeamMemberAdded(member_id)]
        case RemoveTeamMember(member_id=member_id):
            if member_id not in state.member_ids:
                raise NotFound("the member is not in this team", field="member_id")
            return [TeamMemberRemoved(member_id)]
        case AddTeamLead(member_id=member_id, member_active=active):
            if not active:
                raise MemberInactive("a deactivated member can't lead a team", field="member_id")
            return [] if member_id in state.lead_ids else [TeamLeadAdded(member_id)]
        case RemoveTeamLead(member_id=member_id):
            if member_id not in state.lead_ids:
                raise NotFound("the member does not lead this team", field="member_id")
            return [TeamLeadRemoved(member_id)]
        case SetWorkingAgreement(text=text):
            if text == state.working_agreement:
                return []
            return [WorkingAgreementUpdated(text, state.agreement_revision + 1)]
        case SetDefinitionOfDone(items=items):
            cleaned = tuple(require_text(item, "items") for item in items)
            return [] if cleaned == state.definition_of_done else [DefinitionOfDoneUpdated(cleaned)]
        case _:
            assert_never(command)


def evolve(state: Team | None, event: TeamEvent) -> Team | None:
    """The team after ``event``. Total: an event is a fact and is never refused."""
    if isinstance(event, TeamCreated):
        return Team(event.team_id, event.name, event.weekly_capacity)
    if state is None:
        return None
    match event:
        case TeamRenamed(name=name):
            return replace(state, name=name)
        case TeamCapacitySet(weekly_capacity=capacity):
            return replace(state, weekly_capacity=capacity)
        case TeamMemberAdded(member_id=member_id):
            return replace(state, member_ids=state.member_ids | {member_id})
        case TeamMemberRemoved(member_id=member_id):
            return replace(state, member_ids=state.member_ids - {member_id})
        case TeamLeadAdded(member_id=member_id):
            return replace(state, lead_ids=state.lead_ids | {member_id})
        case TeamLeadRemoved(member_id=member_id):
            return replace(state, lead_ids=state.lead_ids - {member_id})
        case WorkingAgreementUpdated(text=text, revision=revision):
            return replace(state, working_agreement=text, agreement_revision=revision)
        case DefinitionOfDoneUpdated(items=items):
            return replace(state, definition_of_done=items)
        case _:
            assert_never(event)
