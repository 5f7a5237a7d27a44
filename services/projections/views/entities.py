"""Entities: each object's full current (or past) state, and filtered lists of each kind.

Every object is one versioned row per kind (``en_team``, ``en_issue`` ...): the columns lists
filter on, typed and indexed over current rows, and an orjson document with the rest. A filter
column always holds the document's field of the same name, so the two never disagree.

What relates objects to each other lives in ``en_edge`` rather than in the objects' documents:
a team's members and a member's teams, a goal's children and linked issues, an issue's sub-issues
and what it blocks, the issues carrying a label. An edge is keyed by the node it is read from,
so the table's own version index answers "what hangs off this node" for any ``as_of`` too, and
an event never has to rewrite a second object's document (nor depend on the order in which one
command's events reach the log). Occurrences get rows of their own so that a daily operation's
years of occurrences are not rewritten with every tick, and comments are append-only facts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, TypeVar, assert_never
from uuid import UUID

import orjson
from fastapi import Path, Query, Response

from contracts.commands import WEEKDAYS
from contracts.views.entities import (
    CommentList,
    GoalDetail,
    GoalList,
    GoalStatus,
    IssueDetail,
    IssueKind,
    IssueList,
    IssueStatus,
    MemberDetail,
    MemberList,
    OperationDetail,
    OperationList,
    OperationStatus,
    Priority,
    ProjectDetail,
    ProjectList,
    ProjectStatus,
    Role,
    TeamDetail,
    TeamList,
)
from domain import goal, issue, member, operation, project, team
from domain.cadence import Cadence
from services.infrastructure.codec import RecordedEvent
from services.infrastructure.http import ProblemError, Routes, problem_responses
from services.infrastructure.store import SqlCursor
from services.projections.query import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    View,
    ViewRequest,
    decode_position_cursor,
    encode_cursor,
)
from services.projections.readmodel import EPOCH, Column, PageWriter, Row, Snapshot, Table
from services.projections.runner import event_time

NAME = "entities"

Doc = dict[str, Any]
Event = (
    team.TeamEvent
    | member.MemberEvent
    | goal.GoalEvent
    | project.ProjectEvent
    | issue.IssueEvent
    | operation.OperationEvent
)


def _objects(
    name: str,
    filters: tuple[Column, ...] = (),
    values: tuple[Column, ...] = (),
    combined: tuple[tuple[str, ...], ...] = (),
) -> Table:
    """A kind of object: id, creation order, stream version, the columns lists filter on (and
    ``values`` summed across objects), and the document."""
    return Table(
        name,
        key=("id",),
        columns=(
            Column("id"),
            Column("created_position", "int"),
            Column("version", "int"),
            *filters,
            *values,
            Column("doc"),
        ),
        # Lists page in creation order, so each filter's index ends in it.
        indexes=(
            ("created_position",),
            *((column.name, "created_position") for column in filters),
            *((*columns, "created_position") for columns in combined),
        ),
    )


TEAMS = _objects("en_team")
MEMBERS = _objects(
    "en_member",
    (Column("role"), Column("active", "bool")),
    values=(Column("weekly_capacity", "real"),),
)
GOALS = _objects(
    "en_goal", (Column("team_id"), Column("status"), Column("owner_id"), Column("parent_id"))
)
PROJECTS = _objects("en_project", (Column("team_id"), Column("status")))
ISSUES = _objects(
    "en_issue",
    (
        Column("team_id"),
        Column("project_id"),
        Column("assignee_id"),
        Column("status"),
        Column("kind"),
        Column("priority"),
        Column("blocked", "bool"),
        Column("parent_id"),
    ),
    values=(Column("estimate", "real"),),
    # Work is mostly asked for by whose it is and how far along: without these, a team's few
    # issues in progress are found by reading all of its done ones.
    combined=(("team_id", "status"), ("project_id", "status"), ("assignee_id", "status")),
)
OPERATIONS = _objects("en_operation", (Column("team_id"), Column("status")))
OCCURRENCES = Table(
    "en_occurrence",
    key=("operation_id", "due_date"),
    columns=(
        Column("operation_id"),
        Column("due_date"),
        Column("occurrence_id"),
        Column("status"),
        Column("assignee_id"),
        Column("estimate", "real"),
        Column("note"),
    ),
    indexes=(("operation_id", "status", "due_date"),),
)
EDGES = Table(
    "en_edge",
    key=("node_id", "relation", "other_id"),
    columns=(Column("node_id"), Column("relation"), Column("other_id")),
)
COMMENTS = Table(
    "en_comment",
    key=("issue_id", "position"),
    columns=(
        Column("issue_id"),
        Column("position", "int"),
        Column("comment_id"),
        Column("author"),
        Column("body"),
        Column("occurred", "int"),
    ),
    versioned=False,
)

# Edge relations, each read from its node: node --relation--> other.
TEAM_MEMBER = "member"  # team -> member
MEMBER_TEAM = "team"  # member -> team
CHILD_GOAL = "child_goal"  # goal -> goal aligned under it
GOAL_ISSUE = "goal_issue"  # goal -> issue linked to it
SUB_ISSUE = "sub_issue"  # issue -> its sub-issue
BLOCKS = "blocks"  # issue -> issue waiting on it
LABELLED = "label"  # label -> issue carrying it


# Applying events


def _id(value: UUID | None) -> str | None:
    return str(value) if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _added(items: list[Any], item: Any) -> list[Any]:
    return items if item in items else [*items, item]


def _removed(items: list[Any], item: Any) -> list[Any]:
    return [existing for existing in items if existing != item]


def _cadence(cadence: Cadence) -> Doc:
    return {
        "every": cadence.every,
        "interval": cadence.interval,
        "weekdays": [WEEKDAYS[day] for day in cadence.weekdays],
        "day_of_month": cadence.day_of_month,
    }


@dataclass
class _Object:
    """One object's current row and document, as one event changes them."""

    table: Table
    row: Row
    doc: Doc

    def set(self, **fields: Any) -> None:
        self.doc.update(fields)


