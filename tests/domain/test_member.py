"""Specification of the member aggregate: registration, profile changes, deactivation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast
from uuid import uuid4

import pytest

from domain import member
from domain.errors import AlreadyExists, InvalidInput, InvalidTransition, NotFound
from tests.domain.spec import Spec

spec = Spec(member.decide, member.evolve)
ALICE = uuid4()

registered = member.MemberRegistered(ALICE, "Alice", "alice@example.com", "member", 20.0)
deactivated = member.MemberDeactivated()


def register(**changes: Any) -> member.RegisterMember:
    """A valid RegisterMember, with ``changes`` applied."""
    command = member.RegisterMember(ALICE, "Alice", "alice@example.com", "member", 20.0)
    return replace(command, **changes)


def unknown_role() -> member.Role:
    """A role outside the four known ones, as a caller bypassing the type checker sends it."""
    return cast(member.Role, "owner")


# Registration


def test_a_member_is_registered_with_a_trimmed_name_and_a_normalised_email() -> None:
    command = register(name="  Alice ", email="  Alice@Example.COM ")
    assert spec.given().when(command) == [registered]


def test_a_registered_member_is_active() -> None:
    state = spec.state(registered)
    assert state == member.Member(ALICE, "Alice", "alice@example.com", "member", 20.0, active=True)


def test_a_member_can_not_be_registered_twice() -> None:
    spec.given(registered).rejects(register(), AlreadyExists)


def test_registering_an_existing_member_is_refused_before_the_input_is_checked() -> None:
    spec.given(registered).rejects(register(email="not an email"), AlreadyExists)


def test_a_member_needs_a_name() -> None:
    error = spec.given().rejects(register(name="   "), InvalidInput)
    assert error.field == "name"


@pytest.mark.parametrize(
    "email",
    [
        "alice",
        "alice.example.com",
        "@example.com",
        "alice@",
        "alice@example",
        "alice@.example.com",
        "ali ce@example.com",
        "alice@exa mple.com",
        "",
        "   ",
    ],
)
def test_an_invalid_email_is_refused(email: str) -> None:
    error = spec.given().rejects(register(email=email), InvalidInput)
    assert error.field == "email"


@pytest.mark.parametrize(
    "email",
    ["alice@evil@example.com", "ali\tce@example.com", "ali\x00ce@example.com"],
    ids=["two-at-signs", "tab", "nul"],
)
def test_an_email_with_a_second_at_sign_or_a_control_character_is_refused(email: str) -> None:
    error = spec.given().rejects(register(email=email), InvalidInput)
    assert error.field == "email"


@pytest.mark.parametrize("role", member.ROLES)
def test_each_known_role_can_be_given_at_registration(role: member.Role) -> None:
    assert spec.given().when(register(role=role)) == [replace(registered, role=role)]


def test_an_unknown_role_is_refused_at_registration() -> None:
    error = spec.given().rejects(register(role=unknown_role()), InvalidInput)
    assert error.field == "role"


def test_a_negative_capacity_is_refused_at_registration() -> None:
    error = spec.given().rejects(register(weekly_capacity=-0.5), InvalidInput)
    assert error.field == "weekly_capacity"


def test_a_member_may_have_no_capacity_at_all() -> None:
    assert spec.given().when(register(weekly_capacity=0.0)) == [
        replace(registered, weekly_capacity=0.0)
    ]


def test_a_capacity_that_is_not_a_number_is_refused() -> None:
    error = spec.given().rejects(register(weekly_capacity=float("nan")), InvalidInput)
    assert error.field == "weekly_capacity"


# Commands on a member that does not exist


@pytest.mark.parametrize(
    "command",
    [
        member.RenameMember("Alice"),
        member.ChangeMemberRole("admin"),
        member.SetMemberCapacity(10.0),
        member.DeactivateMember(),
        member.ReactivateMember(),
    ],
    ids=lambda command: type(command).__name__,
)
def test_commands_on_a_missing_member_are_not_found(command: member.MemberCommand) -> None:
    spec.given().rejects(command, NotFound)


# Renaming


def test_a_member_is_renamed_with_a_trimmed_name() -> None:
    assert spec.given(registered).when(member.RenameMember(" Alice Smith ")) == [
        member.MemberRenamed("Alice Smith")
    ]


def test_renaming_to_the_same_name_changes_nothing() -> None:
    assert spec.given(registered).when(member.RenameMember("  Alice  ")) == []


def test_a_member_can_not_be_renamed_to_nothing() -> None:
    error = spec.given(registered).rejects(member.RenameMember(" "), InvalidInput)
    assert error.field == "name"


# Role


def test_a_members_role_is_changed() -> None:
    assert spec.given(registered).when(member.ChangeMemberRole("manager")) == [
        member.MemberRoleChanged("manager")
    ]


def test_changing_to_the_same_role_changes_nothing() -> None:
    assert spec.given(registered).when(member.ChangeMemberRole("member")) == []


def test_an_unknown_role_is_refused_on_change() -> None:
    error = spec.given(registered).rejects(member.ChangeMemberRole(unknown_role()), InvalidInput)
    assert error.field == "role"


# Capacity


def test_a_members_capacity_is_set() -> None:
    assert spec.given(registered).when(member.SetMemberCapacity(12.5)) == [
        member.MemberCapacitySet(12.5)
    ]


def test_setting_the_same_capacity_changes_nothing() -> None:
    assert spec.given(registered).when(member.SetMemberCapacity(20.0)) == []


def test_a_negative_capacity_is_refused_on_change() -> None:
    error = spec.given(registered).rejects(member.SetMemberCapacity(-1.0), InvalidInput)
    assert error.field == "weekly_capacity"


# Deactivation


def test_an_active_member_is_deactivated() -> None:
    assert spec.given(registered).when(member.DeactivateMember()) == [deactivated]


def test_a_deactivated_member_can_not_be_deactivated_again() -> None:
    spec.given(registered, deactivated).rejects(member.DeactivateMember(), InvalidTransition)


def test_a_deactivated_member_is_reactivated() -> None:
    assert spec.given(registered, deactivated).when(member.ReactivateMember()) == [
        member.MemberReactivated()
    ]


def test_an_active_member_can_not_be_reactivated() -> None:
    spec.given(registered).rejects(member.ReactivateMember(), InvalidTransition)


def test_a_deactivated_member_can_still_be_renamed() -> None:
    assert spec.given(registered, deactivated).when(member.RenameMember("Al")) == [
        member.MemberRenamed("Al")
    ]


# State


def test_evolve_builds_the_state() -> None:
    state = spec.state(
        registered,
        member.MemberRenamed("Alice Smith"),
        member.MemberRoleChanged("manager"),
        member.MemberCapacitySet(8.0),
        deactivated,
        member.MemberReactivated(),
        deactivated,
    )
    assert state == member.Member(
        ALICE, "Alice Smith", "alice@example.com", "manager", 8.0, active=False
    )


def test_events_for_a_member_that_does_not_exist_leave_nothing() -> None:
    assert spec.state(member.MemberRenamed("Alice"), deactivated) is None
