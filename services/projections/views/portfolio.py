"""The portfolio read model: projects, the goal tree and organisation totals, for executives.

Aggregating 100,000 issues per request is far too slow for the portfolio's latency budget, so the
projection keeps the aggregates itself, as versioned rows (which also makes ``as_of`` exact).
Each issue's slim row (``pf_issue``) is the state it was last counted with; every change to it
moves its *share* out of the tallies it was counted in and into those it belongs to now: its
scope's tally (``pf_tally``: its project's, or its team's for issues outside any project) and
each linked goal's (``pf_goal_work``). One tally per issue keeps a rebuild to about one extra row
per event; organisation totals are the sum of the few hundred tallies. Completing an issue
appends a fact to ``pf_completion`` (reopening appends its reversal), from which a team's
throughput over any window is summed.

Only "overdue" and "late" depend on the moment asked about, so a tally keeps its open issues' due
dates as counts per date, and the query counts those before today.

Decisions the spec leaves open:
- progress counts every issue of the project except cancelled ones, by estimate (unestimated
  issues weigh nothing); when nothing is estimated, by count;
- an issue is blocked when it is open and either flagged blocked or waiting on a ``blocked_by``
  issue that is still open (a done or cancelled blocker no longer blocks);
- the forecast divides the project's open estimate by its team's throughput: the estimate the
  team completed in the ``throughput_weeks`` weeks before the moment asked about (all its work,
  planned or not, net of reopened work) per week;
- risk flags describe open projects only; a completed or cancelled project carries none;
- filters narrow the page of projects; the goal tree and the totals describe the organisation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Final, get_args
from uuid import UUID

import orjson
from fastapi import Query
from fastapi.responses import Response

from contracts.views.portfolio import Portfolio, ProjectStatus
from domain import goal as goals
from domain import operation as operations
from domain.goal import (
    GoalActivated,
    GoalClosed,
    GoalCreated,
    GoalParentChanged,
    GoalRetitled,
    KeyResultAdded,
    KeyResultCheckedIn,
)
from domain.issue import (
    KINDS,
    OPEN_STATUSES,
    PRIORITIES,
    UNPLANNED_KINDS,
    IssueBlocked,
    IssueCreated,
    IssueDependencyAdded,
    IssueDependencyRemoved,
    IssueDueDateChanged,
    IssueEstimated,
    IssueLinked,
    IssuePriorityChanged,
    IssueTransitioned,
    IssueUnblocked,
    IssueUnlinked,
)
from domain.member import MemberRegistered, MemberRenamed
from domain.operation import (
    OccurrenceCompleted,
    OccurrenceScheduled,
    OccurrenceSkipped,
    OperationCreated,
    OperationPaused,
    OperationResumed,
    OperationRetired,
)
from domain.project import CLOSED_STATUSES as CLOSED_PROJECT_STATUSES
from domain.project import (
    MilestoneAdded,
    MilestoneCompleted,
    ProjectCreated,
    ProjectGoalLinked,
    ProjectHealthPosted,
    ProjectRenamed,
    ProjectRescheduled,
    ProjectStatusChanged,
)
from domain.project import ProjectStatus as ProjectLifecycle
from domain.team import TeamCreated, TeamRenamed
from services.infrastructure.codec import RecordedEvent
from services.infrastructure.http import Routes, problem_responses
from services.infrastructure.store import Statement
from services.projections.query import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    View,
    ViewRequest,
    decode_cursor_of,
    encode_cursor,
)
from services.projections.readmodel import (
    EPOCH,
    Column,
    PageWriter,
    Row,
    Snapshot,
    Table,
    micros,
)
from services.projections.runner import event_time

NAME: Final = "portfolio"

# The pace of a team is measured over this many weeks unless the query asks otherwise.
DEFAULT_THROUGHPUT_WEEKS: Final = 6
PROJECT_STATUSES: Final = get_args(ProjectLifecycle)
GOAL_STATUSES: Final = get_args(goals.GoalStatus)
OPERATION_STATUSES: Final = get_args(operations.Status)
# A tally's open due dates travel through the shares as ``due:<date>`` entries.
DUE: Final = "due:"
# Estimates are summed and subtracted again; rounding keeps that from leaving float dust.
DIGITS: Final = 9


def _counts(*names: str) -> tuple[Column, ...]:
    return tuple(Column(name, "int") for name in names)


def _amounts(*names: str) -> tuple[Column, ...]:
    return tuple(Column(name, "real") for name in names)


TEAMS = Table("pf_team", ("team_id",), (Column("team_id"), Column("name")))
MEMBERS = Table("pf_member", ("member_id",), (Column("member_id"), Column("name")))
PROJECTS = Table(
    "pf_project",
    ("project_id",),
    (
        Column("project_id"),
        Column("key"),
        Column("name"),
        Column("owner_id"),
        Column("team_id"),
        Column("status"),
        Column("start_date"),
        Column("target_date"),
        Column("health"),
        Column("health_note"),
        Column("health_at", "int"),
        Column("goal_ids"),
        Column("milestones"),
    ),
    indexes=(("key", "project_id"), ("team_id", "key", "project_id")),
)
PROJECT_METRICS: Final = (
    *_counts("issues_total", "issues_done"),
    *_amounts("estimate_total", "estimate_done", "open_estimate"),
    *_counts(*(f"open_{priority}" for priority in PRIORITIES), "blocked"),
    Column("open_due"),
)
KIND_METRICS: Final = tuple(
    column
    for kind in KINDS
    for column in (
        *_counts(f"{kind}_open", f"{kind}_done", f"{kind}_cancelled"),
        *_amounts(f"{kind}_open_estimate", f"{kind}_done_estimate"),
    )
)
TALLIES = Table("pf_tally", ("scope_id",), (Column("scope_id"), *PROJECT_METRICS, *KIND_METRICS))
ISSUES = Table(
    "pf_issue",
    ("issue_id",),
    (
        Column("issue_id"),
        Column("team_id"),
        Column("project_id"),
        Column("kind"),
        Column("status"),
        Column("priority"),
        Column("estimate", "real"),
        Column("due_date"),
        Column("flagged", "bool"),
        Column("waiting", "bool"),
        Column("blocked_by"),
        Column("blocks"),
        Column("goal_ids"),
        Column("credited", "real"),
    ),
)
GOALS = Table(
    "pf_goal",
    ("goal_id",),
    (
        Column("goal_id"),
        Column("title"),
        Column("owner_id"),
        Column("team_id"),
        Column("period_start"),
        Column("period_end"),
        Column("parent_id"),
        Column("status"),
        Column("key_results"),
    ),
)
GOAL_WORK = Table(
    "pf_goal_work",
    ("goal_id",),
    (
        Column("goal_id"),
        *_counts("issues_total", "issues_done"),
        *_amounts("estimate_total", "estimate_done"),
    ),
)
OPERATIONS = Table(
    "pf_operation",
    ("operation_id",),
    (
        Column("operation_id"),
        Column("team_id"),
        Column("status"),
        Column("open_occurrences"),
        *_counts("completed", "skipped"),
    ),
)
COMPLETIONS = Table(
    "pf_completion",
    ("position",),
    (
        Column("position", "int"),
        Column("issue_id"),
        Column("team_id"),
        Column("project_id"),
        Column("kind"),
        Column("estimate", "real"),
        Column("occurred", "int"),
    ),
    versioned=False,
    indexes=(("occurred", "team_id", "estimate"),),
)
# Completed estimate per team and UTC day (days since the epoch). A team's pace over the last
# weeks sums whole days from here and only the two partial days at its ends from completions,
# so a portfolio reads a few thousand rows instead of every completion in the window.
TEAM_DAYS = Table(
    "pf_team_day",
    ("team_id", "day"),
    (Column("team_id"), Column("day", "int"), Column("completed", "real")),
    latest_only=True,
    indexes=(("day", "team_id", "completed"),),
)
DAY_MICROS = 86_400_000_000


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _loads(text: str | None) -> Any:
    return orjson.loads(text) if text else None


def _moment(value: int) -> datetime:
    """A stored time as a datetime, exact to the microsecond."""
    return EPOCH + timedelta(microseconds=value)


def _is_open(issue: Row | None) -> bool:
    return issue is not None and issue["status"] in OPEN_STATUSES


# How much one issue weighs in each tally it is part of.


def _share(issue: Row | None) -> dict[str, float]:
    """What the issue adds to its scope's tally."""
    if issue is None:
        return {}
    kind, status, estimate = issue["kind"], issue["status"], issue["estimate"] or 0.0
    if status == "cancelled":
        return {f"{kind}_cancelled": 1}
    share: dict[str, float] = {"issues_total": 1, "estimate_total": estimate}
    if status == "done":
        share |= {
            "issues_done": 1,
            "estimate_done": estimate,
            f"{kind}_done": 1,
            f"{kind}_done_estimate": estimate,
        }
        return share
    share |= {
        "open_estimate": estimate,
        f"open_{issue['priority']}": 1,
        f"{kind}_open": 1,
        f"{kind}_open_estimate": estimate,
    }
    if issue["flagged"] or issue["waiting"]:
        share["blocked"] = 1
    if issue["due_date"] is not None:
        share[DUE + issue["due_date"]] = 1
    return share