_OWN_COLUMNS = ("id", "created_position", "version", "doc")
_PARSED = "_parsed_doc"
# Per table, the columns that repeat a field of the document.
_FIELD_COLUMNS = {
    table.name: tuple(name for name in table.column_names if name not in _OWN_COLUMNS)
    for table in (TEAMS, MEMBERS, GOALS, PROJECTS, ISSUES, OPERATIONS)
}


class _Change:
    """What one event writes: its object's next version, edges and facts, at its time."""

    __slots__ = ("event", "object_id", "occurred", "writer")

    def __init__(self, writer: PageWriter, event: RecordedEvent) -> None:
        self.writer = writer
        self.event = event
        self.occurred = event_time(event)
        self.object_id = event.stream_id_text

    def create(self, table: Table, doc: Doc) -> None:
        doc["created_at"] = self.event.metadata.occurred_at.isoformat()
        row = {"id": self.object_id, "created_position": self.event.position}
        self.save(_Object(table, row, doc))

    def load(self, table: Table) -> _Object | None:
        row = self.writer.get(table.name, (self.object_id,))
        if row is None:
            return None
        # Rows this worker wrote carry their document parsed (a key that is not a column);
        # a copy, as the event changes it in place.
        parsed = row.get(_PARSED)
        doc = dict(parsed) if parsed is not None else orjson.loads(row["doc"])
        return _Object(table, row, doc)

    def save(self, changed: _Object) -> None:
        """The object's next version; its filter columns follow its document."""
        doc = changed.doc
        row = {
            **changed.row,
            "version": self.event.version,
            "doc": orjson.dumps(doc).decode(),
            **{name: doc.get(name) for name in _FIELD_COLUMNS[changed.table.name]},
            _PARSED: doc,
        }
        self.writer.put(changed.table.name, row, self.occurred, self.event.position)

    def link(self, node: str, relation: str, other: str) -> None:
        row = {"node_id": node, "relation": relation, "other_id": other}
        self.writer.put(EDGES.name, row, self.occurred, self.event.position)

    def unlink(self, node: str, relation: str, other: str) -> None:
        self.writer.delete(EDGES.name, (node, relation, other), self.occurred, self.event.position)


def _apply_team(change: _Change, event: team.TeamEvent) -> None:
    if isinstance(event, team.TeamCreated):
        change.create(
            TEAMS,
            {
                "name": event.name,
                "weekly_capacity": event.weekly_capacity,
                "working_agreement": "",
                "agreement_revision": 0,
                "definition_of_done": [],
            },
        )
        return
    current = change.load(TEAMS)
    if current is None:
        return
    team_id = change.object_id
    match event:
        case team.TeamRenamed(name=name):
            current.set(name=name)
        case team.TeamCapacitySet(weekly_capacity=capacity):
            current.set(weekly_capacity=capacity)
        case team.TeamMemberAdded(member_id=member_id):
            change.link(team_id, TEAM_MEMBER, str(member_id))
            change.link(str(member_id), MEMBER_TEAM, team_id)
        case team.TeamMemberRemoved(member_id=member_id):
            change.unlink(team_id, TEAM_MEMBER, str(member_id))
            change.unlink(str(member_id), MEMBER_TEAM, team_id)
        case team.WorkingAgreementUpdated(text=text, revision=revision):
            current.set(working_agreement=text, agreement_revision=revision)
        case team.DefinitionOfDoneUpdated(items=items):
            current.set(definition_of_done=list(items))
        case _:
            assert_never(event)
    change.save(current)


def _apply_member(change: _Change, event: member.MemberEvent) -> None:
    if isinstance(event, member.MemberRegistered):
        change.create(
            MEMBERS,
            {
                "name": event.name,
                "email": event.email,
                "role": event.role,
                "weekly_capacity": event.weekly_capacity,
                "active": True,
            },
        )
        return
    current = change.load(MEMBERS)
    if current is None:
        return
    match event:
        case member.MemberRenamed(name=name):
            current.set(name=name)
        case member.MemberRoleChanged(role=role):
            current.set(role=role)
        case member.MemberCapacitySet(weekly_capacity=capacity):
            current.set(weekly_capacity=capacity)
        case member.MemberDeactivated():
            current.set(active=False)
        case member.MemberReactivated():
            current.set(active=True)
        case _:
            assert_never(event)
    change.save(current)


