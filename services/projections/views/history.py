"""The history: every event as an entry with its field-level changes, in a tamper-evident chain.

An entry says when the event occurred and was recorded, who caused it, which object (and team)
it concerns, what the event said, and each field of the object before and after it. To tell
before from after, the view keeps each object's fields as they stand (``hi_object``), one row per
object and per part of an object (a key result, a milestone, an occurrence), so a check-in does
not rewrite a goal's every key result and a daily operation's state stays small.

The field model is this view's own, not the entity view's: entries are hashed, so what an entry
says must not change when another view's shape does, or a rebuild would break the chain.

Each entry carries the SHA-256 of its content and of the previous entry's hash (see
``contracts.views.history`` for the exact encoding); ``GET /v1/history/verify`` recomputes them
all. The chain's head (the last entry's hash, and the latest time any entry occurred, which the
time index needs) is kept in ``hi_chain``, so a page is applied without reading the entries.

Pages are cut by position with keyset cursors; every filter has an index ending in the position,
and time ranges are turned into position ranges (see ``_time_bounded``), so a page costs the same
at the start of a long log as at its end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Annotated, Any, assert_never
from uuid import UUID

import orjson
from fastapi import Query, Response

from contracts.views.history import (
    GENESIS_HASH,
    ChainBroken,
    ChainIntact,
    ChainVerdict,
    HistoryPage,
    ObjectKind,
)
from domain import goal, issue, member, operation, project, team
from domain.catalog import kind_of_event
from services.infrastructure.codec import RecordedEvent
from services.infrastructure.http import ProblemError, Routes, problem_responses
from services.projections.query import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    View,
    ViewRequest,
    decode_position_cursor,
    encode_cursor,
    parse_as_of,
)
from services.projections.readmodel import (
    EPOCH,
    Column,
    Index,
    PageWriter,
    Snapshot,
    Table,
    micros,
)
from services.projections.runner import event_time, read_state

NAME = "history"

ENTRIES = Table(
    "hi_entry",
    key=("position",),
    columns=(
        Column("position", "int"),
        Column("event_id"),
        Column("occurred", "int"),
        Column("recorded", "int"),
        Column("actor"),
        Column("object_kind"),
        Column("object_id"),
        Column("event_type"),
        Column("team_id"),
        Column("correlation_id"),
        Column("causation_id"),
        Column("data"),
        Column("changes"),
        Column("previous_hash"),
        Column("hash"),
        # The time index (see ``_time_bounded``): the latest ``occurred`` up to this entry, and
        # whether this entry occurred before an earlier one (history imported late).
        Column("occurred_max", "int"),
        Column("out_of_order", "bool"),
    ),
    versioned=False,
    # One index per filter, each ending in the position the pages are ordered and cut by.
    indexes=(
        ("object_id", "position"),
        ("actor", "position"),
        ("team_id", "position"),
        ("object_kind", "position"),
        ("occurred_max", "position"),
        # Entries imported late, found by when they occurred or by position, whichever reads
        # fewer for the page asked (see ``_time_bounded``). Few entries are: partial indexes.
        Index(("occurred", "position"), where="out_of_order"),
        Index(("position",), where="out_of_order"),
    ),
)
OBJECTS = Table(
    "hi_object",
    key=("object_id", "part"),
    columns=(Column("object_id"), Column("part"), Column("team_id"), Column("fields")),
    latest_only=True,
)
CHAIN = Table(
    "hi_chain",
    key=("chain",),
    columns=(
        Column("chain"),
        Column("last_position", "int"),
        Column("hash"),
        Column("occurred_max", "int"),
    ),
    latest_only=True,
)

_HEAD = ("head",)
_MAIN = ""
_PARSED = "_parsed_fields"
_ENTRY_COLUMNS = ENTRIES.column_names
# Verification reads this many entries per query: large enough to be quick, small enough to
# keep memory flat on a chain of millions.
VERIFY_PAGE = 5000
_NO_POSITION = 2**63 - 1

Fields = dict[str, Any]
Event = (
    team.TeamEvent
    | member.MemberEvent
    | goal.GoalEvent
    | project.ProjectEvent
    | issue.IssueEvent
    | operation.OperationEvent
)


# The fields of each kind of object, and how each event changes them


def _id(value: UUID | None) -> str | None:
    return str(value) if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _set(fields: Fields | None, **values: Any) -> Fields | None:
    """The fields an event sets; none on an object never created (events are total)."""
    return None if fields is None else values


def _added(items: list[Any], item: Any) -> list[Any]:
    return items if item in items else [*items, item]


def _removed(items: list[Any], item: Any) -> list[Any]:
    return [existing for existing in items if existing != item]


def _team(fields: Fields | None, event: team.TeamEvent) -> Fields | None:
    """The fields of a team that ``event`` sets, given the team's fields before it."""
    match event:
        case team.TeamCreated():
            return {
                "name": event.name,
                "weekly_capacity": event.weekly_capacity,
                "member_ids": [],
                "working_agreement": "",
                "agreement_revision": 0,
                "definition_of_done": [],
            }
        case team.TeamRenamed(name=name):
            return _set(fields, name=name)
        case team.TeamCapacitySet(weekly_capacity=capacity):
            return _set(fields, weekly_capacity=capacity)
        case team.TeamMemberAdded(member_id=member_id):
            if fields is None:
                return None
            return _set(fields, member_ids=_added(fields["member_ids"], str(member_id)))
        case team.TeamMemberRemoved(member_id=member_id):
            if fields is None:
                return None
            return _set(fields, member_ids=_removed(fields["member_ids"], str(member_id)))
        case team.WorkingAgreementUpdated(text=text, revision=revision):
            return _set(fields, working_agreement=text, agreement_revision=revision)
        case team.DefinitionOfDoneUpdated(items=items):
            return _set(fields, definition_of_done=list(items))
        case _:
            assert_never(event)