def _goal_share(issue: Row | None) -> dict[str, float]:
    """What the issue adds to the linked work of each goal it is linked to."""
    if issue is None or issue["status"] == "cancelled":
        return {}
    estimate = issue["estimate"] or 0.0
    share: dict[str, float] = {"issues_total": 1, "estimate_total": estimate}
    if issue["status"] == "done":
        share |= {"issues_done": 1, "estimate_done": estimate}
    return share


def _difference(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    changes = {name: after.get(name, 0) - before.get(name, 0) for name in before.keys() | after}
    return {name: change for name, change in changes.items() if change}


def _tally(
    writer: PageWriter, table: Table, key: Row, delta: Mapping[str, float], at: int, position: int
) -> None:
    """Adds ``delta`` to the tally row of ``key`` (a row of zeros if it has none yet)."""
    if not delta:
        return
    current = writer.get(table.name, tuple(key[column] for column in table.key))
    row = dict(current) if current is not None else _zeros(table, key)
    due: dict[str, int] | None = None
    for name, change in delta.items():
        if name.startswith(DUE):
            if due is None:
                due = _loads(row["open_due"]) or {}
            day = name.removeprefix(DUE)
            count = due.get(day, 0) + int(change)
            if count:
                due[day] = count
            else:
                due.pop(day, None)
        else:
            total = row[name] + change
            row[name] = round(total, DIGITS) if isinstance(total, float) else total
    if due is not None:
        row["open_due"] = _dumps(due)
    writer.put(table.name, row, at, position)


def _zeros(table: Table, key: Row) -> Row:
    zero: dict[str, Any] = {"int": 0, "real": 0.0}
    row = {column.name: zero.get(column.type) for column in table.columns}
    if "open_due" in row:
        row["open_due"] = "{}"
    return row | key


# Applying events


def _name_team(writer: PageWriter, team_id: str, data: Any, at: int, position: int) -> None:
    writer.put(TEAMS.name, {"team_id": team_id, "name": data.name}, at, position)


def _name_member(writer: PageWriter, member_id: str, data: Any, at: int, position: int) -> None:
    writer.put(MEMBERS.name, {"member_id": member_id, "name": data.name}, at, position)


def _apply_project(writer: PageWriter, project_id: str, data: Any, at: int, position: int) -> None:
    if isinstance(data, ProjectCreated):
        writer.put(
            PROJECTS.name,
            {
                "project_id": project_id,
                "key": data.key,
                "name": data.name,
                "owner_id": str(data.owner_id),
                "team_id": str(data.team_id),
                "status": "proposed",
                "start_date": data.start_date.isoformat(),
                "target_date": data.target_date.isoformat(),
                "health": None,
                "health_note": None,
                "health_at": None,
                "goal_ids": "[]",
                "milestones": "[]",
            },
            at,
            position,
        )
        return
    project = writer.get(PROJECTS.name, (project_id,))
    if project is None:
        return
    changes: dict[str, Any]
    match data:
        case ProjectRenamed(name=name):
            changes = {"name": name}
        case ProjectRescheduled(start_date=start, target_date=target):
            changes = {"start_date": start.isoformat(), "target_date": target.isoformat()}
        case ProjectStatusChanged(status=status):
            changes = {"status": status}
        case ProjectHealthPosted(health=health, note=note):
            changes = {"health": health, "health_note": note, "health_at": at}
        case ProjectGoalLinked(goal_id=goal_id):
            linked = _loads(project["goal_ids"])
            if str(goal_id) in linked:
                return
            changes = {"goal_ids": _dumps([*linked, str(goal_id)])}
        case MilestoneAdded(milestone_id=milestone_id, name=name, due_date=due_date):
            others = [m for m in _loads(project["milestones"]) if m["id"] != str(milestone_id)]
            added = {
                "id": str(milestone_id),
                "name": name,
                "due_date": due_date.isoformat(),
                "done": False,
                "completed_on": None,
            }
            changes = {"milestones": _dumps([*others, added])}
        case MilestoneCompleted(milestone_id=milestone_id):
            completed_on = _moment(at).date().isoformat()
            milestones = [
                {**m, "done": True, "completed_on": completed_on}
                if m["id"] == str(milestone_id) and not m["done"]
                else m
                for m in _loads(project["milestones"])
            ]
            changes = {"milestones": _dumps(milestones)}
        case _:
            return
    writer.update(PROJECTS.name, (project_id,), changes, at, position)


def _apply_goal(writer: PageWriter, goal_id: str, data: Any, at: int, position: int) -> None:
    if isinstance(data, GoalCreated):
        writer.put(
            GOALS.name,
            {
                "goal_id": goal_id,
                "title": data.title,
                "owner_id": str(data.owner_id),
                "team_id": str(data.team_id) if data.team_id is not None else None,
                "period_start": data.period_start.isoformat(),
                "period_end": data.period_end.isoformat(),
                "parent_id": str(data.parent_id) if data.parent_id is not None else None,
                "status": "draft",
                "key_results": "[]",
            },
            at,
            position,
        )
        return
    current = writer.get(GOALS.name, (goal_id,))
    if current is None:
        return
    changes: dict[str, Any]
    match data:
        case GoalActivated():
            changes = {"status": "active"}
        case GoalClosed(outcome=outcome):
            changes = {"status": outcome}
        case GoalRetitled(title=title):
            changes = {"title": title}
        case GoalParentChanged(parent_id=parent_id):
            changes = {"parent_id": str(parent_id) if parent_id is not None else None}
        case KeyResultAdded(kr_id=kr_id, title=title, unit=unit, start=start, target=target):
            others = [kr for kr in _loads(current["key_results"]) if kr["id"] != str(kr_id)]
            added = {
                "id": str(kr_id),
                "title": title,
                "unit": unit,
                "start": start,
                "target": target,
                "current": start,
            }
            changes = {"key_results": _dumps([*others, added])}
        case KeyResultCheckedIn(kr_id=kr_id, value=value):
            key_results = [
                {**kr, "current": value} if kr["id"] == str(kr_id) else kr
                for kr in _loads(current["key_results"])
            ]
            changes = {"key_results": _dumps(key_results)}
        case _:
            return
    writer.update(GOALS.name, (goal_id,), changes, at, position)


def _apply_operation(
    writer: PageWriter, operation_id: str, data: Any, at: int, position: int
) -> None:
    if isinstance(data, OperationCreated):
        row = {
            "operation_id": operation_id,
            "team_id": str(data.team_id),
            "status": "active",
            "open_occurrences": "{}",
            "completed": 0,
            "skipped": 0,
        }
        writer.put(OPERATIONS.name, row, at, position)
        return
    current = writer.get(OPERATIONS.name, (operation_id,))
    if current is None:
        return
    changes: dict[str, Any]
    match data:
        case OperationPaused():
            changes = {"status": "paused"}
        case OperationResumed():
            changes = {"status": "active"}
        case OperationRetired():
            changes = {"status": "retired"}
        case OccurrenceScheduled(occurrence_id=occurrence_id, due_date=due_date):
            scheduled = _loads(current["open_occurrences"])
            scheduled[due_date.isoformat()] = str(occurrence_id)
            changes = {"open_occurrences": _dumps(scheduled)}
        case OccurrenceCompleted(due_date=due_date) | OccurrenceSkipped(due_date=due_date):
            scheduled = _loads(current["open_occurrences"])
            if scheduled.pop(due_date.isoformat(), None) is None:
                return
            settled = "completed" if isinstance(data, OccurrenceCompleted) else "skipped"
            changes = {"open_occurrences": _dumps(scheduled), settled: current[settled] + 1}
        case _:
            return
    writer.update(OPERATIONS.name, (operation_id,), changes, at, position)


def _issue_created(
    writer: PageWriter, issue_id: str, data: IssueCreated, at: int, position: int
) -> None:
    before = writer.get(ISSUES.name, (issue_id,))
    after = {
        "issue_id": issue_id,
        "team_id": str(data.team_id),
        "project_id": str(data.project_id) if data.project_id is not None else None,
        "kind": data.kind,
        "status": data.status,
        "priority": data.priority,
        "estimate": data.estimate,
        "due_date": data.due_date.isoformat() if data.due_date is not None else None,
        "flagged": False,
        "waiting": False,
        "blocked_by": "[]",
        "blocks": "[]",
        "goal_ids": _dumps([str(goal_id) for goal_id in data.goal_ids]),
        "credited": None,
    }
    _replace_issue(writer, before, after, at, position)


def _issue_changed(writer: PageWriter, issue_id: str, data: Any, at: int, position: int) -> None:
    before = writer.get(ISSUES.name, (issue_id,))
    if before is None:
        return
    changes: dict[str, Any]
    match data:
        case IssuePriorityChanged(priority=priority):
            changes = {"priority": priority}
        case IssueEstimated(estimate=estimate):
            changes = {"estimate": estimate}
        case IssueDueDateChanged(due_date=due_date):
            changes = {"due_date": due_date.isoformat() if due_date is not None else None}
        case IssueBlocked():
            changes = {"flagged": True}
        case IssueUnblocked():
            changes = {"flagged": False}
        case IssueLinked(kind="goal", target_id=goal_id):
            linked = _loads(before["goal_ids"])
            if str(goal_id) in linked:
                return
            changes = {"goal_ids": _dumps([*linked, str(goal_id)])}
        case IssueUnlinked(kind="goal", target_id=goal_id):
            linked = [linked for linked in _loads(before["goal_ids"]) if linked != str(goal_id)]
            changes = {"goal_ids": _dumps(linked)}
        case _:
            return
    _replace_issue(writer, before, {**before, **changes}, at, position)


def _issue_transitioned(
    writer: PageWriter, issue_id: str, data: IssueTransitioned, at: int, position: int
) -> None:
    before = writer.get(ISSUES.name, (issue_id,))
    if before is None:
        return
    status = data.to_status
    after = {**before, "status": status}
    credit: float | None = None
    if status == "done" and before["status"] != "done":
        credit = after["credited"] = before["estimate"] or 0.0
    elif before["status"] == "done" and status != "done":
        credit = -(before["credited"] or 0.0)
        after["credited"] = None
    if credit is not None:
        writer.append(
            COMPLETIONS.name,
            {
                "position": position,
                "issue_id": issue_id,
                "team_id": before["team_id"],
                "project_id": before["project_id"],
                "kind": before["kind"],
                "estimate": credit,
                "occurred": at,
            },
        )
        day_key = (before["team_id"], at // DAY_MICROS)
        day = writer.get(TEAM_DAYS.name, day_key)
        completed = (day["completed"] if day else 0.0) + credit
        row = {"team_id": day_key[0], "day": day_key[1], "completed": completed}
        writer.put(TEAM_DAYS.name, row, at, position)
    _replace_issue(writer, before, after, at, position)
    if _is_open(before) != _is_open(after):
        for dependent in _loads(before["blocks"]):
            _refresh_waiting(writer, dependent, at, position)


def _dependency(
    writer: PageWriter,
    issue_id: str,
    data: IssueDependencyAdded | IssueDependencyRemoved,
    at: int,
    position: int,
) -> None:
    blocker_id, added = str(data.blocked_by_id), isinstance(data, IssueDependencyAdded)
    issue = writer.get(ISSUES.name, (issue_id,))
    if issue is None:
        return
    blocked_by = [other for other in _loads(issue["blocked_by"]) if other != blocker_id]
    if added:
        blocked_by.append(blocker_id)
    blocker = writer.get(ISSUES.name, (blocker_id,))
    if blocker is not None:
        blocks = [other for other in _loads(blocker["blocks"]) if other != issue_id]
        if added:
            blocks.append(issue_id)
        _replace_issue(writer, blocker, {**blocker, "blocks": _dumps(blocks)}, at, position)
    after = {**issue, "blocked_by": _dumps(blocked_by), "waiting": _waits(writer, blocked_by)}
    _replace_issue(writer, issue, after, at, position)


def _waits(writer: PageWriter, blocker_ids: Iterable[str]) -> bool:
    return any(_is_open(writer.get(ISSUES.name, (blocker,))) for blocker in blocker_ids)


def _refresh_waiting(writer: PageWriter, issue_id: str, at: int, position: int) -> None:
    issue = writer.get(ISSUES.name, (issue_id,))
    if issue is None:
        return
    waiting = _waits(writer, _loads(issue["blocked_by"]))
    if waiting != bool(issue["waiting"]):
        _replace_issue(writer, issue, {**issue, "waiting": waiting}, at, position)


def _replace_issue(
    writer: PageWriter, before: Row | None, after: Row, at: int, position: int
) -> None:
    """Makes ``after`` the issue's row, moving its share between the tallies it counts in."""
    if before == after:
        return
    writer.put(ISSUES.name, after, at, position)
    scope = after["project_id"] or after["team_id"]
    delta = _difference(_share(before), _share(after))
    _tally(writer, TALLIES, {"scope_id": scope}, delta, at, position)
    if after["goal_ids"] == "[]" and (before is None or before["goal_ids"] == "[]"):
        return
    linked_before = set(_loads(before["goal_ids"])) if before is not None else set()
    linked_after = set(_loads(after["goal_ids"]))
    share_before, share_after = _goal_share(before), _goal_share(after)
    for goal_id in sorted(linked_before | linked_after):
        delta = _difference(
            share_before if goal_id in linked_before else {},
            share_after if goal_id in linked_after else {},
        )
        _tally(writer, GOAL_WORK, {"goal_id": goal_id}, delta, at, position)


Handler = Callable[[PageWriter, str, Any, int, int], None]

# The events that change the portfolio, each with how it is applied to its object's rows:
# ``handler(writer, object id, event data, occurred micros, position)``. Others change nothing.
HANDLERS: Final[Mapping[type[Any], Handler]] = {
    TeamCreated: _name_team,
    TeamRenamed: _name_team,
    MemberRegistered: _name_member,
    MemberRenamed: _name_member,
    **dict.fromkeys(
        (
            ProjectCreated,
            ProjectRenamed,
            ProjectRescheduled,
            ProjectStatusChanged,
            MilestoneAdded,
            MilestoneCompleted,
            ProjectGoalLinked,
            ProjectHealthPosted,
        ),
        _apply_project,
    ),
    **dict.fromkeys(
        (
            GoalCreated,
            GoalActivated,
            GoalClosed,
            GoalRetitled,
            GoalParentChanged,
            KeyResultAdded,
            KeyResultCheckedIn,
        ),
        _apply_goal,
    ),
    IssueCreated: _issue_created,
    IssueTransitioned: _issue_transitioned,
    IssueDependencyAdded: _dependency,
    IssueDependencyRemoved: _dependency,
    **dict.fromkeys(
        (
            IssuePriorityChanged,
            IssueEstimated,
            IssueDueDateChanged,
            IssueBlocked,
            IssueUnblocked,
            IssueLinked,
            IssueUnlinked,
        ),
        _issue_changed,
    ),
    **dict.fromkeys(
        (
            OperationCreated,
            OperationPaused,
            OperationResumed,
            OperationRetired,
            OccurrenceScheduled,
            OccurrenceCompleted,
            OccurrenceSkipped,
        ),
        _apply_operation,
    ),
}


def apply(writer: PageWriter, event: RecordedEvent) -> None:
    """Records what ``event`` changes in the portfolio's tables."""
    handler = HANDLERS.get(type(event.data))
    if handler is not None:
        handler(writer, event.stream_id_text, event.data, event_time(event), event.position)


class PortfolioProjection:
    """The portfolio read model."""

    name: str = NAME
    schema_version: int = 2
    tables: tuple[Table, ...] = (
        TEAMS,
        MEMBERS,
        PROJECTS,
        ISSUES,
        TALLIES,
        GOALS,
        GOAL_WORK,
        OPERATIONS,
        COMPLETIONS,
        TEAM_DAYS,
    )
    event_types: frozenset[str] | None = frozenset(cls.__name__ for cls in HANDLERS)

    def apply(self, writer: PageWriter, event: RecordedEvent) -> None:
        apply(writer, event)


PROJECTION = PortfolioProjection()


# Reading the view


class _Query:
    """The SQL of one portfolio request, over one snapshot of the tables."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.params: list[Any] = []

    def table(self, table: Table, alias: str) -> str:
        return f"{self.snapshot.name(table)} {alias}"

    def visible(self, alias: str) -> str:
        condition, params = self.snapshot.visible(alias)
        self.params.extend(params)
        return condition

    def value(self, value: Any) -> str:
        self.params.append(value)
        return "%s"


def _projects_sql(
    snapshot: Snapshot,
    team_id: UUID | None,
    status: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> Statement:
    q = _Query(snapshot)
    work_columns = ", ".join(f"w.{column.name}" for column in PROJECT_METRICS)
    sql = (
        "SELECT p.project_id, p.key, p.name, p.status, p.owner_id, m.name AS owner_name, "
        "p.team_id, t.name AS team_name, p.start_date, p.target_date, p.health, p.health_note, "
        f"p.health_at, p.goal_ids, p.milestones, {work_columns} "
        f"FROM {q.table(PROJECTS, 'p')} "
        f"LEFT JOIN {q.table(TALLIES, 'w')} ON w.scope_id = p.project_id AND {q.visible('w')} "
        f"LEFT JOIN {q.table(MEMBERS, 'm')} ON m.member_id = p.owner_id AND {q.visible('m')} "
        f"LEFT JOIN {q.table(TEAMS, 't')} ON t.team_id = p.team_id AND {q.visible('t')} "
        f"WHERE {q.visible('p')}"
    )
    if team_id is not None:
        sql += f" AND p.team_id = {q.value(str(team_id))}"
    if status is not None:
        sql += f" AND p.status = {q.value(status)}"
    if after is not None:
        key, project_id = after
        sql += (
            f" AND (p.key > {q.value(key)} "
            f"OR (p.key = {q.value(key)} AND p.project_id > {q.value(project_id)}))"
        )
    sql += f" ORDER BY p.key, p.project_id LIMIT {q.value(limit + 1)}"
    return Statement(sql, q.params)


def _goals_sql(snapshot: Snapshot) -> Statement:
    q = _Query(snapshot)
    sql = (
        "SELECT g.goal_id, g.title, g.status, g.owner_id, m.name AS owner_name, g.team_id, "
        "g.period_start, g.period_end, g.parent_id, g.key_results, "
        "gw.issues_total, gw.issues_done, gw.estimate_total, gw.estimate_done "
        f"FROM {q.table(GOALS, 'g')} "
        f"LEFT JOIN {q.table(GOAL_WORK, 'gw')} ON gw.goal_id = g.goal_id AND {q.visible('gw')} "
        f"LEFT JOIN {q.table(MEMBERS, 'm')} ON m.member_id = g.owner_id AND {q.visible('m')} "
        f"WHERE {q.visible('g')}"
    )
    return Statement(sql, q.params)


def _throughput_sql(snapshot: Snapshot, since: int, until: int) -> Statement:
    """Each team's estimate completed in ``(since, until]``: the whole days in it from the daily
    sums, the partial days at its ends from the completions themselves."""
    first_day, last_day = since // DAY_MICROS + 1, (until + 1) // DAY_MICROS - 1
    if first_day <= last_day:
        edges = [since, first_day * DAY_MICROS, (last_day + 1) * DAY_MICROS, until]
    else:
        edges = [since, until + 1, until + 1, until]
    sql = (
        "SELECT team_id, SUM(completed) FROM ("
        f"SELECT team_id, completed FROM {snapshot.name(TEAM_DAYS)} "
        "WHERE day >= %s AND day <= %s AND valid_to IS NULL "
        f"UNION ALL SELECT team_id, estimate FROM {snapshot.name(COMPLETIONS)} "
        "WHERE (occurred > %s AND occurred < %s) OR (occurred >= %s AND occurred <= %s)"
        ") AS completed GROUP BY team_id"
    )
    return Statement(sql, [first_day, last_day, *edges])


def _project_totals_sql(snapshot: Snapshot) -> Statement:
    q = _Query(snapshot)
    sql = (
        f"SELECT p.status, COUNT(*) AS projects FROM {q.table(PROJECTS, 'p')} "
        f"WHERE {q.visible('p')} GROUP BY p.status"
    )
    return Statement(sql, q.params)


def _kind_totals_sql(snapshot: Snapshot) -> Statement:
    q = _Query(snapshot)
    sums = ", ".join(f"SUM(w.{column.name}) AS {column.name}" for column in KIND_METRICS)
    sql = f"SELECT {sums} FROM {q.table(TALLIES, 'w')} WHERE {q.visible('w')}"
    return Statement(sql, q.params)


def _operations_sql(snapshot: Snapshot) -> Statement:
    q = _Query(snapshot)
    sql = (
        "SELECT o.status, o.open_occurrences, o.completed, o.skipped "
        f"FROM {q.table(OPERATIONS, 'o')} WHERE {q.visible('o')}"
    )
    return Statement(sql, q.params)


def _done_and_total(tally: Mapping[str, Any]) -> dict[str, float]:
    """A tally's done and total work; a tally not made yet (``NULL``s) is no work."""
    return {
        "issues_total": int(tally["issues_total"] or 0),
        "issues_done": int(tally["issues_done"] or 0),
        "estimate_total": float(tally["estimate_total"] or 0.0),
        "estimate_done": float(tally["estimate_done"] or 0.0),
    }


def _work_progress(work: Mapping[str, float]) -> float | None:
    return goals.work_progress(
        int(work["issues_done"]),
        int(work["issues_total"]),
        work["estimate_done"],
        work["estimate_total"],
    )


def _goal_nodes(rows: Sequence[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    """Every goal as a node of the tree (children not yet attached), by id."""
    nodes: dict[str, dict[str, Any]] = {}
    for (
        goal_id,
        title,
        status,
        owner_id,
        owner_name,
        team_id,
        period_start,
        period_end,
        parent_id,
        key_results_text,
        issues_total,
        issues_done,
        estimate_total,
        estimate_done,
    ) in rows:
        key_results = [
            {
                "id": kr["id"],
                "title": kr["title"],
                "unit": kr["unit"],
                "start": kr["start"],
                "target": kr["target"],
                "current": kr["current"],
                "progress": goals.progress_between(kr["start"], kr["target"], kr["current"]),
            }
            for kr in _loads(key_results_text)
        ]
        work = _done_and_total(
            {
                "issues_total": issues_total,
                "issues_done": issues_done,
                "estimate_total": estimate_total,
                "estimate_done": estimate_done,
            }
        )
        progress = goals.mean_progress([kr["progress"] for kr in key_results])
        basis: str | None = "key_results"
        if progress is None:
            progress = _work_progress(work)
            basis = "work" if progress is not None else None
        nodes[goal_id] = {
            "id": goal_id,
            "title": title,
            "status": status,
            "owner": {"id": owner_id, "name": owner_name},
            "team_id": team_id,
            "period_start": period_start,
            "period_end": period_end,
            "progress": progress,
            "progress_basis": basis,
            "key_results": key_results,
            "linked_work": work,
            "_parent": parent_id,
        }
    return nodes


def _goal_tree(nodes: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The goals as a forest: roots, then the goals aligned under each, by title."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    for node in nodes.values():
        parent = node["_parent"] if node["_parent"] in nodes else None
        children.setdefault(parent, []).append(node)

    def level(parent: str | None) -> list[dict[str, Any]]:
        found = sorted(children.get(parent, ()), key=lambda node: (node["title"], node["id"]))
        return [
            {**{k: v for k, v in node.items() if k != "_parent"}, "children": level(node["id"])}
            for node in found
        ]

    return level(None)


def _milestones(text: str, today: date) -> list[dict[str, Any]]:
    milestones = []
    for milestone in _loads(text):
        due = date.fromisoformat(milestone["due_date"])
        completed_on = milestone["completed_on"]
        late = (
            completed_on > milestone["due_date"]
            if milestone["done"] and completed_on is not None
            else not milestone["done"] and due < today
        )
        milestones.append({**milestone, "late": late})
    milestones.sort(key=lambda m: (m["due_date"], m["name"], m["id"]))
    return milestones


def _forecast(
    status: str, remaining: float, completed: float, weeks: int, target: date, today: date
) -> dict[str, Any]:
    finish: date | None = None
    if status not in CLOSED_PROJECT_STATUSES:
        if remaining <= 0:
            finish = today
        elif completed > 0:
            # Computed from the sum, not the weekly rate, so whole weeks come out whole.
            days = remaining * 7 * weeks / completed
            horizon = (date.max - today).days
            finish = today + timedelta(days=math.ceil(days)) if days <= horizon else date.max
    return {
        "remaining_estimate": remaining,
        "throughput_per_week": round(completed / weeks, DIGITS),
        "finish_date": finish,
        "target_date": target,
        "days_after_target": (finish - target).days if finish is not None else None,
    }


def _project_entry(
    row: tuple[Any, ...],
    goal_nodes: Mapping[str, dict[str, Any]],
    throughput: Mapping[str, float],
    weeks: int,
    today: date,
) -> dict[str, Any]:
    (
        project_id,
        key,
        name,
        status,
        owner_id,
        owner_name,
        team_id,
        team_name,
        start_date,
        target_date,
        health,
        health_note,
        health_at,
        goal_ids,
        milestones_text,
        *work_values,
    ) = row
    work = dict(zip((column.name for column in PROJECT_METRICS), work_values, strict=True))
    by_priority = {priority: int(work[f"open_{priority}"] or 0) for priority in PRIORITIES}
    due: dict[str, int] = _loads(work["open_due"]) or {}
    today_text = today.isoformat()
    overdue = sum(count for day, count in due.items() if day < today_text)
    blocked = int(work["blocked"] or 0)
    done_and_total = _done_and_total(work)
    progress = {**done_and_total, "ratio": _work_progress(done_and_total)}
    milestones = _milestones(milestones_text, today)
    target = date.fromisoformat(target_date)
    forecast = _forecast(
        status,
        float(work["open_estimate"] or 0.0),
        max(throughput.get(team_id, 0.0), 0.0),
        weeks,
        target,
        today,
    )
    linked = sorted(
        (goal_nodes[goal_id] for goal_id in _loads(goal_ids) if goal_id in goal_nodes),
        key=lambda node: (node["title"], node["id"]),
    )
    finish = forecast["finish_date"]
    risks = [
        flag
        for flag, raised in (
            ("past_target", today > target),
            ("forecast_after_target", finish is not None and finish > target),
            ("no_throughput", finish is None),
            ("off_track", health == "off_track"),
            ("at_risk", health == "at_risk"),
            ("overdue_work", overdue > 0),
            ("blocked_work", blocked > 0),
            ("milestone_late", any(m["late"] and not m["done"] for m in milestones)),
        )
        if raised and status not in CLOSED_PROJECT_STATUSES
    ]
    return {
        "id": project_id,
        "key": key,
        "name": name,
        "status": status,
        "health": (
            {"status": health, "note": health_note or "", "posted_at": _moment(health_at)}
            if health is not None
            else None
        ),
        "owner": {"id": owner_id, "name": owner_name},
        "team": {"id": team_id, "name": team_name},
        "start_date": start_date,
        "target_date": target_date,
        "progress": progress,
        "open_issues": sum(by_priority.values()),
        "open_by_priority": by_priority,
        "overdue": overdue,
        "blocked": blocked,
        "milestones": milestones,
        "goals": [
            {
                "id": node["id"],
                "title": node["title"],
                "status": node["status"],
                "progress": node["progress"],
            }
            for node in linked
        ],
        "forecast": forecast,
        "risks": risks,
    }


def _totals(
    project_rows: Sequence[tuple[Any, ...]],
    kind_row: Sequence[Any],
    operation_rows: Sequence[tuple[Any, ...]],
    goal_nodes: Mapping[str, dict[str, Any]],
    today: date,
) -> dict[str, Any]:
    sums = dict(zip((column.name for column in KIND_METRICS), kind_row, strict=True))
    issues = []
    planned = {"open": 0, "done": 0, "cancelled": 0, "open_estimate": 0.0, "done_estimate": 0.0}
    unplanned = dict(planned)
    for kind in KINDS:
        totals = {
            "open": int(sums[f"{kind}_open"] or 0),
            "done": int(sums[f"{kind}_done"] or 0),
            "cancelled": int(sums[f"{kind}_cancelled"] or 0),
            "open_estimate": round(float(sums[f"{kind}_open_estimate"] or 0.0), DIGITS),
            "done_estimate": round(float(sums[f"{kind}_done_estimate"] or 0.0), DIGITS),
        }
        issues.append({"kind": kind, "planned": kind not in UNPLANNED_KINDS, **totals})
        summary = unplanned if kind in UNPLANNED_KINDS else planned
        for name, value in totals.items():
            summary[name] = round(summary[name] + value, DIGITS)
    operation_totals = dict.fromkeys(OPERATION_STATUSES, 0) | dict.fromkeys(
        ("occurrences_open", "occurrences_late", "occurrences_completed", "occurrences_skipped"), 0
    )
    # Open occurrences are scheduled ones, late (``operations.is_late``) once due before today;
    # ISO dates order as text, which spares parsing each one.
    today_iso = today.isoformat()
    for status, open_text, completed, skipped in operation_rows:
        operation_totals[status] += 1
        scheduled = _loads(open_text) or {}
        operation_totals["occurrences_open"] += len(scheduled)
        operation_totals["occurrences_late"] += sum(1 for due in scheduled if due < today_iso)
        operation_totals["occurrences_completed"] += int(completed)
        operation_totals["occurrences_skipped"] += int(skipped)
    goal_totals = dict.fromkeys(GOAL_STATUSES, 0)
    for node in goal_nodes.values():
        goal_totals[node["status"]] += 1
    return {
        "projects": dict.fromkeys(PROJECT_STATUSES, 0) | {s: int(n) for s, n in project_rows},
        "issues": issues,
        "planned": planned,
        "unplanned": unplanned,
        "operations": operation_totals,
        "goals": goal_totals,
    }


def _after(cursor: str | None) -> tuple[str, str] | None:
    values = decode_cursor_of(cursor, (str, str))
    return None if values is None else (values[0], values[1])


def read_portfolio(
    view: ViewRequest,
    snapshot: Snapshot,
    *,
    team_id: UUID | None,
    status: str | None,
    weeks: int,
    limit: int,
    after: tuple[str, str] | None,
) -> bytes:
    """The portfolio as JSON (a ``Portfolio``): six set-based queries sent together, then
    assembly in memory.

    The document is serialised straight from plain values: validating hundreds of projects
    through the response model would cost more than the queries do.
    """
    now = view.now
    today = now.astimezone(UTC).date()
    until = micros(now)
    since = until - weeks * 7 * 86_400 * 1_000_000
    project_rows, goal_rows, throughput_rows, status_rows, [kind_row], operation_rows = (
        view.fetch_each(
            _projects_sql(snapshot, team_id, status, after, limit),
            _goals_sql(snapshot),
            _throughput_sql(snapshot, since, until),
            _project_totals_sql(snapshot),
            _kind_totals_sql(snapshot),
            _operations_sql(snapshot),
        )
    )
    throughput = {team: float(total or 0.0) for team, total in throughput_rows}
    nodes = _goal_nodes(goal_rows)
    page = project_rows[:limit]
    next_cursor = encode_cursor([page[-1][1], page[-1][0]]) if len(project_rows) > limit else None
    document = {
        "now": now,
        "throughput_weeks": weeks,
        "items": [_project_entry(row, nodes, throughput, weeks, today) for row in page],
        "next_cursor": next_cursor,
        "goal_tree": _goal_tree(nodes),
        "totals": _totals(status_rows, kind_row, operation_rows, nodes, today),
    }
    return orjson.dumps(document, option=orjson.OPT_UTC_Z)


router = Routes(tags=["views"])


@router.get(
    "/views/portfolio",
    response_model=Portfolio,
    responses=problem_responses(400, 409),
)
async def portfolio(
    view: View,
    team_id: Annotated[UUID | None, Query(description="Only this team's projects.")] = None,
    status: Annotated[
        ProjectStatus | None, Query(description="Only projects in this status.")
    ] = None,
    throughput_weeks: Annotated[
        int,
        Query(ge=1, le=52, description="Weeks of completed work a team's pace is measured over."),
    ] = DEFAULT_THROUGHPUT_WEEKS,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Every project with its status, health, progress, open and overdue and blocked work,
    milestones, goals, forecast finish against target and risk flags; the goal tree with
    progress; and organisation totals per kind of work (planned, unplanned and recurring).
    """
    after = _after(cursor)

    def read(snapshot: Snapshot) -> bytes:
        return read_portfolio(
            view,
            snapshot,
            team_id=team_id,
            status=status,
            weeks=throughput_weeks,
            limit=limit,
            after=after,
        )

    content = await view.answer(NAME, read)
    return Response(content, media_type="application/json")