def _apply_goal(change: _Change, event: goal.GoalEvent) -> None:
    goal_id = change.object_id
    if isinstance(event, goal.GoalCreated):
        change.create(
            GOALS,
            {
                "title": event.title,
                "owner_id": str(event.owner_id),
                "team_id": _id(event.team_id),
                "period_start": event.period_start.isoformat(),
                "period_end": event.period_end.isoformat(),
                "parent_id": _id(event.parent_id),
                "status": "draft",
                "key_results": [],
            },
        )
        if event.parent_id is not None:
            change.link(str(event.parent_id), CHILD_GOAL, goal_id)
        return
    current = change.load(GOALS)
    if current is None:
        return
    match event:
        case goal.GoalActivated():
            current.set(status="active")
        case goal.GoalClosed(outcome=outcome):
            current.set(status=outcome)
        case goal.KeyResultAdded(kr_id=kr_id):
            kept = [kr for kr in current.doc["key_results"] if kr["id"] != str(kr_id)]
            added = {
                "id": str(kr_id),
                "title": event.title,
                "unit": event.unit,
                "start": event.start,
                "target": event.target,
                "current": event.start,
            }
            current.set(key_results=[*kept, added])
        case goal.KeyResultCheckedIn(kr_id=kr_id, value=value):
            current.set(
                key_results=[
                    {**kr, "current": value} if kr["id"] == str(kr_id) else kr
                    for kr in current.doc["key_results"]
                ]
            )
        case goal.GoalRetitled(title=title):
            current.set(title=title)
        case goal.GoalParentChanged(parent_id=parent_id):
            previous = current.doc["parent_id"]
            if previous is not None:
                change.unlink(previous, CHILD_GOAL, goal_id)
            if parent_id is not None:
                change.link(str(parent_id), CHILD_GOAL, goal_id)
            current.set(parent_id=_id(parent_id))
        case _:
            assert_never(event)
    change.save(current)


def _apply_project(change: _Change, event: project.ProjectEvent) -> None:
    if isinstance(event, project.ProjectCreated):
        change.create(
            PROJECTS,
            {
                "name": event.name,
                "key": event.key,
                "owner_id": str(event.owner_id),
                "team_id": str(event.team_id),
                "start_date": event.start_date.isoformat(),
                "target_date": event.target_date.isoformat(),
                "status": "proposed",
                "milestones": [],
                "goal_ids": [],
                "health": None,
                "issue_count": 0,
            },
        )
        return
    current = change.load(PROJECTS)
    if current is None:
        return
    doc = current.doc
    match event:
        case project.ProjectRenamed(name=name):
            current.set(name=name)
        case project.ProjectRescheduled(start_date=start_date, target_date=target_date):
            current.set(start_date=start_date.isoformat(), target_date=target_date.isoformat())
        case project.ProjectStatusChanged(status=status):
            current.set(status=status)
        case project.MilestoneAdded(milestone_id=milestone_id, name=name, due_date=due_date):
            kept = [m for m in doc["milestones"] if m["id"] != str(milestone_id)]
            added = {
                "id": str(milestone_id),
                "name": name,
                "due_date": due_date.isoformat(),
                "done": False,
                "completed_on": None,
            }
            current.set(milestones=[*kept, added])
        case project.MilestoneCompleted(milestone_id=milestone_id):
            completed_on = event_day(change.event)
            current.set(
                milestones=[
                    {**m, "done": True, "completed_on": completed_on}
                    if m["id"] == str(milestone_id) and not m["done"]
                    else m
                    for m in doc["milestones"]
                ]
            )
        case project.ProjectGoalLinked(goal_id=goal_id):
            current.set(goal_ids=_added(doc["goal_ids"], str(goal_id)))
        case project.ProjectHealthPosted(health=health, note=note):
            posted_at = change.event.metadata.occurred_at.isoformat()
            current.set(health={"status": health, "note": note, "posted_at": posted_at})
        case project.ProjectIssueAdded(number=number):
            current.set(issue_count=max(doc["issue_count"], number))
        case _:
            assert_never(event)
    change.save(current)