def _member(fields: Fields | None, event: member.MemberEvent) -> Fields | None:
    """The fields of a member that ``event`` sets."""
    match event:
        case member.MemberRegistered():
            return {
                "name": event.name,
                "email": event.email,
                "role": event.role,
                "weekly_capacity": event.weekly_capacity,
                "active": True,
            }
        case member.MemberRenamed(name=name):
            return _set(fields, name=name)
        case member.MemberRoleChanged(role=role):
            return _set(fields, role=role)
        case member.MemberCapacitySet(weekly_capacity=capacity):
            return _set(fields, weekly_capacity=capacity)
        case member.MemberDeactivated():
            return _set(fields, active=False)
        case member.MemberReactivated():
            return _set(fields, active=True)
        case _:
            assert_never(event)


def _goal(fields: Fields | None, event: goal.GoalEvent) -> Fields | None:
    """The fields of a goal, or (for key result events) of the key result, ``event`` sets."""
    match event:
        case goal.GoalCreated():
            return {
                "title": event.title,
                "owner_id": str(event.owner_id),
                "team_id": _id(event.team_id),
                "period_start": event.period_start.isoformat(),
                "period_end": event.period_end.isoformat(),
                "parent_id": _id(event.parent_id),
                "status": "draft",
            }
        case goal.GoalActivated():
            return _set(fields, status="active")
        case goal.GoalClosed(outcome=outcome):
            return _set(fields, status=outcome)
        case goal.KeyResultAdded():
            return {
                "title": event.title,
                "unit": event.unit,
                "start": event.start,
                "target": event.target,
                "current": event.start,
            }
        case goal.KeyResultCheckedIn(value=value):
            return _set(fields, current=value)
        case goal.GoalRetitled(title=title):
            return _set(fields, title=title)
        case goal.GoalParentChanged(parent_id=parent_id):
            return _set(fields, parent_id=_id(parent_id))
        case _:
            assert_never(event)


def _project(fields: Fields | None, event: project.ProjectEvent) -> Fields | None:
    """The fields of a project, or (for milestone events) of the milestone, ``event`` sets."""
    match event:
        case project.ProjectCreated():
            return {
                "name": event.name,
                "key": event.key,
                "owner_id": str(event.owner_id),
                "team_id": str(event.team_id),
                "start_date": event.start_date.isoformat(),
                "target_date": event.target_date.isoformat(),
                "status": "proposed",
                "goal_ids": [],
                "health": None,
                "health_note": "",
                "issue_count": 0,
            }
        case project.ProjectRenamed(name=name):
            return _set(fields, name=name)
        case project.ProjectRescheduled(start_date=start_date, target_date=target_date):
            return _set(
                fields, start_date=start_date.isoformat(), target_date=target_date.isoformat()
            )
        case project.ProjectStatusChanged(status=status):
            return _set(fields, status=status)
        case project.MilestoneAdded(name=name, due_date=due_date):
            return {"name": name, "due_date": due_date.isoformat(), "done": False}
        case project.MilestoneCompleted():
            return _set(fields, done=True)
        case project.ProjectGoalLinked(goal_id=goal_id):
            if fields is None:
                return None
            return _set(fields, goal_ids=_added(fields["goal_ids"], str(goal_id)))
        case project.ProjectHealthPosted(health=health, note=note):
            return _set(fields, health=health, health_note=note)
        case project.ProjectIssueAdded(number=number):
            if fields is None:
                return None
            return _set(fields, issue_count=max(fields["issue_count"], number))
        case _:
            assert_never(event)


