"""Specification of the project aggregate: key, schedule, lifecycle, milestones, health, issues."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from itertools import product
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import project
from domain.errors import (
    AlreadyExists,
    DomainError,
    InvalidInput,
    InvalidTransition,
    MemberInactive,
    NotFound,
    ProjectClosed,
)
from tests.domain.spec import NOW, Spec

spec = Spec(project.decide, project.evolve)
PROJECT = uuid4()
ALICE = uuid4()
TEAM = uuid4()
GOAL = uuid4()
BETA = uuid4()
ISSUE = uuid4()
START = date(2026, 3, 1)
TARGET = date(2026, 6, 30)

created = project.ProjectCreated(PROJECT, "Payments", "PAY", ALICE, TEAM, START, TARGET)
beta_added = project.MilestoneAdded(BETA, "Beta", date(2026, 5, 1))

STATUSES = ["proposed", "active", "on_hold", "completed", "cancelled"]
# Written out here, independently of the module, so the tests check the table rather than echo it.
ALLOWED = [
    ("proposed", "active"),
    ("proposed", "cancelled"),
    ("active", "on_hold"),
    ("on_hold", "active"),
    ("active", "completed"),
    ("active", "cancelled"),
    ("on_hold", "completed"),
    ("on_hold", "cancelled"),
]
REFUSED = [move for move in product(STATUSES, STATUSES) if move not in ALLOWED]


def create(**changes: Any) -> project.CreateProject:
    """A valid CreateProject, with ``changes`` applied."""
    command = project.CreateProject(
        PROJECT, "Payments", "PAY", ALICE, TEAM, START, TARGET, owner_active=True, key_in_use=False
    )
    return replace(command, **changes)


def in_status(status: project.ProjectStatus) -> tuple[project.ProjectEvent, ...]:
    """A history that leaves the project in ``status``."""
    return (created,) if status == "proposed" else (created, project.ProjectStatusChanged(status))


# Creation


def test_a_project_is_created_as_proposed_with_a_trimmed_name() -> None:
    assert spec.given().when(create(name=" Payments  ")) == [created]
    state = spec.state(created)
    assert state is not None
    assert state.status == "proposed"
    assert state.issue_count == 0


@pytest.mark.parametrize(
    ("key", "normalised"),
    [("pay", "PAY"), (" Pay ", "PAY"), ("A1", "A1"), ("ABCDEFGHIJ", "ABCDEFGHIJ")],
)
def test_a_project_key_is_normalised_to_upper_case(key: str, normalised: str) -> None:
    [event] = spec.given().when(create(key=key))
    assert isinstance(event, project.ProjectCreated)
    assert event.key == normalised


@pytest.mark.parametrize("key", ["P", "1PAY", "PAY-1", "PA Y", "ABCDEFGHIJK", "", "PÄY"])
def test_a_malformed_project_key_is_refused(key: str) -> None:
    assert spec.given().rejects(create(key=key), InvalidInput).field == "key"


def test_a_key_another_project_has_is_refused() -> None:
    assert spec.given().rejects(create(key_in_use=True), AlreadyExists).field == "key"


def test_a_project_needs_a_name() -> None:
    assert spec.given().rejects(create(name=" "), InvalidInput).field == "name"


def test_a_project_can_not_be_due_before_it_starts() -> None:
    error = spec.given().rejects(create(target_date=date(2026, 2, 28)), InvalidInput)
    assert error.field == "target_date"


def test_a_project_may_start_and_be_due_on_the_same_day() -> None:
    assert spec.given().when(create(target_date=START)) == [
        project.ProjectCreated(PROJECT, "Payments", "PAY", ALICE, TEAM, START, START)
    ]


def test_a_deactivated_member_can_not_own_a_project() -> None:
    assert spec.given().rejects(create(owner_active=False), MemberInactive).field == "owner_id"


def test_a_project_can_not_be_created_twice() -> None:
    spec.given(created).rejects(create(), AlreadyExists)


def test_commands_on_a_missing_project_are_not_found() -> None:
    spec.given().rejects(project.RenameProject("Billing"), NotFound)


# Name and schedule


def test_a_project_is_renamed() -> None:
    assert spec.given(created).when(project.RenameProject(" Billing")) == [
        project.ProjectRenamed("Billing")
    ]


def test_renaming_to_the_same_name_changes_nothing() -> None:
    assert spec.given(created).when(project.RenameProject("Payments")) == []


def test_a_project_can_not_be_renamed_to_nothing() -> None:
    assert spec.given(created).rejects(project.RenameProject(""), InvalidInput).field == "name"


def test_a_project_is_rescheduled() -> None:
    command = project.RescheduleProject(date(2026, 4, 1), date(2026, 9, 30))
    assert spec.given(created).when(command) == [
        project.ProjectRescheduled(date(2026, 4, 1), date(2026, 9, 30))
    ]


def test_rescheduling_to_the_same_dates_changes_nothing() -> None:
    assert spec.given(created).when(project.RescheduleProject(START, TARGET)) == []


def test_a_project_can_not_be_rescheduled_to_end_before_it_starts() -> None:
    command = project.RescheduleProject(TARGET, START)
    assert spec.given(created).rejects(command, InvalidInput).field == "target_date"


# Lifecycle


@pytest.mark.parametrize(("before", "after"), ALLOWED)
def test_a_project_moves_along_its_lifecycle(
    before: project.ProjectStatus, after: project.ProjectStatus
) -> None:
    given = spec.given(*in_status(before))
    assert given.when(project.ChangeProjectStatus(after)) == [project.ProjectStatusChanged(after)]


@pytest.mark.parametrize(("before", "after"), REFUSED)
def test_any_other_move_is_an_invalid_transition(
    before: project.ProjectStatus, after: project.ProjectStatus
) -> None:
    spec.given(*in_status(before)).rejects(project.ChangeProjectStatus(after), InvalidTransition)


def test_an_unknown_status_is_refused() -> None:
    command = project.ChangeProjectStatus("done")
    assert spec.given(created).rejects(command, InvalidInput).field == "status"


# Milestones


def test_a_milestone_is_added() -> None:
    command = project.AddMilestone(BETA, " Beta ", date(2026, 5, 1))
    assert spec.given(created).when(command) == [beta_added]


def test_a_milestone_needs_a_name() -> None:
    command = project.AddMilestone(BETA, "", date(2026, 5, 1))
    assert spec.given(created).rejects(command, InvalidInput).field == "name"


def test_a_milestone_id_is_used_once() -> None:
    command = project.AddMilestone(BETA, "Beta again", date(2026, 5, 2))
    assert spec.given(created, beta_added).rejects(command, AlreadyExists).field == "milestone_id"


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_a_closed_project_gets_no_new_milestones(status: project.ProjectStatus) -> None:
    command = project.AddMilestone(BETA, "Beta", date(2026, 5, 1))
    spec.given(*in_status(status)).rejects(command, ProjectClosed)


def test_a_milestone_is_completed() -> None:
    assert spec.given(created, beta_added).when(project.CompleteMilestone(BETA)) == [
        project.MilestoneCompleted(BETA)
    ]


def test_completing_a_milestone_twice_changes_nothing() -> None:
    given = spec.given(created, beta_added, project.MilestoneCompleted(BETA))
    assert given.when(project.CompleteMilestone(BETA)) == []


def test_completing_an_unknown_milestone_is_not_found() -> None:
    error = spec.given(created).rejects(project.CompleteMilestone(BETA), NotFound)
    assert error.field == "milestone_id"


# Goals


def test_a_goal_is_linked() -> None:
    assert spec.given(created).when(project.LinkProjectGoal(GOAL, goal_exists=True)) == [
        project.ProjectGoalLinked(GOAL)
    ]


def test_linking_a_linked_goal_again_changes_nothing() -> None:
    given = spec.given(created, project.ProjectGoalLinked(GOAL))
    assert given.when(project.LinkProjectGoal(GOAL, goal_exists=True)) == []


def test_a_missing_goal_can_not_be_linked() -> None:
    command = project.LinkProjectGoal(GOAL, goal_exists=False)
    assert spec.given(created).rejects(command, NotFound).field == "goal_id"


# Health


def test_a_health_update_is_posted_with_a_trimmed_note() -> None:
    command = project.PostProjectHealth("at_risk", " vendor late ")
    assert spec.given(created).when(command) == [
        project.ProjectHealthPosted("at_risk", "vendor late")
    ]


def test_every_health_update_is_a_report_even_when_the_health_is_unchanged() -> None:
    given = spec.given(created, project.ProjectHealthPosted("on_track", "fine"))
    assert given.when(project.PostProjectHealth("on_track", "fine")) == [
        project.ProjectHealthPosted("on_track", "fine")
    ]


def test_an_unknown_health_is_refused() -> None:
    command = project.PostProjectHealth("green")
    assert spec.given(created).rejects(command, InvalidInput).field == "health"


# Issues


def test_the_first_issue_is_number_1() -> None:
    assert spec.given(created).when(project.AddIssueToProject(ISSUE)) == [
        project.ProjectIssueAdded(ISSUE, 1)
    ]


def test_each_issue_gets_the_next_number() -> None:
    given = spec.given(
        created, project.ProjectIssueAdded(uuid4(), 1), project.ProjectIssueAdded(uuid4(), 2)
    )
    assert given.when(project.AddIssueToProject(ISSUE)) == [project.ProjectIssueAdded(ISSUE, 3)]


def test_a_project_on_hold_still_takes_issues() -> None:
    given = spec.given(*in_status("on_hold"))
    assert given.when(project.AddIssueToProject(ISSUE)) == [project.ProjectIssueAdded(ISSUE, 1)]


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_a_closed_project_takes_no_issues(status: project.ProjectStatus) -> None:
    spec.given(*in_status(status)).rejects(project.AddIssueToProject(ISSUE), ProjectClosed)


def test_an_issue_key_is_the_project_key_and_the_number() -> None:
    state = spec.state(created)
    assert state is not None
    assert project.issue_key(state, 12) == "PAY-12"


def test_evolve_builds_the_state() -> None:
    state = spec.state(
        created,
        project.ProjectStatusChanged("active"),
        beta_added,
        project.MilestoneCompleted(BETA),
        project.ProjectGoalLinked(GOAL),
        project.ProjectHealthPosted("off_track", "scope grew"),
        project.ProjectIssueAdded(ISSUE, 1),
        project.ProjectRenamed("Billing"),
        project.ProjectRescheduled(START, date(2026, 7, 31)),
    )
    assert state == project.Project(
        PROJECT,
        "Billing",
        "PAY",
        ALICE,
        TEAM,
        START,
        date(2026, 7, 31),
        status="active",
        milestones=(project.Milestone(BETA, "Beta", date(2026, 5, 1), done=True),),
        goal_ids=frozenset({GOAL}),
        health="off_track",
        health_note="scope grew",
        issue_count=1,
    )


def test_evolve_ignores_events_before_creation() -> None:
    assert spec.state(project.ProjectRenamed("Billing")) is None


# Invariants under any sequence of commands


@given(st.text(max_size=12))
def test_an_accepted_key_is_always_well_formed(key: str) -> None:
    try:
        normalised = project.normalise_key(key)
    except InvalidInput:
        return
    assert re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", normalised)


MILESTONE_IDS = (BETA, uuid4())
GOAL_IDS = (GOAL, uuid4())
issue_adds = st.builds(project.AddIssueToProject, st.uuids())
# The terminal statuses are drawn less often, so that runs also go back and forth to on_hold.
status_changes = st.builds(
    project.ChangeProjectStatus,
    st.sampled_from([*STATUSES, "active", "active", "on_hold", "on_hold", "done"]),
)
# Issue and status commands are listed more than once so that runs go through the whole
# lifecycle and number many issues on the way.
project_commands: st.SearchStrategy[project.ProjectCommand] = st.one_of(
    st.builds(project.RenameProject, st.sampled_from(["Payments", "Billing", " "])),
    st.builds(project.RescheduleProject, st.dates(), st.dates()),
    status_changes,
    status_changes,
    st.builds(
        project.AddMilestone,
        st.sampled_from(MILESTONE_IDS),
        st.sampled_from(["Beta", ""]),
        st.dates(),
    ),
    st.builds(project.CompleteMilestone, st.sampled_from(MILESTONE_IDS)),
    st.builds(project.LinkProjectGoal, st.sampled_from(GOAL_IDS), st.booleans()),
    st.builds(
        project.PostProjectHealth,
        st.sampled_from(["on_track", "at_risk", "off_track", "green"]),
        st.text(max_size=3),
    ),
    issue_adds,
    issue_adds,
    issue_adds,
)


@given(st.lists(project_commands, max_size=40))
def test_no_sequence_of_commands_breaks_a_projects_invariants(
    commands: list[project.ProjectCommand],
) -> None:
    state = spec.state(created)
    assert state is not None
    numbers: list[int] = []
    for command in commands:
        try:
            events = project.decide(command, state, NOW)
        except DomainError:
            continue
        for event in events:
            if isinstance(event, project.ProjectIssueAdded):
                assert state.status not in ("completed", "cancelled")
                numbers.append(event.number)
            after = project.evolve(state, event)
            assert after is not None
            assert after.status == state.status or (state.status, after.status) in ALLOWED
            done_before = {m.id for m in state.milestones if m.done}
            assert done_before <= {m.id for m in after.milestones if m.done}
            state = after
        assert state.status in STATUSES
        assert state.target_date >= state.start_date
        assert state.key == "PAY"
        assert numbers == list(range(1, len(numbers) + 1))
        assert state.issue_count == len(numbers)
        ids = [m.id for m in state.milestones]
        assert len(ids) == len(set(ids))