def _apply_issue(change: _Change, event: issue.IssueEvent) -> None:
    issue_id = change.object_id
    if isinstance(event, issue.IssueCreated):
        change.create(
            ISSUES,
            {
                "key": event.key,
                "number": event.number,
                "kind": event.kind,
                "title": event.title,
                "description": event.description,
                "team_id": str(event.team_id),
                "project_id": _id(event.project_id),
                "assignee_id": _id(event.assignee_id),
                "status": event.status,
                "priority": event.priority,
                "severity": event.severity,
                "estimate": event.estimate,
                "due_date": _day(event.due_date),
                "labels": list(event.labels),
                "parent_id": _id(event.parent_id),
                "goal_ids": [str(goal_id) for goal_id in event.goal_ids],
                "affects": [],
                "blocked": False,
                "blocked_reason": None,
                "blocked_by": [],
                "watchers": [],
                "comment_count": 0,
            },
        )
        for label in event.labels:
            change.link(label, LABELLED, issue_id)
        if event.parent_id is not None:
            change.link(str(event.parent_id), SUB_ISSUE, issue_id)
        for goal_id in event.goal_ids:
            change.link(str(goal_id), GOAL_ISSUE, issue_id)
        return
    current = change.load(ISSUES)
    if current is None:
        return
    doc = current.doc
    match event:
        case issue.IssueRetitled(title=title):
            current.set(title=title)
        case issue.IssueDescriptionChanged(description=description):
            current.set(description=description)
        case issue.IssuePriorityChanged(priority=priority):
            current.set(priority=priority)
        case issue.IssueSeverityChanged(severity=severity):
            current.set(severity=severity)
        case issue.IssueEstimated(estimate=estimate):
            current.set(estimate=estimate)
        case issue.IssueDueDateChanged(due_date=due_date):
            current.set(due_date=_day(due_date))
        case issue.IssueLabelsChanged(labels=labels):
            for label in set(doc["labels"]) - set(labels):
                change.unlink(label, LABELLED, issue_id)
            for label in set(labels) - set(doc["labels"]):
                change.link(label, LABELLED, issue_id)
            current.set(labels=list(labels))
        case issue.IssueParentChanged(parent_id=parent_id):
            if doc["parent_id"] is not None:
                change.unlink(doc["parent_id"], SUB_ISSUE, issue_id)
            if parent_id is not None:
                change.link(str(parent_id), SUB_ISSUE, issue_id)
            current.set(parent_id=_id(parent_id))
        case issue.IssueAssigned(assignee_id=assignee_id):
            current.set(assignee_id=str(assignee_id))
        case issue.IssueUnassigned():
            current.set(assignee_id=None)
        case issue.IssueTransitioned(to_status=status):
            current.set(status=status)
        case issue.IssueBlocked(reason=reason):
            current.set(blocked=True, blocked_reason=reason)
        case issue.IssueUnblocked():
            current.set(blocked=False, blocked_reason=None)
        case issue.IssueDependencyAdded(blocked_by_id=blocker):
            change.link(str(blocker), BLOCKS, issue_id)
            current.set(blocked_by=_added(doc["blocked_by"], str(blocker)))
        case issue.IssueDependencyRemoved(blocked_by_id=blocker):
            change.unlink(str(blocker), BLOCKS, issue_id)
            current.set(blocked_by=_removed(doc["blocked_by"], str(blocker)))
        case issue.IssueLinked(kind="goal", target_id=target_id):
            change.link(str(target_id), GOAL_ISSUE, issue_id)
            current.set(goal_ids=_added(doc["goal_ids"], str(target_id)))
        case issue.IssueLinked(target_id=target_id, target_kind=target_kind):
            link = {"target_id": str(target_id), "target_kind": target_kind}
            current.set(affects=_added(doc["affects"], link))
        case issue.IssueUnlinked(kind="goal", target_id=target_id):
            change.unlink(str(target_id), GOAL_ISSUE, issue_id)
            current.set(goal_ids=_removed(doc["goal_ids"], str(target_id)))
        case issue.IssueUnlinked(target_id=target_id):
            kept = [link for link in doc["affects"] if link["target_id"] != str(target_id)]
            current.set(affects=kept)
        case issue.IssueCommented(comment_id=comment_id, author=author, body=body):
            change.writer.append(
                COMMENTS.name,
                {
                    "issue_id": issue_id,
                    "position": change.event.position,
                    "comment_id": str(comment_id),
                    "author": author,
                    "body": body,
                    "occurred": change.occurred,
                },
            )
            current.set(comment_count=doc["comment_count"] + 1)
        case issue.IssueWatcherAdded(member_id=member_id):
            current.set(watchers=_added(doc["watchers"], str(member_id)))
        case issue.IssueWatcherRemoved(member_id=member_id):
            current.set(watchers=_removed(doc["watchers"], str(member_id)))
        case _:
            assert_never(event)
    change.save(current)


def _apply_operation(change: _Change, event: operation.OperationEvent) -> None:
    operation_id = change.object_id
    if isinstance(event, operation.OperationCreated):
        change.create(
            OPERATIONS,
            {
                "title": event.title,
                "team_id": str(event.team_id),
                "owner_id": str(event.owner_id),
                "assignee_id": _id(event.assignee_id),
                "cadence": _cadence(event.cadence),
                "cadence_effective_from": event.start_date.isoformat(),
                "start_date": event.start_date.isoformat(),
                "end_date": _day(event.end_date),
                "runbook": list(event.runbook),
                "estimate": event.estimate,
                "status": "active",
            },
        )
        return
    current = change.load(OPERATIONS)
    if current is None:
        return
    writer, occurred, position = change.writer, change.occurred, change.event.position
    match event:
        case operation.OperationCadenceChanged(cadence=cadence, effective_from=effective_from):
            current.set(
                cadence=_cadence(cadence), cadence_effective_from=effective_from.isoformat()
            )
        case operation.OperationPaused():
            current.set(status="paused")
        case operation.OperationResumed():
            current.set(status="active")
        case operation.OperationRetired():
            current.set(status="retired")
        case operation.OccurrenceScheduled(due_date=due_date):
            scheduled = {
                "operation_id": operation_id,
                "due_date": due_date.isoformat(),
                "occurrence_id": str(event.occurrence_id),
                "status": "scheduled",
                "assignee_id": _id(event.assignee_id),
                "estimate": event.estimate,
                "note": "",
            }
            writer.put(OCCURRENCES.name, scheduled, occurred, position)
        case operation.OccurrenceCompleted(due_date=due_date, note=note):
            settled = {"status": "completed", "note": note}
            writer.update(
                OCCURRENCES.name, (operation_id, due_date.isoformat()), settled, occurred, position
            )
        case operation.OccurrenceSkipped(due_date=due_date, note=note):
            settled = {"status": "skipped", "note": note}
            writer.update(
                OCCURRENCES.name, (operation_id, due_date.isoformat()), settled, occurred, position
            )
        case operation.OperationAssigneeChanged(assignee_id=assignee_id):
            current.set(assignee_id=_id(assignee_id))
        case operation.RunbookEdited(items=items):
            current.set(runbook=list(items))
        case _:
            assert_never(event)
    change.save(current)


def event_day(event: RecordedEvent) -> str:
    """The day (UTC) an event occurred, as the documents store dates."""
    return event.metadata.occurred_at.astimezone(UTC).date().isoformat()


class EntitiesProjection:
    """Each object's state as a versioned row, plus the edges between objects and comments."""

    name = NAME
    schema_version = 2
    tables: tuple[Table, ...] = (
        TEAMS,
        MEMBERS,
        GOALS,
        PROJECTS,
        ISSUES,
        OPERATIONS,
        OCCURRENCES,
        EDGES,
        COMMENTS,
    )
    event_types: frozenset[str] | None = None

    def apply(self, writer: PageWriter, event: RecordedEvent) -> None:
        data: Event = event.data
        change = _Change(writer, event)
        # Issues first: most events are theirs.
        if isinstance(data, issue.IssueEvent):
            _apply_issue(change, data)
        elif isinstance(data, operation.OperationEvent):
            _apply_operation(change, data)
        elif isinstance(data, project.ProjectEvent):
            _apply_project(change, data)
        elif isinstance(data, goal.GoalEvent):
            _apply_goal(change, data)
        elif isinstance(data, member.MemberEvent):
            _apply_member(change, data)
        else:
            _apply_team(change, data)


