"""Member: a person who does, manages or follows work."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, assert_never, get_args
from uuid import UUID

from domain.errors import AlreadyExists, InvalidInput, InvalidTransition, NotFound
from domain.rules import require_non_negative, require_text

Role = Literal["admin", "manager", "member", "viewer"]
ROLES: tuple[Role, ...] = get_args(Role)


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively; this is the form that is stored and kept unique."""
    address = email.strip().lower()
    local, _, domain = address.partition("@")
    if (
        address.count("@") != 1
        or not local
        or "." not in domain.strip(".")
        or domain.startswith(".")
        or any(character.isspace() or not character.isprintable() for character in address)
    ):
        raise InvalidInput("email is not a valid address", field="email")
    return address


# Commands


@dataclass(frozen=True)
class RegisterMember:
    member_id: UUID
    name: str
    email: str
    role: Role
    weekly_capacity: float


@dataclass(frozen=True)
class RenameMember:
    name: str


@dataclass(frozen=True)
class ChangeMemberRole:
    role: Role


@dataclass(frozen=True)
class SetMemberCapacity:
    weekly_capacity: float


@dataclass(frozen=True)
class DeactivateMember:
    pass


@dataclass(frozen=True)
class ReactivateMember:
    pass


MemberCommand = (
    RegisterMember
    | RenameMember
    | ChangeMemberRole
    | SetMemberCapacity
    | DeactivateMember
    | ReactivateMember
)

# Events


@dataclass(frozen=True)
class MemberRegistered:
    member_id: UUID
    name: str
    email: str
    role: Role
    weekly_capacity: float


@dataclass(frozen=True)
class MemberRenamed:
    name: str


@dataclass(frozen=True)
class MemberRoleChanged:
    role: Role


@dataclass(frozen=True)
class MemberCapacitySet:
    weekly_capacity: float


@dataclass(frozen=True)
class MemberDeactivated:
    pass


@dataclass(frozen=True)
class MemberReactivated:
    pass


MemberEvent = (
    MemberRegistered
    | MemberRenamed
    | MemberRoleChanged
    | MemberCapacitySet
    | MemberDeactivated
    | MemberReactivated
)

# State


@dataclass(frozen=True)
class Member:
    id: UUID
    name: str
    email: str
    role: Role
    weekly_capacity: float
    active: bool = True


def _require_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")


def decide(command: MemberCommand, state: Member | None, now: datetime) -> list[MemberEvent]:
    """The events that ``command`` causes on a member in ``state``."""
    if isinstance(command, RegisterMember):
        if state is not None:
            raise AlreadyExists("the member exists already")
        require_non_negative(command.weekly_capacity, "weekly_capacity")
        return [
            MemberRegistered(
                command.member_id,
                require_text(command.name, "name"),
                normalise_email(command.email),
                _require_role(command.role),
                command.weekly_capacity,
            )
        ]
    if state is None:
        raise NotFound("no such member")
    match command:
        case RenameMember(name=name):
            name = require_text(name, "name")
            return [] if name == state.name else [MemberRenamed(name)]
        case ChangeMemberRole(role=role):
            role = _require_role(role)
            return [] if role == state.role else [MemberRoleChanged(role)]
        case SetMemberCapacity(weekly_capacity=capacity):
            require_non_negative(capacity, "weekly_capacity")
            return [] if capacity == state.weekly_capacity else [MemberCapacitySet(capacity)]
        case DeactivateMember():
            if not state.active:
                raise InvalidTransition("the member is deactivated already")
            return [MemberDeactivated()]
        case ReactivateMember():
            if state.active:
                raise InvalidTransition("the member is active already")
            return [MemberReactivated()]
        case _:
            assert_never(command)


def evolve(state: Member | None, event: MemberEvent) -> Member | None:
    """The member after ``event``."""
    if isinstance(event, MemberRegistered):
        return Member(event.member_id, event.name, event.email, event.role, event.weekly_capacity)
    if state is None:
        return None
    match event:
        case MemberRenamed(name=name):
            return replace(state, name=name)
        case MemberRoleChanged(role=role):
            return replace(state, role=role)
        case MemberCapacitySet(weekly_capacity=capacity):
            return replace(state, weekly_capacity=capacity)
        case MemberDeactivated():
            return replace(state, active=False)
        case MemberReactivated():
            return replace(state, active=True)
        case _:
            assert_never(event)