def _issue(fields: Fields | None, event: issue.IssueEvent) -> Fields | None:
    """The fields of an issue that ``event`` sets."""
    match event:
        case issue.IssueCreated():
            return {
                "kind": event.kind,
                "title": event.title,
                "description": event.description,
                "team_id": str(event.team_id),
                "project_id": _id(event.project_id),
                "number": event.number,
                "key": event.key,
                "status": event.status,
                "priority": event.priority,
                "severity": event.severity,
                "estimate": event.estimate,
                "due_date": _day(event.due_date),
                "labels": list(event.labels),
                "parent_id": _id(event.parent_id),
                "assignee_id": _id(event.assignee_id),
                "blocked_reason": None,
                "blocked_by": [],
                "goal_ids": [str(goal_id) for goal_id in event.goal_ids],
                "affects": [],
                "watchers": [],
                "comment_count": 0,
            }
        case issue.IssueRetitled(title=title):
            return _set(fields, title=title)
        case issue.IssueDescriptionChanged(description=description):
            return _set(fields, description=description)
        case issue.IssuePriorityChanged(priority=priority):
            return _set(fields, priority=priority)
        case issue.IssueSeverityChanged(severity=severity):
            return _set(fields, severity=severity)
        case issue.IssueEstimated(estimate=estimate):
            return _set(fields, estimate=estimate)
        case issue.IssueDueDateChanged(due_date=due_date):
            return _set(fields, due_date=_day(due_date))
        case issue.IssueLabelsChanged(labels=labels):
            return _set(fields, labels=list(labels))
        case issue.IssueParentChanged(parent_id=parent_id):
            return _set(fields, parent_id=_id(parent_id))
        case issue.IssueAssigned(assignee_id=assignee_id):
            return _set(fields, assignee_id=str(assignee_id))
        case issue.IssueUnassigned():
            return _set(fields, assignee_id=None)
        case issue.IssueTransitioned(to_status=status):
            return _set(fields, status=status)
        case issue.IssueBlocked(reason=reason):
            return _set(fields, blocked_reason=reason)
        case issue.IssueUnblocked():
            return _set(fields, blocked_reason=None)
        case issue.IssueDependencyAdded(blocked_by_id=blocker):
            if fields is None:
                return None
            return _set(fields, blocked_by=_added(fields["blocked_by"], str(blocker)))
        case issue.IssueDependencyRemoved(blocked_by_id=blocker):
            if fields is None:
                return None
            return _set(fields, blocked_by=_removed(fields["blocked_by"], str(blocker)))
        case issue.IssueLinked(kind=kind, target_id=target_id):
            if fields is None:
                return None
            links = "goal_ids" if kind == "goal" else "affects"
            return _set(fields, **{links: _added(fields[links], str(target_id))})
        case issue.IssueUnlinked(kind=kind, target_id=target_id):
            if fields is None:
                return None
            links = "goal_ids" if kind == "goal" else "affects"
            return _set(fields, **{links: _removed(fields[links], str(target_id))})
        case issue.IssueCommented():
            if fields is None:
                return None
            return _set(fields, comment_count=fields["comment_count"] + 1)
        case issue.IssueWatcherAdded(member_id=member_id):
            if fields is None:
                return None
            return _set(fields, watchers=_added(fields["watchers"], str(member_id)))
        case issue.IssueWatcherRemoved(member_id=member_id):
            if fields is None:
                return None
            return _set(fields, watchers=_removed(fields["watchers"], str(member_id)))
        case _:
            assert_never(event)