PROJECTION = EntitiesProjection()


# Queries

router = Routes(tags=["entities"], responses=problem_responses(400, 404, 409))

_SELECTED = ("id", "version", "position", "valid_from", "created_position", "doc")


def _moment(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("%s" for _ in values)


@dataclass
class _Where:
    """A WHERE clause being put together, its parameters in the order of its placeholders."""

    conditions: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, condition: str, params: Sequence[Any] = ()) -> _Where:
        self.conditions.append(condition)
        self.params.extend(params)
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.conditions)


def _base(row: Row) -> Doc:
    """An object as answered: its document, identity, version and when it last changed."""
    doc: Doc = orjson.loads(row["doc"])
    doc.update(
        id=row["id"],
        version=row["version"],
        position=row["position"],
        updated_at=_moment(row["valid_from"]),
    )
    return doc


@dataclass(frozen=True)
class _Reading:
    """One request's reads: one snapshot of the database, the versions it sees, its day."""

    cursor: SqlCursor
    snapshot: Snapshot
    today: date
    detail: bool
    """A detail answer (everything about one object) rather than a list item."""

    def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql, params)
        return self.cursor.fetchall()


def _edges(
    reading: _Reading, nodes: Sequence[str], relations: Sequence[str]
) -> dict[tuple[str, str], list[str]]:
    """What hangs off each node by each relation, in the order the edges were made."""
    if not nodes:
        return {}
    visible, visible_params = reading.snapshot.visible()
    found: dict[tuple[str, str], list[str]] = {}
    for node, relation, other in reading.fetch(
        f"SELECT node_id, relation, other_id FROM {reading.snapshot.name(EDGES)} "
        f"WHERE node_id IN ({_placeholders(nodes)}) AND relation IN ({_placeholders(relations)}) "
        f"AND {visible} ORDER BY position, other_id",
        [*nodes, *relations, *visible_params],
    ):
        found.setdefault((node, relation), []).append(other)
    return found


def _render_teams(reading: _Reading, rows: list[Row]) -> list[Doc]:
    teams = [_base(row) for row in rows]
    if not teams:
        return teams
    ids = [team_doc["id"] for team_doc in teams]
    edge_visible, edge_params = reading.snapshot.visible("e")
    member_visible, member_params = reading.snapshot.visible("m")
    members: dict[str, list[tuple[str, float, bool]]] = {}
    for team_id, member_id, capacity, active in reading.fetch(
        f"SELECT e.node_id, e.other_id, m.weekly_capacity, m.active "
        f"FROM {reading.snapshot.name(EDGES)} e LEFT JOIN {reading.snapshot.name(MEMBERS)} m "
        f"ON m.id = e.other_id AND {member_visible} "
        f"WHERE e.node_id IN ({_placeholders(ids)}) AND e.relation = %s AND {edge_visible} "
        "ORDER BY e.position, e.other_id",
        [*member_params, *ids, TEAM_MEMBER, *edge_params],
    ):
        members.setdefault(team_id, []).append((member_id, capacity or 0.0, bool(active)))
    for team_doc in teams:
        joined = members.get(team_doc["id"], [])
        team_doc["member_ids"] = [member_id for member_id, _, _ in joined]
        capacity = team_doc["weekly_capacity"]
        team_doc["capacity"] = (
            capacity if capacity is not None else sum(c for _, c, active in joined if active)
        )
    return teams


def _render_members(reading: _Reading, rows: list[Row]) -> list[Doc]:
    members = [_base(row) for row in rows]
    teams = _edges(reading, [m["id"] for m in members], (MEMBER_TEAM,))
    for member_doc in members:
        member_doc["team_ids"] = teams.get((member_doc["id"], MEMBER_TEAM), [])
    return members


def _linked_work(
    reading: _Reading, goal_ids: Sequence[str]
) -> dict[str, tuple[int, int, float, float]]:
    """Per goal, its linked issues that are not cancelled: count, done, estimate, estimate done."""
    if not goal_ids:
        return {}
    edge_visible, edge_params = reading.snapshot.visible("e")
    issue_visible, issue_params = reading.snapshot.visible("i")
    rows = reading.fetch(
        "SELECT e.node_id, COUNT(*) AS issues, "
        "SUM(CASE WHEN i.status = 'done' THEN 1 ELSE 0 END) AS issues_done, "
        "SUM(COALESCE(i.estimate, 0)) AS estimate, "
        "SUM(CASE WHEN i.status = 'done' THEN COALESCE(i.estimate, 0) ELSE 0 END) AS estimate_done "
        f"FROM {reading.snapshot.name(EDGES)} e JOIN {reading.snapshot.name(ISSUES)} i "
        f"ON i.id = e.other_id AND {issue_visible} "
        f"WHERE e.node_id IN ({_placeholders(goal_ids)}) AND e.relation = %s AND {edge_visible} "
        "AND i.status <> 'cancelled' GROUP BY e.node_id",
        [*issue_params, *goal_ids, GOAL_ISSUE, *edge_params],
    )
    return {
        goal_id: (int(count), int(done), float(estimate), float(estimate_done))
        for goal_id, count, done, estimate, estimate_done in rows
    }


