"""Every aggregate of the work model, with its decider and the events it records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, get_args

from domain import goal, issue, member, operation, project, team

S = TypeVar("S")
C = TypeVar("C")
E = TypeVar("E")


@dataclass(frozen=True)
class Aggregate(Generic[S, C, E]):
    """One kind of object: its name, its pure decider and the classes of its events."""

    kind: str
    decide: Callable[[C, S | None, datetime], Sequence[E]]
    evolve: Callable[[S | None, E], S | None]
    event_classes: tuple[type[Any], ...]
    created_event: type[Any]

    def replay(self, events: Sequence[Any], state: S | None = None) -> S | None:
        for event in events:
            state = self.evolve(state, event)
        return state


TEAM: Aggregate[team.Team, team.TeamCommand, team.TeamEvent] = Aggregate(
    "team", team.decide, team.evolve, get_args(team.TeamEvent), team.TeamCreated
)
MEMBER: Aggregate[member.Member, member.MemberCommand, member.MemberEvent] = Aggregate(
    "member", member.decide, member.evolve, get_args(member.MemberEvent), member.MemberRegistered
)
GOAL: Aggregate[goal.Goal, goal.GoalCommand, goal.GoalEvent] = Aggregate(
    "goal", goal.decide, goal.evolve, get_args(goal.GoalEvent), goal.GoalCreated
)
PROJECT: Aggregate[project.Project, project.ProjectCommand, project.ProjectEvent] = Aggregate(
    "project",
    project.decide,
    project.evolve,
    get_args(project.ProjectEvent),
    project.ProjectCreated,
)
ISSUE: Aggregate[issue.Issue, issue.IssueCommand, issue.IssueEvent] = Aggregate(
    "issue", issue.decide, issue.evolve, get_args(issue.IssueEvent), issue.IssueCreated
)
OPERATION: Aggregate[operation.Operation, operation.OperationCommand, operation.OperationEvent] = (
    Aggregate(
        "operation",
        operation.decide,
        operation.evolve,
        get_args(operation.OperationEvent),
        operation.OperationCreated,
    )
)

AGGREGATES: tuple[Aggregate[Any, Any, Any], ...] = (TEAM, MEMBER, GOAL, PROJECT, ISSUE, OPERATION)

DomainEvent = (
    team.TeamEvent
    | member.MemberEvent
    | goal.GoalEvent
    | project.ProjectEvent
    | issue.IssueEvent
    | operation.OperationEvent
)
"""Every event any object records."""
EVENT_CLASSES: tuple[type[Any], ...] = tuple(
    cls for aggregate in AGGREGATES for cls in aggregate.event_classes
)
_KIND_OF_EVENT: dict[type[Any], str] = {
    cls: aggregate.kind for aggregate in AGGREGATES for cls in aggregate.event_classes
}


def kind_of_event(event_class: type[Any]) -> str:
    """The kind of object (``issue``, ``team`` ...) whose stream records this event class."""
    return _KIND_OF_EVENT[event_class]