def _cadence(cadence: Any) -> Fields:
    return {
        "every": cadence.every,
        "interval": cadence.interval,
        "weekdays": list(cadence.weekdays),
        "day_of_month": cadence.day_of_month,
    }


def _operation(fields: Fields | None, event: operation.OperationEvent) -> Fields | None:
    """The fields of an operation, or (for occurrence events) of the occurrence, ``event``
    sets."""
    match event:
        case operation.OperationCreated():
            return {
                "title": event.title,
                "team_id": str(event.team_id),
                "owner_id": str(event.owner_id),
                "assignee_id": _id(event.assignee_id),
                "cadence": _cadence(event.cadence),
                "cadence_from": event.start_date.isoformat(),
                "start_date": event.start_date.isoformat(),
                "end_date": _day(event.end_date),
                "runbook": list(event.runbook),
                "estimate": event.estimate,
                "status": "active",
            }
        case operation.OperationCadenceChanged(cadence=cadence, effective_from=effective_from):
            return _set(fields, cadence=_cadence(cadence), cadence_from=effective_from.isoformat())
        case operation.OperationPaused():
            return _set(fields, status="paused")
        case operation.OperationResumed():
            return _set(fields, status="active")
        case operation.OperationRetired():
            return _set(fields, status="retired")
        case operation.OccurrenceScheduled():
            return {
                "id": str(event.occurrence_id),
                "assignee_id": _id(event.assignee_id),
                "estimate": event.estimate,
                "status": "scheduled",
                "note": "",
            }
        case operation.OccurrenceCompleted(note=note):
            return _set(fields, status="completed", note=note)
        case operation.OccurrenceSkipped(note=note):
            return _set(fields, status="skipped", note=note)
        case operation.OperationAssigneeChanged(assignee_id=assignee_id):
            return _set(fields, assignee_id=_id(assignee_id))
        case operation.RunbookEdited(items=items):
            return _set(fields, runbook=list(items))
        case _:
            assert_never(event)


def fields_set(fields: Fields | None, event: Event) -> Fields | None:
    """The fields ``event`` sets on the part of its object it concerns: every field when it
    creates it, ``None`` when the part does not exist (a fact about nothing changes nothing)."""
    # Issues first: most events are theirs.
    if isinstance(event, issue.IssueEvent):
        return _issue(fields, event)
    if isinstance(event, operation.OperationEvent):
        return _operation(fields, event)
    if isinstance(event, project.ProjectEvent):
        return _project(fields, event)
    if isinstance(event, goal.GoalEvent):
        return _goal(fields, event)
    if isinstance(event, member.MemberEvent):
        return _member(fields, event)
    return _team(fields, event)


def part_of(event: Event) -> str:
    """The part of its object an event changes: ``""`` for the object itself, else its path."""
    match event:
        case goal.KeyResultAdded(kr_id=kr_id) | goal.KeyResultCheckedIn(kr_id=kr_id):
            return f"key_results.{kr_id}"
        case (
            project.MilestoneAdded(milestone_id=milestone_id)
            | project.MilestoneCompleted(milestone_id=milestone_id)
        ):
            return f"milestones.{milestone_id}"
        case (
            operation.OccurrenceScheduled(due_date=due_date)
            | operation.OccurrenceCompleted(due_date=due_date)
            | operation.OccurrenceSkipped(due_date=due_date)
        ):
            return f"occurrences.{due_date.isoformat()}"
        case _:
            return _MAIN


def field_changes(part: str, before: Fields | None, values: Fields) -> list[Fields]:
    """Each field ``values`` gives a new value, in the object's field order; new ones were null."""
    prefix = f"{part}." if part else ""
    if before is None:
        return [{"field": prefix + name, "before": None, "after": v} for name, v in values.items()]
    return [
        {"field": prefix + name, "before": before.get(name), "after": value}
        for name, value in values.items()
        if name not in before or before[name] != value
    ]


# The chain


@lru_cache(maxsize=4096)
def iso_time(moment: int) -> str:
    """A stored time (microseconds) as the entry states it: exact, in UTC.

    Remembered, because the events of one command, and of one group commit, share their times.
    """
    return (EPOCH + timedelta(microseconds=moment)).isoformat()