def _render_goals(reading: _Reading, rows: list[Row]) -> list[Doc]:
    goals = [_base(row) for row in rows]
    children = _edges(reading, [g["id"] for g in goals], (CHILD_GOAL,))
    work = _linked_work(reading, [g["id"] for g in goals if not g["key_results"]])
    for goal_doc in goals:
        goal_doc["children_ids"] = children.get((goal_doc["id"], CHILD_GOAL), [])
        # The domain's rules, on the document's numbers.
        for kr in goal_doc["key_results"]:
            kr["progress"] = goal.progress_between(kr["start"], kr["target"], kr["current"])
        progress = goal.mean_progress([kr["progress"] for kr in goal_doc["key_results"]])
        basis: str | None = "key_results"
        if progress is None:
            count, done, estimate, estimate_done = work.get(goal_doc["id"], (0, 0, 0.0, 0.0))
            progress = goal.work_progress(done, count, estimate_done, estimate)
            basis = "work" if progress is not None else None
        goal_doc["progress"] = progress
        goal_doc["progress_basis"] = basis
    return goals


def _render_projects(reading: _Reading, rows: list[Row]) -> list[Doc]:
    today = reading.today.isoformat()
    projects = [_base(row) for row in rows]
    for project_doc in projects:
        for milestone in project_doc["milestones"]:
            milestone["overdue"] = not milestone["done"] and milestone["due_date"] < today
    return projects


def _render_issues(reading: _Reading, rows: list[Row]) -> list[Doc]:
    today = reading.today.isoformat()
    issues = [_base(row) for row in rows]
    edges = _edges(reading, [i["id"] for i in issues], (SUB_ISSUE, BLOCKS))
    for issue_doc in issues:
        issue_doc["sub_issue_ids"] = edges.get((issue_doc["id"], SUB_ISSUE), [])
        issue_doc["blocks"] = edges.get((issue_doc["id"], BLOCKS), [])
        due = issue_doc["due_date"]
        issue_doc["overdue"] = (
            issue_doc["status"] in issue.OPEN_STATUSES and due is not None and due < today
        )
    return issues


_OCCURRENCE_COLUMNS = ("operation_id", "due_date", "occurrence_id", "status", "assignee_id")
_OCCURRENCE_DETAIL = (*_OCCURRENCE_COLUMNS, "estimate", "note")


def _render_operations(reading: _Reading, rows: list[Row]) -> list[Doc]:
    today, detail = reading.today, reading.detail
    operations = [_base(row) for row in rows]
    if not operations:
        return operations
    ids = [o["id"] for o in operations]
    visible, visible_params = reading.snapshot.visible()
    # A list only counts what is still to do; a detail shows every occurrence.
    columns = _OCCURRENCE_DETAIL if detail else _OCCURRENCE_COLUMNS
    only_open = "" if detail else "AND status = 'scheduled' "
    found = reading.fetch(
        f"SELECT {', '.join(columns)} FROM {reading.snapshot.name(OCCURRENCES)} "
        f"WHERE operation_id IN ({_placeholders(ids)}) {only_open}AND {visible} "
        "ORDER BY operation_id, due_date",
        [*ids, *visible_params],
    )
    occurrences: dict[str, list[Doc]] = {}
    for values in found:
        row = dict(zip(columns, values, strict=True))
        due_date = date.fromisoformat(row["due_date"])
        state = operation.Occurrence(
            UUID(row["occurrence_id"]),
            due_date,
            UUID(row["assignee_id"]) if row["assignee_id"] else None,
            row.get("estimate"),
            row["status"],
            row.get("note", ""),
        )
        occurrences.setdefault(row["operation_id"], []).append(
            {
                "id": row["occurrence_id"],
                "due_date": due_date,
                "status": state.status,
                "assignee_id": row["assignee_id"],
                "estimate": state.estimate,
                "note": state.note,
                "late": operation.is_late(state, today),
            }
        )
    for operation_doc in operations:
        own = occurrences.get(operation_doc["id"], [])
        scheduled = [o for o in own if o["status"] == "scheduled"]
        upcoming = [o["due_date"] for o in scheduled if not o["late"]]
        operation_doc["open_occurrences"] = len(scheduled)
        operation_doc["late_occurrences"] = sum(1 for o in scheduled if o["late"])
        operation_doc["next_due_date"] = min(upcoming, default=None)
        if detail:
            operation_doc["occurrences"] = own
    return operations


Render = Callable[[_Reading, list[Row]], list[Doc]]


@dataclass(frozen=True)
class _Kind:
    table: Table
    noun: str
    render: Render


_TEAM = _Kind(TEAMS, "team", _render_teams)
_MEMBER = _Kind(MEMBERS, "member", _render_members)
_GOAL = _Kind(GOALS, "goal", _render_goals)
_PROJECT = _Kind(PROJECTS, "project", _render_projects)
_ISSUE = _Kind(ISSUES, "issue", _render_issues)
_OPERATION = _Kind(OPERATIONS, "operation", _render_operations)


@dataclass(frozen=True)
class _Filters:
    """A list's filters: equalities on filter columns, and membership of an edge's node."""

    equal: tuple[tuple[str, Any], ...] = ()
    edge: tuple[str, str] | None = None

    @staticmethod
    def of(edge: tuple[str, str] | None = None, **columns: Any) -> _Filters:
        chosen = tuple((column, value) for column, value in columns.items() if value is not None)
        return _Filters(chosen, edge)


