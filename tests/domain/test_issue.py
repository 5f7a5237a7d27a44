"""Specification of the issue aggregate: creation, edits, workflow, dependencies, links, people."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from itertools import product
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import issue
from domain.errors import (
    AlreadyExists,
    DependencyCycle,
    InvalidInput,
    InvalidTransition,
    MemberInactive,
    NotFound,
    ParentCycle,
)
from tests.domain.spec import Spec

spec = Spec(issue.decide, issue.evolve)
ISSUE = uuid4()
OTHER = uuid4()
THIRD = uuid4()
PARENT = uuid4()
TEAM = uuid4()
PROJECT = uuid4()
OPERATION = uuid4()
GOAL = uuid4()
ALICE = uuid4()
BOB = uuid4()
COMMENT = uuid4()
DUE = date(2026, 4, 1)

STATUSES: list[issue.Status] = [
    "triage",
    "backlog",
    "todo",
    "in_progress",
    "in_review",
    "done",
    "cancelled",
]
# The workflow table of the product specification, written out here independently of the module,
# so the tests check the table rather than echo it.
ALLOWED: set[tuple[issue.Status, issue.Status]] = {
    ("triage", "backlog"),
    ("triage", "todo"),
    ("triage", "cancelled"),
    ("backlog", "todo"),
    ("backlog", "in_progress"),
    ("backlog", "cancelled"),
    ("todo", "backlog"),
    ("todo", "in_progress"),
    ("todo", "cancelled"),
    ("in_progress", "todo"),
    ("in_progress", "in_review"),
    ("in_progress", "done"),
    ("in_progress", "cancelled"),
    ("in_review", "in_progress"),
    ("in_review", "done"),
    ("in_review", "cancelled"),
    ("done", "todo"),
    ("cancelled", "todo"),
}
ALL_MOVES = list(product(STATUSES, STATUSES))

created = issue.IssueCreated(
    issue_id=ISSUE,
    kind="task",
    title="Fix the ledger",
    description="",
    team_id=TEAM,
    project_id=None,
    number=None,
    key=None,
    status="backlog",
    priority="none",
    severity=None,
    estimate=None,
    due_date=None,
    labels=(),
    parent_id=None,
    goal_ids=(),
    assignee_id=None,
)
incident_created = replace(created, kind="incident", status="triage", severity="sev2")


def create(**changes: Any) -> issue.CreateIssue:
    """A valid CreateIssue for a task, with ``changes`` applied."""
    return replace(issue.CreateIssue(ISSUE, "task", "Fix the ledger", TEAM), **changes)


def in_status(status: issue.Status) -> issue.IssueCreated:
    """The creation of an issue that is in ``status`` already."""
    return replace(created, status=status)


# Creation


def test_a_task_is_created_in_the_backlog_with_a_trimmed_title() -> None:
    assert spec.given().when(create(title="  Fix the ledger ")) == [created]


@pytest.mark.parametrize("kind", ["bug", "incident", "request"])
def test_unplanned_work_is_created_in_triage(kind: issue.Kind) -> None:
    assert spec.given().when(create(kind=kind)) == [replace(created, kind=kind, status="triage")]


def test_every_field_given_at_creation_is_recorded() -> None:
    command = create(
        description="The totals are off",
        project_id=PROJECT,
        number=12,
        key="PAY-12",
        priority="high",
        estimate=3.0,
        due_date=DUE,
        parent_id=PARENT,
        goal_ids=(GOAL,),
        assignee_id=ALICE,
    )
    assert spec.given().when(command) == [
        replace(
            created,
            description="The totals are off",
            project_id=PROJECT,
            number=12,
            key="PAY-12",
            priority="high",
            estimate=3.0,
            due_date=DUE,
            parent_id=PARENT,
            goal_ids=(GOAL,),
            assignee_id=ALICE,
        )
    ]


def test_an_issue_can_not_be_created_twice() -> None:
    spec.given(created).rejects(create(), AlreadyExists)


def test_an_issue_needs_a_title() -> None:
    error = spec.given().rejects(create(title=" \t "), InvalidInput)
    assert error.field == "title"


def test_an_incident_is_created_with_a_severity() -> None:
    assert spec.given().when(create(kind="incident", severity="sev2")) == [incident_created]


@pytest.mark.parametrize("kind", ["task", "bug", "request"])
def test_only_incidents_have_a_severity_at_creation(kind: issue.Kind) -> None:
    error = spec.given().rejects(create(kind=kind, severity="sev1"), InvalidInput)
    assert error.field == "severity"


def test_a_negative_estimate_is_refused_at_creation() -> None:
    error = spec.given().rejects(create(estimate=-1.0), InvalidInput)
    assert error.field == "estimate"


def test_an_estimate_of_zero_is_allowed() -> None:
    assert spec.given().when(create(estimate=0.0)) == [replace(created, estimate=0.0)]


def test_an_estimate_that_is_not_a_number_is_refused() -> None:
    error = spec.given().rejects(create(estimate=float("nan")), InvalidInput)
    assert error.field == "estimate"


def test_labels_are_trimmed_and_kept_once_each_in_the_order_given() -> None:
    command = create(labels=(" ledger", "ui ", "ledger", "ui", "api"))
    assert spec.given().when(command) == [replace(created, labels=("ledger", "ui", "api"))]


def test_an_empty_label_is_refused() -> None:
    error = spec.given().rejects(create(labels=("ui", "  ")), InvalidInput)
    assert error.field == "labels"


def test_goals_given_at_creation_are_kept_once_each_and_become_goal_links() -> None:
    events = spec.given().when(create(goal_ids=(GOAL, OTHER, GOAL)))
    assert events == [replace(created, goal_ids=(GOAL, OTHER))]
    state = spec.state(*events)
    assert state is not None
    assert state.links == (issue.Link("goal", GOAL, "goal"), issue.Link("goal", OTHER, "goal"))
    assert state.goal_ids == (GOAL, OTHER)


def test_work_can_not_be_assigned_to_a_deactivated_member_at_creation() -> None:
    command = create(assignee_id=ALICE, assignee_active=False)
    error = spec.given().rejects(command, MemberInactive)
    assert error.field == "assignee_id"


def test_without_an_assignee_the_assignees_activity_does_not_matter() -> None:
    assert spec.given().when(create(assignee_active=False)) == [created]


def test_an_issue_can_not_be_its_own_parent_at_creation() -> None:
    error = spec.given().rejects(create(parent_id=ISSUE), ParentCycle)
    assert error.field == "parent_id"


def test_a_created_issue_is_open_unblocked_and_has_no_dependencies_links_or_watchers() -> None:
    state = spec.state(created)
    assert state is not None
    assert state.is_open
    assert not state.is_blocked
    assert state.blocked_by == frozenset()
    assert state.links == ()
    assert state.watchers == frozenset()
    assert state.comment_count == 0


# Commands on an issue that does not exist


@pytest.mark.parametrize(
    "command",
    [
        issue.EditIssue(title="New"),
        issue.ChangeIssueParent(PARENT),
        issue.AssignIssue(ALICE),
        issue.TransitionIssue("todo"),
        issue.BlockIssue("waiting"),
        issue.UnblockIssue(),
        issue.AddDependency(OTHER),
        issue.RemoveDependency(OTHER),
        issue.LinkIssue("goal", GOAL, "goal"),
        issue.UnlinkIssue("goal", GOAL),
        issue.CommentOnIssue(COMMENT, "alice", "Hello"),
        issue.WatchIssue(ALICE),
        issue.UnwatchIssue(ALICE),
    ],
    ids=lambda command: type(command).__name__,
)
def test_commands_on_a_missing_issue_are_not_found(command: issue.IssueCommand) -> None:
    spec.given().rejects(command, NotFound)


# Edits


def test_an_edit_that_names_no_field_changes_nothing() -> None:
    assert spec.given(created).when(issue.EditIssue()) == []


def test_the_title_is_edited_and_trimmed() -> None:
    assert spec.given(created).when(issue.EditIssue(title=" Fix the totals ")) == [
        issue.IssueRetitled("Fix the totals")
    ]


def test_editing_the_title_to_the_same_title_changes_nothing() -> None:
    assert spec.given(created).when(issue.EditIssue(title=" Fix the ledger")) == []


def test_the_title_can_not_be_edited_to_nothing() -> None:
    error = spec.given(created).rejects(issue.EditIssue(title="  "), InvalidInput)
    assert error.field == "title"


def test_the_description_is_edited_and_cleared() -> None:
    assert spec.given(created).when(issue.EditIssue(description="Off by one")) == [
        issue.IssueDescriptionChanged("Off by one")
    ]
    given = spec.given(created, issue.IssueDescriptionChanged("Off by one"))
    assert given.when(issue.EditIssue(description="")) == [issue.IssueDescriptionChanged("")]
    assert given.when(issue.EditIssue(description="Off by one")) == []


def test_the_priority_is_edited() -> None:
    assert spec.given(created).when(issue.EditIssue(priority="urgent")) == [
        issue.IssuePriorityChanged("urgent")
    ]


def test_editing_to_the_same_priority_changes_nothing() -> None:
    assert spec.given(created).when(issue.EditIssue(priority="none")) == []


def test_an_incidents_severity_is_edited() -> None:
    assert spec.given(incident_created).when(issue.EditIssue(severity="sev1")) == [
        issue.IssueSeverityChanged("sev1")
    ]


def test_an_incidents_severity_is_cleared_with_none() -> None:
    assert spec.given(incident_created).when(issue.EditIssue(severity=None)) == [
        issue.IssueSeverityChanged(None)
    ]


def test_editing_to_the_same_severity_changes_nothing() -> None:
    assert spec.given(incident_created).when(issue.EditIssue(severity="sev2")) == []


@pytest.mark.parametrize("kind", ["task", "bug", "request"])
def test_only_incidents_get_a_severity_by_edit(kind: issue.Kind) -> None:
    given = spec.given(replace(created, kind=kind))
    error = given.rejects(issue.EditIssue(severity="sev3"), InvalidInput)
    assert error.field == "severity"


def test_clearing_the_severity_of_an_issue_without_one_changes_nothing() -> None:
    assert spec.given(created).when(issue.EditIssue(severity=None)) == []


def test_the_estimate_is_edited() -> None:
    assert spec.given(created).when(issue.EditIssue(estimate=5.0)) == [issue.IssueEstimated(5.0)]


def test_the_estimate_is_cleared_with_none() -> None:
    given = spec.given(replace(created, estimate=5.0))
    assert given.when(issue.EditIssue(estimate=None)) == [issue.IssueEstimated(None)]


def test_editing_to_the_same_estimate_changes_nothing() -> None:
    given = spec.given(replace(created, estimate=5.0))
    assert given.when(issue.EditIssue(estimate=5.0)) == []


def test_a_negative_estimate_is_refused_by_edit() -> None:
    error = spec.given(created).rejects(issue.EditIssue(estimate=-0.5), InvalidInput)
    assert error.field == "estimate"


def test_the_due_date_is_edited() -> None:
    assert spec.given(created).when(issue.EditIssue(due_date=DUE)) == [
        issue.IssueDueDateChanged(DUE)
    ]


def test_the_due_date_is_cleared_with_none() -> None:
    given = spec.given(replace(created, due_date=DUE))
    assert given.when(issue.EditIssue(due_date=None)) == [issue.IssueDueDateChanged(None)]


def test_editing_to_the_same_due_date_changes_nothing() -> None:
    assert spec.given(replace(created, due_date=DUE)).when(issue.EditIssue(due_date=DUE)) == []


def test_labels_are_edited_trimmed_and_kept_once_each() -> None:
    assert spec.given(created).when(issue.EditIssue(labels=("ui ", " ui", "api"))) == [
        issue.IssueLabelsChanged(("ui", "api"))
    ]


def test_labels_are_cleared_with_an_empty_tuple() -> None:
    given = spec.given(replace(created, labels=("ui",)))
    assert given.when(issue.EditIssue(labels=())) == [issue.IssueLabelsChanged(())]


def test_labels_that_clean_up_to_the_same_labels_change_nothing() -> None:
    given = spec.given(replace(created, labels=("ui", "api")))
    assert given.when(issue.EditIssue(labels=(" ui", "api", "ui"))) == []


def test_an_empty_label_is_refused_by_edit() -> None:
    error = spec.given(created).rejects(issue.EditIssue(labels=("",)), InvalidInput)
    assert error.field == "labels"


def test_an_edit_of_several_fields_records_one_event_per_changed_field() -> None:
    edit = issue.EditIssue(
        title="Fix the totals",
        description="Off by one",
        priority="high",
        estimate=2.0,
        due_date=DUE,
        labels=("ledger",),
    )
    assert spec.given(created).when(edit) == [
        issue.IssueRetitled("Fix the totals"),
        issue.IssueDescriptionChanged("Off by one"),
        issue.IssuePriorityChanged("high"),
        issue.IssueEstimated(2.0),
        issue.IssueDueDateChanged(DUE),
        issue.IssueLabelsChanged(("ledger",)),
    ]


def test_an_edit_with_one_invalid_field_changes_nothing() -> None:
    edit = issue.EditIssue(title="Fix the totals", estimate=-1.0)
    spec.given(created).rejects(edit, InvalidInput)


# Workflow


@pytest.mark.parametrize(("from_status", "to_status"), ALL_MOVES)
def test_the_workflow_table_decides_every_move(
    from_status: issue.Status, to_status: issue.Status
) -> None:
    given = spec.given(in_status(from_status))
    command = issue.TransitionIssue(to_status)
    if (from_status, to_status) in ALLOWED:
        assert given.when(command) == [issue.IssueTransitioned(from_status, to_status)]
    else:
        error = given.rejects(command, InvalidTransition)
        assert error.field == "status"


def test_the_module_workflow_is_the_specified_table() -> None:
    assert {(f, t) for f, targets in issue.WORKFLOW.items() for t in targets} == ALLOWED


def test_a_transition_moves_the_issue_to_the_new_status() -> None:
    state = spec.state(created, issue.IssueTransitioned("backlog", "in_progress"))
    assert state is not None
    assert state.status == "in_progress"


@pytest.mark.parametrize("status", ["done", "cancelled"])
def test_closed_issues_are_not_open_until_reopened(status: issue.Status) -> None:
    closed = spec.state(in_status(status))
    assert closed is not None
    assert not closed.is_open
    reopened = spec.state(in_status(status), issue.IssueTransitioned(status, "todo"))
    assert reopened is not None
    assert reopened.is_open


def test_a_blocked_issue_still_moves_through_the_workflow_and_stays_blocked() -> None:
    given = spec.given(created, issue.IssueBlocked("waiting on the bank"))
    assert given.when(issue.TransitionIssue("in_progress")) == [
        issue.IssueTransitioned("backlog", "in_progress")
    ]
    state = spec.state(
        created,
        issue.IssueBlocked("waiting on the bank"),
        issue.IssueTransitioned("backlog", "in_progress"),
    )
    assert state is not None
    assert state.blocked_reason == "waiting on the bank"


# Blocking


def test_an_issue_is_blocked_with_a_trimmed_reason() -> None:
    assert spec.given(created).when(issue.BlockIssue(" waiting on the bank ")) == [
        issue.IssueBlocked("waiting on the bank")
    ]
    state = spec.state(created, issue.IssueBlocked("waiting on the bank"))
    assert state is not None
    assert state.is_blocked


def test_blocking_again_for_the_same_reason_changes_nothing() -> None:
    given = spec.given(created, issue.IssueBlocked("waiting on the bank"))
    assert given.when(issue.BlockIssue("waiting on the bank ")) == []


def test_blocking_again_for_another_reason_records_the_new_reason() -> None:
    given = spec.given(created, issue.IssueBlocked("waiting on the bank"))
    assert given.when(issue.BlockIssue("waiting on legal")) == [
        issue.IssueBlocked("waiting on legal")
    ]


def test_an_issue_can_not_be_blocked_without_a_reason() -> None:
    error = spec.given(created).rejects(issue.BlockIssue("  "), InvalidInput)
    assert error.field == "reason"


def test_a_blocked_issue_is_unblocked() -> None:
    given = spec.given(created, issue.IssueBlocked("waiting on the bank"))
    assert given.when(issue.UnblockIssue()) == [issue.IssueUnblocked()]
    state = spec.state(created, issue.IssueBlocked("waiting"), issue.IssueUnblocked())
    assert state is not None
    assert not state.is_blocked


def test_unblocking_an_issue_that_is_not_blocked_changes_nothing() -> None:
    assert spec.given(created).when(issue.UnblockIssue()) == []


# Dependencies


def test_an_issue_is_blocked_by_another() -> None:
    assert spec.given(created).when(issue.AddDependency(OTHER)) == [
        issue.IssueDependencyAdded(OTHER)
    ]
    state = spec.state(created, issue.IssueDependencyAdded(OTHER))
    assert state is not None
    assert state.blocked_by == frozenset({OTHER})


def test_an_issue_can_not_be_blocked_by_itself() -> None:
    error = spec.given(created).rejects(issue.AddDependency(ISSUE), DependencyCycle)
    assert error.field == "blocked_by_id"


def test_an_issue_can_not_be_blocked_by_an_issue_that_waits_on_it() -> None:
    command = issue.AddDependency(OTHER, blocker_waits_on=frozenset({THIRD, ISSUE}))
    error = spec.given(created).rejects(command, DependencyCycle)
    assert error.field == "blocked_by_id"


def test_a_blocker_that_waits_on_other_issues_only_is_accepted() -> None:
    command = issue.AddDependency(OTHER, blocker_waits_on=frozenset({THIRD}))
    assert spec.given(created).when(command) == [issue.IssueDependencyAdded(OTHER)]


def test_adding_the_same_dependency_twice_changes_nothing() -> None:
    given = spec.given(created, issue.IssueDependencyAdded(OTHER))
    assert given.when(issue.AddDependency(OTHER)) == []


def test_a_dependency_is_removed() -> None:
    given = spec.given(created, issue.IssueDependencyAdded(OTHER))
    assert given.when(issue.RemoveDependency(OTHER)) == [issue.IssueDependencyRemoved(OTHER)]
    state = spec.state(
        created, issue.IssueDependencyAdded(OTHER), issue.IssueDependencyRemoved(OTHER)
    )
    assert state is not None
    assert state.blocked_by == frozenset()


def test_removing_a_dependency_the_issue_does_not_have_is_not_found() -> None:
    given = spec.given(created, issue.IssueDependencyAdded(OTHER))
    error = given.rejects(issue.RemoveDependency(THIRD), NotFound)
    assert error.field == "blocked_by_id"


# Links


def test_an_issue_is_linked_to_a_goal() -> None:
    assert spec.given(created).when(issue.LinkIssue("goal", GOAL, "goal")) == [
        issue.IssueLinked("goal", GOAL, "goal")
    ]
    state = spec.state(created, issue.IssueLinked("goal", GOAL, "goal"))
    assert state is not None
    assert state.goal_ids == (GOAL,)


@pytest.mark.parametrize("target_kind", ["project", "operation"])
def test_a_goal_link_must_point_at_a_goal(target_kind: issue.TargetKind) -> None:
    command = issue.LinkIssue("goal", PROJECT, target_kind)
    error = spec.given(created).rejects(command, InvalidInput)
    assert error.field == "target_id"


@pytest.mark.parametrize(
    ("target", "target_kind"), [(PROJECT, "project"), (OPERATION, "operation"), (GOAL, "goal")]
)
def test_an_affects_link_points_at_a_project_an_operation_or_a_goal(
    target: UUID, target_kind: issue.TargetKind
) -> None:
    assert spec.given(created).when(issue.LinkIssue("affects", target, target_kind)) == [
        issue.IssueLinked("affects", target, target_kind)
    ]


def test_linking_the_same_target_twice_changes_nothing() -> None:
    given = spec.given(created, issue.IssueLinked("affects", PROJECT, "project"))
    assert given.when(issue.LinkIssue("affects", PROJECT, "project")) == []


def test_a_goal_given_at_creation_is_not_linked_twice() -> None:
    given = spec.given(replace(created, goal_ids=(GOAL,)))
    assert given.when(issue.LinkIssue("goal", GOAL, "goal")) == []


def test_the_same_goal_can_be_both_a_goal_link_and_an_affects_link() -> None:
    given = spec.given(created, issue.IssueLinked("goal", GOAL, "goal"))
    assert given.when(issue.LinkIssue("affects", GOAL, "goal")) == [
        issue.IssueLinked("affects", GOAL, "goal")
    ]


def test_a_link_is_removed_and_the_others_are_kept() -> None:
    given = spec.given(
        created,
        issue.IssueLinked("goal", GOAL, "goal"),
        issue.IssueLinked("affects", GOAL, "goal"),
    )
    assert given.when(issue.UnlinkIssue("goal", GOAL)) == [issue.IssueUnlinked("goal", GOAL)]
    state = spec.state(
        created,
        issue.IssueLinked("goal", GOAL, "goal"),
        issue.IssueLinked("affects", GOAL, "goal"),
        issue.IssueUnlinked("goal", GOAL),
    )
    assert state is not None
    assert state.links == (issue.Link("affects", GOAL, "goal"),)
    assert state.goal_ids == ()


def test_a_goal_given_at_creation_can_be_unlinked() -> None:
    given = spec.given(replace(created, goal_ids=(GOAL,)))
    assert given.when(issue.UnlinkIssue("goal", GOAL)) == [issue.IssueUnlinked("goal", GOAL)]


def test_unlinking_a_link_the_issue_does_not_have_is_not_found() -> None:
    error = spec.given(created).rejects(issue.UnlinkIssue("affects", PROJECT), NotFound)
    assert error.field == "target_id"


def test_unlinking_with_the_wrong_kind_of_link_is_not_found() -> None:
    given = spec.given(created, issue.IssueLinked("affects", GOAL, "goal"))
    given.rejects(issue.UnlinkIssue("goal", GOAL), NotFound)


# Comments


def test_a_comment_is_recorded_with_a_trimmed_body() -> None:
    command = issue.CommentOnIssue(COMMENT, "member:alice", "  Looks good \n")
    assert spec.given(created).when(command) == [
        issue.IssueCommented(COMMENT, "member:alice", "Looks good")
    ]


def test_a_comment_needs_a_body() -> None:
    command = issue.CommentOnIssue(COMMENT, "member:alice", " \n ")
    error = spec.given(created).rejects(command, InvalidInput)
    assert error.field == "body"


def test_comments_are_counted() -> None:
    comment = issue.IssueCommented(COMMENT, "member:alice", "Hi")
    state = spec.state(created, comment, comment)
    assert state is not None
    assert state.comment_count == 2


# Watchers


def test_a_member_watches_an_issue() -> None:
    assert spec.given(created).when(issue.WatchIssue(ALICE)) == [issue.IssueWatcherAdded(ALICE)]


def test_watching_an_issue_twice_changes_nothing() -> None:
    given = spec.given(created, issue.IssueWatcherAdded(ALICE))
    assert given.when(issue.WatchIssue(ALICE)) == []


def test_a_watcher_stops_watching() -> None:
    given = spec.given(created, issue.IssueWatcherAdded(ALICE), issue.IssueWatcherAdded(BOB))
    assert given.when(issue.UnwatchIssue(ALICE)) == [issue.IssueWatcherRemoved(ALICE)]
    state = spec.state(
        created,
        issue.IssueWatcherAdded(ALICE),
        issue.IssueWatcherAdded(BOB),
        issue.IssueWatcherRemoved(ALICE),
    )
    assert state is not None
    assert state.watchers == frozenset({BOB})


def test_unwatching_an_issue_one_does_not_watch_changes_nothing() -> None:
    assert spec.given(created).when(issue.UnwatchIssue(ALICE)) == []


# Assignment


def test_an_issue_is_assigned_to_an_active_member() -> None:
    assert spec.given(created).when(issue.AssignIssue(ALICE)) == [issue.IssueAssigned(ALICE)]


def test_an_issue_is_reassigned() -> None:
    given = spec.given(replace(created, assignee_id=ALICE))
    assert given.when(issue.AssignIssue(BOB)) == [issue.IssueAssigned(BOB)]


def test_assigning_to_the_current_assignee_changes_nothing() -> None:
    given = spec.given(replace(created, assignee_id=ALICE))
    assert given.when(issue.AssignIssue(ALICE)) == []


def test_work_can_not_be_assigned_to_a_deactivated_member() -> None:
    command = issue.AssignIssue(ALICE, assignee_active=False)
    error = spec.given(created).rejects(command, MemberInactive)
    assert error.field == "assignee_id"


def test_an_issue_is_unassigned() -> None:
    given = spec.given(replace(created, assignee_id=ALICE))
    assert given.when(issue.AssignIssue(None)) == [issue.IssueUnassigned()]
    state = spec.state(replace(created, assignee_id=ALICE), issue.IssueUnassigned())
    assert state is not None
    assert state.assignee_id is None


def test_unassigning_an_unassigned_issue_changes_nothing() -> None:
    assert spec.given(created).when(issue.AssignIssue(None, assignee_active=False)) == []


# Parent


def test_an_issue_gets_a_parent() -> None:
    command = issue.ChangeIssueParent(PARENT, parent_ancestors=(THIRD,))
    assert spec.given(created).when(command) == [issue.IssueParentChanged(PARENT)]


def test_an_issue_moves_to_another_parent() -> None:
    given = spec.given(replace(created, parent_id=PARENT))
    assert given.when(issue.ChangeIssueParent(OTHER)) == [issue.IssueParentChanged(OTHER)]


def test_an_issues_parent_is_cleared_with_none() -> None:
    given = spec.given(replace(created, parent_id=PARENT))
    assert given.when(issue.ChangeIssueParent(None)) == [issue.IssueParentChanged(None)]


def test_changing_to_the_same_parent_changes_nothing() -> None:
    given = spec.given(replace(created, parent_id=PARENT))
    assert given.when(issue.ChangeIssueParent(PARENT)) == []
    assert spec.given(created).when(issue.ChangeIssueParent(None)) == []


def test_an_issue_can_not_be_its_own_parent() -> None:
    error = spec.given(created).rejects(issue.ChangeIssueParent(ISSUE), ParentCycle)
    assert error.field == "parent_id"


def test_an_issue_can_not_become_a_sub_issue_of_its_own_sub_issue() -> None:
    # OTHER's parent is THIRD, whose parent is ISSUE: ISSUE under OTHER would close a loop.
    command = issue.ChangeIssueParent(OTHER, parent_ancestors=(THIRD, ISSUE, PARENT))
    error = spec.given(created).rejects(command, ParentCycle)
    assert error.field == "parent_id"


# State


def test_evolve_builds_the_state() -> None:
    state = spec.state(
        incident_created,
        issue.IssueRetitled("Ledger down"),
        issue.IssueDescriptionChanged("Nothing posts"),
        issue.IssuePriorityChanged("urgent"),
        issue.IssueSeverityChanged("sev1"),
        issue.IssueEstimated(8.0),
        issue.IssueDueDateChanged(DUE),
        issue.IssueLabelsChanged(("ledger",)),
        issue.IssueParentChanged(PARENT),
        issue.IssueAssigned(ALICE),
        issue.IssueTransitioned("triage", "todo"),
        issue.IssueBlocked("waiting on the bank"),
        issue.IssueDependencyAdded(OTHER),
        issue.IssueDependencyAdded(THIRD),
        issue.IssueDependencyRemoved(OTHER),
        issue.IssueLinked("affects", PROJECT, "project"),
        issue.IssueCommented(COMMENT, "member:alice", "On it"),
        issue.IssueWatcherAdded(BOB),
    )
    assert state == issue.Issue(
        id=ISSUE,
        kind="incident",
        title="Ledger down",
        description="Nothing posts",
        team_id=TEAM,
        project_id=None,
        number=None,
        key=None,
        status="todo",
        priority="urgent",
        severity="sev1",
        estimate=8.0,
        due_date=DUE,
        labels=("ledger",),
        parent_id=PARENT,
        assignee_id=ALICE,
        blocked_reason="waiting on the bank",
        blocked_by=frozenset({THIRD}),
        links=(issue.Link("affects", PROJECT, "project"),),
        watchers=frozenset({BOB}),
        comment_count=1,
    )


def test_events_for_an_issue_that_does_not_exist_leave_nothing() -> None:
    assert spec.state(issue.IssueRetitled("x"), issue.IssueAssigned(ALICE)) is None