def entry_content(row: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as the API answers it, without its ``hash``: exactly what the hash covers."""
    return {
        "position": row["position"],
        "event_id": row["event_id"],
        "occurred_at": iso_time(row["occurred"]),
        "recorded_at": iso_time(row["recorded"]),
        "actor": row["actor"],
        "object_kind": row["object_kind"],
        "object_id": row["object_id"],
        "event_type": row["event_type"],
        "team_id": row["team_id"],
        "correlation_id": row["correlation_id"],
        "causation_id": row["causation_id"],
        "data": orjson.loads(row["data"]),
        "changes": orjson.loads(row["changes"]),
        "previous_hash": row["previous_hash"],
    }


def entry_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an entry's content (sorted keys, no whitespace)."""
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


# The projection


class HistoryProjection:
    """Every event becomes one chained entry."""

    name = NAME
    schema_version = 4
    tables: tuple[Table, ...] = (ENTRIES, OBJECTS, CHAIN)
    event_types: frozenset[str] | None = None

    def apply(self, writer: PageWriter, event: RecordedEvent) -> None:
        data: Event = event.data
        occurred = event_time(event)
        kind = kind_of_event(type(data))
        object_id = event.stream_id_text
        part = part_of(data)
        main = writer.get(OBJECTS.name, (object_id, _MAIN))
        state = main if part == _MAIN else writer.get(OBJECTS.name, (object_id, part))
        before: Fields | None = None
        if state is not None:
            # Rows this worker wrote carry their fields parsed (a key that is not a column).
            before = state.get(_PARSED)
            if before is None:
                before = orjson.loads(state["fields"])
        values = fields_set(before, data)
        if kind == "team":
            team_id: str | None = object_id
        elif main is not None:
            team_id = main["team_id"]
        else:
            # A creation event: the object's first fields name its team, if it has one.
            team_id = values.get("team_id") if values is not None and part == _MAIN else None
        changes = field_changes(part, before, values) if values is not None else []
        if values is not None and (before is None or changes):
            after = values if before is None else {**before, **values}
            writer.put(
                OBJECTS.name,
                {
                    "object_id": object_id,
                    "part": part,
                    "team_id": team_id,
                    "fields": orjson.dumps(after).decode(),
                    _PARSED: after,
                },
                occurred,
                event.position,
            )
        head = writer.get(CHAIN.name, _HEAD)
        metadata = event.metadata
        recorded = micros(event.recorded_at)
        # Canonical JSON (sorted keys) once: stored as is, and hashed as is inside the entry.
        data_text = orjson.dumps(event.payload, option=orjson.OPT_SORT_KEYS).decode()
        changes_text = orjson.dumps(changes, option=orjson.OPT_SORT_KEYS).decode()
        row: dict[str, Any] = {
            "position": event.position,
            "event_id": metadata.event_id_text,
            "occurred": occurred,
            "recorded": recorded,
            "actor": metadata.actor,
            "object_kind": kind,
            "object_id": object_id,
            "event_type": event.type,
            "team_id": team_id,
            "correlation_id": metadata.correlation_id_text,
            "causation_id": metadata.causation_id_text,
            "data": data_text,
            "changes": changes_text,
            "previous_hash": head["hash"] if head is not None else GENESIS_HASH,
        }
        latest = head["occurred_max"] if head is not None else occurred
        # What ``entry_content`` reads back from the row, built without parsing it again.
        content = {
            **row,
            "occurred_at": iso_time(occurred),
            "recorded_at": iso_time(recorded),
            "data": orjson.Fragment(data_text),
            "changes": orjson.Fragment(changes_text),
        }
        del content["occurred"], content["recorded"]
        row["hash"] = entry_hash(content)
        row["occurred_max"] = max(latest, occurred)
        row["out_of_order"] = occurred < latest
        writer.append(ENTRIES.name, row)
        writer.put(
            CHAIN.name,
            {
                "chain": _HEAD[0],
                "last_position": event.position,
                "hash": row["hash"],
                "occurred_max": row["occurred_max"],
            },
            occurred,
            event.position,
        )


PROJECTION = HistoryProjection()


# Queries

router = Routes(tags=["history"], responses=problem_responses(400, 409))


def _parse_time(value: str | None, field: str) -> int | None:
    try:
        moment = parse_as_of(value)
    except ProblemError:
        raise ProblemError(
            422,
            "validation_error",
            f"{field} must be an ISO 8601 time, such as 2026-03-01T12:00:00Z",
            errors=[{"field": field, "message": "not an ISO 8601 time"}],
        ) from None
    return micros(moment) if moment is not None else None


def _entry(values: Sequence[Any]) -> dict[str, Any]:
    row = dict(zip(_ENTRY_COLUMNS, values, strict=True))
    content = entry_content(row)
    content["hash"] = row["hash"]
    return content


@dataclass(frozen=True)
class _Page:
    """One page's query: equality filters, a time range, a cursor, a direction."""

    filters: Sequence[tuple[str, Any]]
    since: int | None
    before: int | None
    after: int | None
    limit: int
    newest_first: bool


def _time_bounded(table: str, page: _Page) -> tuple[str, list[Any]]:
    """The page's SQL, its time range turned into position ranges the primary key serves.

    ``occurred`` follows the log order except where history was imported late, so each entry
    keeps ``occurred_max``, the latest time up to and including it, which never decreases.
    Every entry that occurred at or after ``since`` lies at or after the first entry whose
    ``occurred_max`` reached ``since``; every entry before the first whose ``occurred_max``
    reached ``before`` occurred before it, and after that one only entries flagged
    ``out_of_order`` can have. Both first entries are one index lookup each, so a page costs
    the same however far into the log its time range lies.
    """
    where: list[str] = []
    params: list[Any] = []
    for condition, value in page.filters:
        where.append(condition)
        params.append(value)
    if page.after is not None:
        where.append("position < %s" if page.newest_first else "position > %s")
        params.append(page.after)

    def first_reaching(moment: int) -> str:
        return (
            f"(SELECT position FROM {table} WHERE occurred_max >= {moment} "
            "ORDER BY occurred_max, position LIMIT 1)"
        )

    # Times are written into the SQL (they are integers this module made): the best plan
    # depends on them, and a prepared statement's generic plan would not know them.
    if page.since is not None:
        where.extend(
            (f"position >= {first_reaching(page.since)}", f"occurred >= {int(page.since)}")
        )
    order = "DESC" if page.newest_first else "ASC"
    columns = ", ".join(_ENTRY_COLUMNS)
    if page.before is None:
        return (
            f"SELECT {columns} FROM {table} WHERE {' AND '.join(where) or '1 = 1'} "
            f"ORDER BY position {order} LIMIT %s",
            [*params, page.limit + 1],
        )
    before = int(page.before)
    in_order = " AND ".join(
        [
            *where,
            f"position < COALESCE({first_reaching(before)}, {_NO_POSITION})",
            f"occurred < {before}",
        ]
    )
    late = " AND ".join(
        [
            *where,
            # Stated as the partial indexes state it, so the planner can use them.
            "out_of_order",
            f"position >= {first_reaching(before)}",
            f"occurred < {before}",
        ]
    )
    # Each branch is a page of its own, so each reads at most one page from its index.
    return (
        f"SELECT {columns} FROM ("
        f"SELECT * FROM (SELECT {columns} FROM {table} WHERE {in_order} "
        f"ORDER BY position {order} LIMIT %s) AS in_order UNION ALL "
        f"SELECT * FROM (SELECT {columns} FROM {table} WHERE {late} "
        f"ORDER BY position {order} LIMIT %s) AS late"
        f") AS entries ORDER BY position {order} LIMIT %s",
        [*params, page.limit + 1, *params, page.limit + 1, page.limit + 1],
    )


def _select_page(view: ViewRequest, snapshot: Snapshot, page: _Page) -> dict[str, Any]:
    sql, params = _time_bounded(snapshot.name(ENTRIES), page)
    rows = view.fetchall(sql, params)
    items = [_entry(values) for values in rows[: page.limit]]
    more = len(rows) > page.limit
    return {
        "items": items,
        "next_cursor": encode_cursor([items[-1]["position"]]) if more else None,
    }


@router.get("/history", response_model=HistoryPage)
async def history(
    view: View,
    object_id: Annotated[UUID | None, Query(description="Only this object's events.")] = None,
    actor_id: Annotated[
        str | None,
        Query(max_length=64, description="Only events caused by this member (or `system`)."),
    ] = None,
    team_id: Annotated[
        UUID | None, Query(description="Only events of this team's objects.")
    ] = None,
    kind: Annotated[
        ObjectKind | None, Query(description="Only events of this kind of object.")
    ] = None,
    since: Annotated[
        str | None, Query(description="Only events that occurred at or after this ISO time.")
    ] = None,
    until: Annotated[
        str | None, Query(description="Only events that occurred before this ISO time.")
    ] = None,
    newest_first: Annotated[
        bool, Query(description="Page from the newest entry back instead of the oldest on.")
    ] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every event as an entry with its field-level changes, in log order, filtered and paged.

    With `as_of`, only the entries of events that had occurred by then.
    """
    filters: list[tuple[str, Any]] = []
    if object_id is not None:
        filters.append(("object_id = %s", str(object_id)))
    if actor_id is not None:
        filters.append(("actor = %s", actor_id))
    if team_id is not None:
        filters.append(("team_id = %s", str(team_id)))
    if kind is not None:
        filters.append(("object_kind = %s", kind))
    start = _parse_time(since, "since")
    end = _parse_time(until, "until")
    after = decode_position_cursor(cursor)

    def read(snapshot: Snapshot) -> dict[str, Any]:
        ends = [end] if end is not None else []
        if snapshot.as_of is not None:
            # As of a moment, what had occurred by then: before its next microsecond.
            ends.append(snapshot.as_of + 1)
        page = _Page(filters, start, min(ends, default=None), after, limit, newest_first)
        return _select_page(view, snapshot, page)

    answer = await view.answer(NAME, read)
    # Plain data serialised by orjson: validating a page of entries into models first cost as
    # much as the query. The tests check every page against ``HistoryPage``.
    return Response(orjson.dumps(answer), media_type="application/json")


def verify_chain(
    fetch: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]], table: str, last_position: int
) -> ChainVerdict:
    """Walks the chain up to ``last_position`` in pages, recomputing every hash and link, and
    the time index that time-bounded pages rely on."""
    previous_hash = GENESIS_HASH
    previous_position = 0
    latest: int | None = None
    count = 0
    while True:
        page = fetch(
            f"SELECT {', '.join(_ENTRY_COLUMNS)} FROM {table} "
            "WHERE position > %s AND position <= %s ORDER BY position LIMIT %s",
            (previous_position, last_position, VERIFY_PAGE),
        )
        for values in page:
            row = dict(zip(_ENTRY_COLUMNS, values, strict=True))
            position: int = row["position"]
            if entry_hash(entry_content(row)) != row["hash"]:
                return ChainBroken(
                    valid=False,
                    first_bad_position=position,
                    reason="the entry's hash does not match its content",
                )
            if row["previous_hash"] != previous_hash:
                return ChainBroken(
                    valid=False,
                    first_bad_position=position,
                    reason=f"the entry does not chain to the entry before it "
                    f"(position {previous_position}): an entry was changed, removed or added",
                )
            occurred: int = row["occurred"]
            expected_max = occurred if latest is None else max(latest, occurred)
            expected_late = latest is not None and occurred < latest
            if (row["occurred_max"], bool(row["out_of_order"])) != (expected_max, expected_late):
                return ChainBroken(
                    valid=False,
                    first_bad_position=position,
                    reason="the entry's time index does not follow from the entries before it, "
                    "so time-bounded pages could miss entries",
                )
            previous_hash = row["hash"]
            previous_position = position
            latest = expected_max
            count += 1
        if len(page) < VERIFY_PAGE:
            break
    if previous_position != last_position:
        return ChainBroken(
            valid=False,
            first_bad_position=last_position,
            reason=f"the chain ends at position {previous_position}, but the history has "
            f"applied every event up to {last_position}: entries are missing",
        )
    return ChainIntact(valid=True, entries=count, last_hash=previous_hash)


@router.get("/history/verify", response_model=ChainVerdict)
async def verify(view: View) -> ChainVerdict:
    """Recomputes every entry's hash and link, from the first entry to the last one applied.

    Answers the number of entries and the last hash, or the first entry that does not hold and
    why. The whole chain is checked whatever `as_of` says: a chain is only as sound as its start.
    """

    def verify_applied(snapshot: Snapshot) -> ChainVerdict:
        # The position with the generation it belongs to: what was applied, however far.
        state = read_state(view.read_models.backend, NAME)
        if state is None:
            raise ProblemError(503, "unavailable", "the history view is not built yet")
        table = ENTRIES.physical(state.generation)
        return verify_chain(view.fetchall, table, state.position)

    return await view.answer(NAME, verify_applied)