# Filter columns no event changes once an object is created (the domain has no event that moves
# an issue to another team or project, changes its kind, or hands a goal to another owner), so
# an object's current row holds the value it had at any earlier moment.
_SET_AT_CREATION = {
    ISSUES.name: frozenset({"team_id", "project_id", "kind"}),
    GOALS.name: frozenset({"team_id", "owner_id"}),
    PROJECTS.name: frozenset({"team_id"}),
    OPERATIONS.name: frozenset({"team_id"}),
}


def _find(
    reading: _Reading, kind: _Kind, filters: _Filters, after: int | None, limit: int
) -> tuple[list[Doc], int | None]:
    """The objects of a kind that pass the filters, in creation order after the cursor, and
    where the next page starts (``None`` on the last page).

    As of a past moment, the objects are walked in creation order through their current rows,
    whose indexes give that order, each joined to the version it had then: an object is never
    removed, so everything that existed then has a current row. Filters on fields set at
    creation narrow the walk through those indexes. The walk reads about as many versions as
    it answers, unless only fields that change over time are filtered on: then matches may be
    rare, and one scan of the versions beats looking each object up.
    """
    table = reading.snapshot.name(kind.table)
    visible, visible_params = reading.snapshot.visible("o")
    fixed = _SET_AT_CREATION.get(kind.table.name, frozenset())
    walk = reading.snapshot.as_of is not None and (
        not (filters.equal or filters.edge) or any(column in fixed for column, _ in filters.equal)
    )
    if walk:
        source = f"{table} c JOIN {table} o ON o.id = c.id AND {visible}"
        where = _Where(params=list(visible_params)).add("c.valid_to IS NULL")
    else:
        source = f"{table} o"
        where = _Where().add(visible, visible_params)
    for column, value in filters.equal:
        alias = "c" if walk and column in fixed else "o"
        where.add(f"{alias}.{column} = %s", (str(value) if isinstance(value, UUID) else value,))
    if filters.edge is not None:
        edge_visible, edge_params = reading.snapshot.visible("e")
        where.add(
            f"o.id IN (SELECT e.other_id FROM {reading.snapshot.name(EDGES)} e "
            f"WHERE e.node_id = %s AND e.relation = %s AND {edge_visible})",
            (*filters.edge, *edge_params),
        )
    order = "c" if walk else "o"
    if after is not None:
        where.add(f"{order}.created_position > %s", (after,))
    rows = reading.fetch(
        f"SELECT {', '.join(f'o.{c}' for c in _SELECTED)} FROM {source} "
        f"WHERE {where.sql} ORDER BY {order}.created_position LIMIT %s",
        [*where.params, limit + 1],
    )
    found = [dict(zip(_SELECTED, values, strict=True)) for values in rows[:limit]]
    following = int(found[-1]["created_position"]) if len(rows) > limit else None
    return kind.render(reading, found), following


_Answer = TypeVar("_Answer")


async def _read(view: ViewRequest, detail: bool, queries: Callable[[_Reading], _Answer]) -> _Answer:
    """Runs ``queries`` on one snapshot of the database, once the view has what was asked."""
    today = view.now.date()

    def read(snapshot: Snapshot) -> _Answer:
        return view.read(lambda cursor: queries(_Reading(cursor, snapshot, today, detail)))

    return await view.answer(NAME, read)


async def _detail(view: ViewRequest, kind: _Kind, object_id: UUID) -> Doc:
    filters = _Filters((("id", str(object_id)),))
    found, _ = await _read(view, True, lambda reading: _find(reading, kind, filters, None, 1))
    if not found:
        raise _not_found(view, kind.noun, object_id)
    return found[0]


def _with_etag(response: Response, doc: Doc) -> Doc:
    """The object's version as its ``ETag``, the value a command's ``If-Match`` takes."""
    response.headers["ETag"] = f'"{doc["version"]}"'
    return doc


def _not_found(view: ViewRequest, noun: str, object_id: UUID) -> ProblemError:
    when = f" as of {view.as_of.isoformat()}" if view.as_of is not None else ""
    return ProblemError(404, "not_found", f"there is no {noun} {object_id}{when}")


async def _list(
    view: ViewRequest, kind: _Kind, filters: _Filters, limit: int, cursor: str | None
) -> Doc:
    after = decode_position_cursor(cursor)
    items, following = await _read(
        view, False, lambda reading: _find(reading, kind, filters, after, limit)
    )
    next_cursor = encode_cursor([following]) if following is not None else None
    return {"items": items, "next_cursor": next_cursor}


TeamId = Annotated[UUID | None, Query(description="Only those of this team.")]


@router.get("/teams/{team_id}", response_model=TeamDetail)
async def get_team(team_id: Annotated[UUID, Path()], view: View, response: Response) -> Doc:
    """A team with its members, capacity, working agreement and definition of done."""
    return _with_etag(response, await _detail(view, _TEAM, team_id))


@router.get("/teams", response_model=TeamList)
async def list_teams(view: View, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Doc:
    """Every team, in the order they were created."""
    return await _list(view, _TEAM, _Filters(), limit, cursor)


@router.get("/members/{member_id}", response_model=MemberDetail)
async def get_member(member_id: Annotated[UUID, Path()], view: View, response: Response) -> Doc:
    """A member with their role, capacity, teams and whether they are active."""
    return _with_etag(response, await _detail(view, _MEMBER, member_id))


@router.get("/members", response_model=MemberList)
async def list_members(
    view: View,
    team_id: TeamId = None,
    active: Annotated[bool | None, Query(description="Only active (or deactivated) ones.")] = None,
    role: Annotated[Role | None, Query(description="Only those with this role.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Doc:
    """Members, in the order they were registered."""
    edge = (str(team_id), TEAM_MEMBER) if team_id is not None else None
    return await _list(view, _MEMBER, _Filters.of(edge, active=active, role=role), limit, cursor)


@router.get("/goals/{goal_id}", response_model=GoalDetail)
async def get_goal(goal_id: Annotated[UUID, Path()], view: View, response: Response) -> Doc:
    """A goal with its key results, progress and the goals aligned under it."""
    return _with_etag(response, await _detail(view, _GOAL, goal_id))


@router.get("/goals", response_model=GoalList)
async def list_goals(
    view: View,
    team_id: TeamId = None,
    status: Annotated[GoalStatus | None, Query(description="Only goals in this status.")] = None,
    owner_id: Annotated[UUID | None, Query(description="Only goals this member owns.")] = None,
    parent_id: Annotated[UUID | None, Query(description="Only goals aligned under it.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Doc:
    """Goals, in the order they were created."""
    filters = _Filters.of(team_id=team_id, status=status, owner_id=owner_id, parent_id=parent_id)
    return await _list(view, _GOAL, filters, limit, cursor)


@router.get("/projects/{project_id}", response_model=ProjectDetail)
async def get_project(project_id: Annotated[UUID, Path()], view: View, response: Response) -> Doc:
    """A project with its milestones, linked goals and latest health."""
    return _with_etag(response, await _detail(view, _PROJECT, project_id))


@router.get("/projects", response_model=ProjectList)
async def list_projects(
    view: View,
    team_id: TeamId = None,
    status: Annotated[
        ProjectStatus | None, Query(description="Only projects in this status.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Doc:
    """Projects, in the order they were created."""
    return await _list(view, _PROJECT, _Filters.of(team_id=team_id, status=status), limit, cursor)


@router.get("/issues/{issue_id}", response_model=IssueDetail)
async def get_issue(issue_id: Annotated[UUID, Path()], view: View, response: Response) -> Doc:
    """An issue with its links, dependencies both ways, sub-issues, watchers and comment count."""
    return _with_etag(response, await _detail(view, _ISSUE, issue_id))


@router.get("/issues", response_model=IssueList)
async def list_issues(
    view: View,
    team_id: TeamId = None,
    project_id: Annotated[UUID | None, Query(description="Only issues of this project.")] = None,
    assignee_id: Annotated[UUID | None, Query(description="Only issues assigned to them.")] = None,
    status: Annotated[IssueStatus | None, Query(description="Only issues in this status.")] = None,
    kind: Annotated[IssueKind | None, Query(description="Only issues of this kind.")] = None,
    priority: Annotated[Priority | None, Query(description="Only this priority.")] = None,
    label: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only issues with this label.")
    ] = None,
    blocked: Annotated[bool | None, Query(description="Only blocked (or unblocked) ones.")] = None,
    parent_id: Annotated[UUID | None, Query(description="Only sub-issues of this issue.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Doc:
    """Issues, in the order they were created."""
    filters = _Filters.of(
        (label, LABELLED) if label is not None else None,
        team_id=team_id,
        project_id=project_id,
        assignee_id=assignee_id,
        status=status,
        kind=kind,
        priority=priority,
        blocked=blocked,
        parent_id=parent_id,
    )
    return await _list(view, _ISSUE, filters, limit, cursor)


def _comments(reading: _Reading, issue_id: str, after: int | None, limit: int) -> Doc | None:
    visible, visible_params = reading.snapshot.visible()
    exists = reading.fetch(
        f"SELECT 1 FROM {reading.snapshot.name(ISSUES)} WHERE id = %s AND {visible}",
        [issue_id, *visible_params],
    )
    if not exists:
        return None
    occurred, occurred_params = reading.snapshot.occurred_by("occurred")
    comments = reading.snapshot.name(COMMENTS)
    rows = reading.fetch(
        f"SELECT comment_id, author, body, occurred, position FROM {comments} "
        f"WHERE issue_id = %s AND position > %s AND {occurred} ORDER BY position LIMIT %s",
        [issue_id, after or 0, *occurred_params, limit + 1],
    )
    items = [
        {
            "id": comment_id,
            "author": author,
            "body": body,
            "created_at": _moment(occurred_at),
            "position": position,
        }
        for comment_id, author, body, occurred_at, position in rows[:limit]
    ]
    more = len(rows) > limit
    return {
        "items": items,
        "next_cursor": encode_cursor([items[-1]["position"]]) if more else None,
    }


@router.get("/issues/{issue_id}/comments", response_model=CommentList)
async def list_comments(
    issue_id: Annotated[UUID, Path()],
    view: View,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Doc:
    """An issue's comments, oldest first."""
    after = decode_position_cursor(cursor)
    page = await _read(view, False, lambda reading: _comments(reading, str(issue_id), after, limit))
    if page is None:
        raise _not_found(view, "issue", issue_id)
    return page


@router.get("/operations/{operation_id}", response_model=OperationDetail)
async def get_operation(
    operation_id: Annotated[UUID, Path()], view: View, response: Response
) -> Doc:
    """An operation with its cadence, runbook and every occurrence (late ones marked)."""
    return _with_etag(response, await _detail(view, _OPERATION, operation_id))


@router.get("/operations", response_model=OperationList)
async def list_operations(
    view: View,
    team_id: TeamId = None,
    status: Annotated[
        OperationStatus | None, Query(description="Only operations in this status.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Doc:
    """Operations, in the order they were created, their occurrences counted."""
    filters = _Filters.of(team_id=team_id, status=status)
    return await _list(view, _OPERATION, filters, limit, cursor)
