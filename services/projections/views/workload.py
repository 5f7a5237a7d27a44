"""Team workload: each team's and member's open work against weekly capacity, and throughput.

The projection keeps every work item (issue or operation occurrence) with the few fields the view
needs, and running totals of the open work of each team (``wl_team_open``) and of each member
(``wl_member_open``), so the summary of every team reads one row per team instead of every open
item. The part of that work that has a due date is also summed per day (``wl_load``,
``wl_member_load``): "overdue" and "upcoming" are sums over the days before, or just after, the
day the view describes. Completions (issues moved to done, occurrences completed) are counted per
ISO week for the team and for the assignee (``wl_throughput``), so eight weeks of throughput are
eight rows per owner.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
from fastapi.responses import Response

from contracts.views.workload import (
    TeamWorkloadDetail,
    WorkloadPage,
)
from domain.issue import (
    OPEN_STATUSES,
    IssueAssigned,
    IssueBlocked,
    IssueCreated,
    IssueDueDateChanged,
    IssueEstimated,
    IssueTransitioned,
    IssueUnassigned,
    IssueUnblocked,
)
from domain.member import (
    MemberCapacitySet,
    MemberDeactivated,
    MemberReactivated,
    MemberRegistered,
    MemberRenamed,
    MemberRoleChanged,
)
from domain.operation import (
    OccurrenceCompleted,
    OccurrenceScheduled,
    OccurrenceSkipped,
    OperationCreated,
)
from domain.team import (
    TeamCapacitySet,
    TeamCreated,
    TeamMemberAdded,
    TeamMemberRemoved,
    TeamRenamed,
)
from services.infrastructure.codec import RecordedEvent
from services.infrastructure.http import ProblemError, Routes, problem_responses
from services.infrastructure.store import Statement
from services.projections.dispatch import Change as _Change
from services.projections.dispatch import EventHandlers
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
    Column,
    PageWriter,
    Row,
    Snapshot,
    Table,
    iso_date,
)

NAME = "workload"
WORK_IN_PROGRESS = ("in_progress", "in_review")
OCCURRENCE = "occurrence"
UPCOMING_DAYS = 14
THROUGHPUT_WEEKS = 8

TEAMS = Table(
    "wl_team",
    key=("team_id",),
    columns=(Column("team_id"), Column("name"), Column("weekly_capacity", "real")),
    indexes=(("name", "team_id"),),
)
MEMBERS = Table(
    "wl_member",
    key=("member_id",),
    columns=(
        Column("member_id"),
        Column("name"),
        Column("role"),
        Column("weekly_capacity", "real"),
        Column("active", "bool"),
    ),
)
MEMBERSHIPS = Table(
    "wl_membership", key=("team_id", "member_id"), columns=(Column("team_id"), Column("member_id"))
)
OPERATIONS = Table(
    "wl_operation", key=("operation_id",), columns=(Column("operation_id"), Column("team_id"))
)
ITEMS = Table(
    "wl_item",
    key=("item_id",),
    columns=(
        Column("item_id"),
        Column("kind"),
        Column("team_id"),
        Column("assignee_id"),
        Column("status"),
        Column("is_open", "bool"),
        Column("estimate", "real"),
        Column("due_date"),
        Column("blocked", "bool"),
    ),
)
# A team's open work, summed whatever it is due (``wl_team_open``), and the part of it due on each
# day (``wl_load``, of work that has a due date), which "overdue" and "upcoming" sum over the days
# before, or just after, the day the view describes. Figures that don't depend on the day are
# kept apart from the days, so a change of status, assignee or block moves one team row and no
# day's, and a page of teams sums a few figures over its days rather than every figure. Points
# are kept in millionths, as integers, so sums stay exact however often they are added to.
TEAM_OPEN_FIGURES: tuple[str, ...] = (
    "assigned_count",
    "assigned_micropoints",
    "unestimated",
    "unassigned_count",
    "unassigned_micropoints",
    "wip",
    "blocked",
    "untriaged",
)
DAY_FIGURES: tuple[str, ...] = (
    "open_count",
    "open_micropoints",
    "occurrence_count",
    "occurrence_micropoints",
)
MICRO = 1_000_000


def _figures(names: tuple[str, ...]) -> tuple[Column, ...]:
    return tuple(Column(name, "int") for name in names)


TEAM_OPEN = Table(
    "wl_team_open", key=("team_id",), columns=(Column("team_id"), *_figures(TEAM_OPEN_FIGURES))
)
LOADS = Table(
    "wl_load",
    key=("team_id", "due_date"),
    columns=(Column("team_id"), Column("due_date"), *_figures(DAY_FIGURES)),
    # Covers the days' sums, so PostgreSQL reads them from the index alone: the current rows
    # are scattered among their past versions across the table.
    indexes=(("team_id", "due_date", *DAY_FIGURES),),
)
# A member's open work (assigned to them, in every team), summed the same two ways.
MEMBER_OPEN_FIGURES: tuple[str, ...] = (
    "open_count",
    "open_micropoints",
    "unestimated",
    "wip",
    "blocked",
)
MEMBER_OPEN = Table(
    "wl_member_open",
    key=("member_id",),
    columns=(Column("member_id"), *_figures(MEMBER_OPEN_FIGURES)),
)
MEMBER_LOADS = Table(
    "wl_member_load",
    key=("member_id", "due_date"),
    columns=(Column("member_id"), Column("due_date"), *_figures(DAY_FIGURES)),
    indexes=(("member_id", "due_date", *DAY_FIGURES),),
)
# Work completed in each ISO week (``week_start`` its Monday), by team and by member: a
# completion counts once for its team and once for its assignee, wherever they were. Team and
# member ids don't collide, so one table keyed by ``owner_id`` holds both.
THROUGHPUT = Table(
    "wl_throughput",
    key=("owner_id", "week_start"),
    columns=(
        Column("owner_id"),
        Column("week_start"),
        Column("completed", "int"),
        Column("micropoints", "int"),
    ),
)


# Applying events


_handlers = EventHandlers()
_on = _handlers.on


def _micropoints(estimate: float | None) -> int:
    return round((estimate or 0.0) * MICRO)


def _points(micropoints: Any) -> float:
    # A sum over no rows is null.
    return int(micropoints or 0) / MICRO


LoadShare = tuple[tuple[str, ...], tuple[int, ...]]


def _team_open_of(item: Row | None) -> LoadShare | None:
    """The team total an item counts in and what it adds to it; ``None`` once it is not open."""
    if item is None or not item["is_open"]:
        return None
    points = _micropoints(item["estimate"])
    assigned = item["assignee_id"] is not None
    status = item["status"]
    figures = (
        1 if assigned else 0,
        points if assigned else 0,
        1 if assigned and item["estimate"] is None else 0,
        0 if assigned else 1,
        0 if assigned else points,
        1 if status in WORK_IN_PROGRESS else 0,
        1 if item["blocked"] else 0,
        1 if status == "triage" else 0,
    )
    return (item["team_id"],), figures


def _member_open_of(item: Row | None) -> LoadShare | None:
    """The member total an item counts in and what it adds; ``None`` unless open and assigned."""
    if item is None or not item["is_open"] or item["assignee_id"] is None:
        return None
    figures = (
        1,
        _micropoints(item["estimate"]),
        1 if item["estimate"] is None else 0,
        1 if item["status"] in WORK_IN_PROGRESS else 0,
        1 if item["blocked"] else 0,
    )
    return (item["assignee_id"],), figures


def _day_figures(item: Row) -> tuple[int, ...]:
    points = _micropoints(item["estimate"])
    if item["kind"] == OCCURRENCE:
        return (1, points, 1, points)
    return (1, points, 0, 0)


def _team_day_of(item: Row | None) -> LoadShare | None:
    """The team's day an item is due on and what it adds; ``None`` unless open with a due date."""
    if item is None or not item["is_open"] or item["due_date"] is None:
        return None
    return (item["team_id"], item["due_date"]), _day_figures(item)


def _member_day_of(item: Row | None) -> LoadShare | None:
    """The assignee's day an item is due on and what it adds; ``None`` unless open, assigned
    and due."""
    if item is None or not item["is_open"]:
        return None
    if item["assignee_id"] is None or item["due_date"] is None:
        return None
    return (item["assignee_id"], item["due_date"]), _day_figures(item)


@dataclass(frozen=True, slots=True)
class _Buckets:
    """Running totals of open work by owner (and due date): what an item adds, and where."""

    table: Table
    figures: tuple[str, ...]
    counts: tuple[int, ...]
    """The figures that count items: a bucket none of them counts in is removed."""
    share_of: Callable[[Row | None], LoadShare | None]


_BUCKETS = (
    _Buckets(
        TEAM_OPEN,
        TEAM_OPEN_FIGURES,
        (TEAM_OPEN_FIGURES.index("assigned_count"), TEAM_OPEN_FIGURES.index("unassigned_count")),
        _team_open_of,
    ),
    _Buckets(LOADS, DAY_FIGURES, (0,), _team_day_of),
    _Buckets(MEMBER_OPEN, MEMBER_OPEN_FIGURES, (0,), _member_open_of),
    _Buckets(MEMBER_LOADS, DAY_FIGURES, (0,), _member_day_of),
)


def _add_load(change: _Change, buckets: _Buckets, share: LoadShare, sign: int) -> None:
    bucket, figures = share
    current = change.get(buckets.table, bucket)
    if current is None:
        totals = [sign * figure for figure in figures]
    else:
        totals = [
            current[name] + sign * figure
            for name, figure in zip(buckets.figures, figures, strict=True)
        ]
    if any(totals[index] for index in buckets.counts):
        change.put(
            buckets.table,
            {
                **dict(zip(buckets.table.key, bucket, strict=True)),
                **dict(zip(buckets.figures, totals, strict=True)),
            },
        )
    else:
        change.delete(buckets.table, bucket)


def _save_item(change: _Change, before: Row | None, after: Row) -> None:
    change.put(ITEMS, after)
    for buckets in _BUCKETS:
        old, new = buckets.share_of(before), buckets.share_of(after)
        if old == new:
            continue
        if old is not None and new is not None and old[0] == new[0]:
            # Still in the same bucket (a transition, an estimate, a block): one update by the
            # difference, rather than taking the item out and putting it back.
            difference = tuple(now - then for now, then in zip(new[1], old[1], strict=True))
            _add_load(change, buckets, (new[0], difference), +1)
            continue
        if old is not None:
            _add_load(change, buckets, old, -1)
        if new is not None:
            _add_load(change, buckets, new, +1)


def _change_item(change: _Change, item_id: str, changes: Row) -> Row | None:
    before = change.get(ITEMS, (item_id,))
    if before is None:
        return None
    after = {**before, **changes}
    if after != before:
        _save_item(change, before, after)
    return before


def _week_start(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _record_completion(change: _Change, item: Row) -> None:
    week_start = _week_start(change.event.metadata.occurred_at).isoformat()
    points = _micropoints(item["estimate"])
    for owner in (item["team_id"], item["assignee_id"]):
        if owner is None:
            continue
        week = change.get(THROUGHPUT, (owner, week_start))
        change.put(
            THROUGHPUT,
            {
                "owner_id": owner,
                "week_start": week_start,
                "completed": (week["completed"] if week else 0) + 1,
                "micropoints": (week["micropoints"] if week else 0) + points,
            },
        )


@_on(TeamCreated)
def _team_created(change: _Change, event: TeamCreated) -> None:
    change.put(
        TEAMS,
        {
            "team_id": str(event.team_id),
            "name": event.name,
            "weekly_capacity": event.weekly_capacity,
        },
    )


@_on(TeamRenamed)
def _team_renamed(change: _Change, event: TeamRenamed) -> None:
    change.update(TEAMS, (change.subject,), {"name": event.name})


@_on(TeamCapacitySet)
def _team_capacity_set(change: _Change, event: TeamCapacitySet) -> None:
    change.update(TEAMS, (change.subject,), {"weekly_capacity": event.weekly_capacity})


@_on(TeamMemberAdded)
def _team_member_added(change: _Change, event: TeamMemberAdded) -> None:
    change.put(MEMBERSHIPS, {"team_id": change.subject, "member_id": str(event.member_id)})


@_on(TeamMemberRemoved)
def _team_member_removed(change: _Change, event: TeamMemberRemoved) -> None:
    change.delete(MEMBERSHIPS, (change.subject, str(event.member_id)))


@_on(MemberRegistered)
def _member_registered(change: _Change, event: MemberRegistered) -> None:
    change.put(
        MEMBERS,
        {
            "member_id": str(event.member_id),
            "name": event.name,
            "role": event.role,
            "weekly_capacity": event.weekly_capacity,
            "active": True,
        },
    )


@_on(MemberRenamed)
def _member_renamed(change: _Change, event: MemberRenamed) -> None:
    change.update(MEMBERS, (change.subject,), {"name": event.name})


@_on(MemberRoleChanged)
def _member_role_changed(change: _Change, event: MemberRoleChanged) -> None:
    change.update(MEMBERS, (change.subject,), {"role": event.role})


@_on(MemberCapacitySet)
def _member_capacity_set(change: _Change, event: MemberCapacitySet) -> None:
    change.update(MEMBERS, (change.subject,), {"weekly_capacity": event.weekly_capacity})


@_on(MemberDeactivated)
def _member_deactivated(change: _Change, _: MemberDeactivated) -> None:
    change.update(MEMBERS, (change.subject,), {"active": False})


@_on(MemberReactivated)
def _member_reactivated(change: _Change, _: MemberReactivated) -> None:
    change.update(MEMBERS, (change.subject,), {"active": True})


@_on(IssueCreated)
def _issue_created(change: _Change, event: IssueCreated) -> None:
    item = {
        "item_id": str(event.issue_id),
        "kind": event.kind,
        "team_id": str(event.team_id),
        "assignee_id": str(event.assignee_id) if event.assignee_id else None,
        "status": event.status,
        "is_open": event.status in OPEN_STATUSES,
        "estimate": event.estimate,
        "due_date": iso_date(event.due_date),
        "blocked": False,
    }
    _save_item(change, change.get(ITEMS, (item["item_id"],)), item)


@_on(IssueEstimated)
def _issue_estimated(change: _Change, event: IssueEstimated) -> None:
    _change_item(change, change.subject, {"estimate": event.estimate})


@_on(IssueDueDateChanged)
def _issue_due_date_changed(change: _Change, event: IssueDueDateChanged) -> None:
    _change_item(change, change.subject, {"due_date": iso_date(event.due_date)})


@_on(IssueAssigned)
def _issue_assigned(change: _Change, event: IssueAssigned) -> None:
    _change_item(change, change.subject, {"assignee_id": str(event.assignee_id)})


@_on(IssueUnassigned)
def _issue_unassigned(change: _Change, _: IssueUnassigned) -> None:
    _change_item(change, change.subject, {"assignee_id": None})


@_on(IssueTransitioned)
def _issue_transitioned(change: _Change, event: IssueTransitioned) -> None:
    status = event.to_status
    before = _change_item(
        change, change.subject, {"status": status, "is_open": status in OPEN_STATUSES}
    )
    if before is not None and status == "done":
        _record_completion(change, before)


@_on(IssueBlocked)
def _issue_blocked(change: _Change, _: IssueBlocked) -> None:
    _change_item(change, change.subject, {"blocked": True})


@_on(IssueUnblocked)
def _issue_unblocked(change: _Change, _: IssueUnblocked) -> None:
    _change_item(change, change.subject, {"blocked": False})


@_on(OperationCreated)
def _operation_created(change: _Change, event: OperationCreated) -> None:
    change.put(OPERATIONS, {"operation_id": str(event.operation_id), "team_id": str(event.team_id)})


@_on(OccurrenceScheduled)
def _occurrence_scheduled(change: _Change, event: OccurrenceScheduled) -> None:
    operation = change.get(OPERATIONS, (change.subject,))
    if operation is None:
        return
    item = {
        "item_id": str(event.occurrence_id),
        "kind": OCCURRENCE,
        "team_id": operation["team_id"],
        "assignee_id": str(event.assignee_id) if event.assignee_id else None,
        "status": "scheduled",
        "is_open": True,
        "estimate": event.estimate,
        "due_date": iso_date(event.due_date),
        "blocked": False,
    }
    _save_item(change, change.get(ITEMS, (item["item_id"],)), item)


@_on(OccurrenceCompleted)
def _occurrence_completed(change: _Change, event: OccurrenceCompleted) -> None:
    changes = {"status": "completed", "is_open": False}
    before = _change_item(change, str(event.occurrence_id), changes)
    if before is not None and before["is_open"]:
        _record_completion(change, before)


@_on(OccurrenceSkipped)
def _occurrence_skipped(change: _Change, event: OccurrenceSkipped) -> None:
    _change_item(change, str(event.occurrence_id), {"status": "skipped", "is_open": False})


class WorkloadProjection:
    """The read model behind ``/v1/views/workload``."""

    name: str = NAME
    schema_version: int = 4
    tables: tuple[Table, ...] = (
        TEAMS,
        MEMBERS,
        MEMBERSHIPS,
        OPERATIONS,
        ITEMS,
        TEAM_OPEN,
        LOADS,
        MEMBER_OPEN,
        MEMBER_LOADS,
        THROUGHPUT,
    )
    event_types: frozenset[str] | None = _handlers.type_names()

    def apply(self, writer: PageWriter, event: RecordedEvent) -> None:
        """Records what ``event`` changes in teams, members, work items, loads, throughput."""
        _handlers.apply(writer, event)


PROJECTION = WorkloadProjection()


# Queries


@dataclass(frozen=True)
class _Period:
    """The days a view judges work against: overdue before ``today``, upcoming until ``horizon``,
    throughput in the weeks from ``first_week`` up to ``now``."""

    today: str
    horizon: str
    first_week: date

    @classmethod
    def of(cls, now: datetime) -> _Period:
        today = now.astimezone(UTC).date()
        first_week = today - timedelta(days=today.weekday(), weeks=THROUGHPUT_WEEKS - 1)
        return cls(
            today=today.isoformat(),
            horizon=(today + timedelta(days=UPCOMING_DAYS)).isoformat(),
            first_week=first_week,
        )

    @functools.cached_property
    def week_starts(self) -> list[tuple[str, str, date]]:
        """Each week's key in the totals, its ISO name and its Monday."""
        starts = []
        for number in range(THROUGHPUT_WEEKS):
            start = self.first_week + timedelta(weeks=number)
            year, week, _ = start.isocalendar()
            starts.append((start.isoformat(), f"{year}-W{week:02d}", start))
        return starts

    def weeks(self, totals: dict[str, tuple[int, float]]) -> list[dict[str, Any]]:
        """Each week's throughput, as the values of a ``WeekThroughput``."""
        weeks = []
        for key, name, start in self.week_starts:
            completed, estimate = totals.get(key, (0, 0.0))
            weeks.append(
                {"week": name, "week_start": start, "completed": completed, "estimate": estimate}
            )
        return weeks


def _summed(points: Any) -> float:
    # A database's sum of fractional points drifts in binary floating point; six places suffice.
    return round(float(points or 0), 6)


def _total(count: Any, points: float) -> dict[str, Any]:
    """A ``WorkTotal``'s values."""
    return {"count": int(count or 0), "estimate": _summed(points)}


def _ratio(estimate: float, capacity: float) -> float | None:
    return round(estimate / capacity, 4) if capacity > 0 else None


def _sums(*figures: tuple[str, str]) -> str:
    # Sums of integers come back as integers: PostgreSQL's own sum of bigints is numeric, which
    # the driver turns into Decimal, several times slower to make and to read.
    return ", ".join(
        f"CAST(SUM({expression}) AS BIGINT) AS {alias}" for expression, alias in figures
    )


def _owner_totals(snapshot: Snapshot, totals: Table, owners: str) -> tuple[str, tuple[Any, ...]]:
    """A CTE ``open_totals``: the totals row of each of ``owners`` (a subquery naming them)."""
    visible, params = snapshot.visible("o")
    return (
        f"open_totals AS (SELECT o.* FROM {snapshot.name(totals)} o "
        f"WHERE {visible} AND o.{totals.key[0]} IN ({owners}))",
        params,
    )


def _due_sums(
    snapshot: Snapshot, period: _Period, days: Table, owner: str
) -> tuple[str, tuple[Any, ...]]:
    """The owner's overdue work (count, points) and upcoming occurrences (count, points),
    summed over its days: four subqueries, each a range of one owner's days in the index
    (a plan that can't wander off to every owner's past days, whatever the statistics say)."""
    visible, params = snapshot.visible("d")
    overdue = ("d.due_date < %s", (period.today,))
    upcoming = ("d.due_date >= %s AND d.due_date < %s", (period.today, period.horizon))
    sums = []
    sum_params: list[Any] = []
    for figure, (condition, condition_params) in (
        ("open_count", overdue),
        ("open_micropoints", overdue),
        ("occurrence_count", upcoming),
        ("occurrence_micropoints", upcoming),
    ):
        sums.append(
            f"(SELECT CAST(SUM(d.{figure}) AS BIGINT) FROM {snapshot.name(days)} d "
            f"WHERE {visible} AND d.{days.key[0]} = {owner} AND {condition})"
        )
        sum_params += [*params, *condition_params]
    return ", ".join(sums), tuple(sum_params)


_TEAM_FIGURES = ", ".join(f"open_totals.{figure}" for figure in TEAM_OPEN_FIGURES)
_MEMBER_FIGURES = ", ".join(f"open_totals.{figure}" for figure in MEMBER_OPEN_FIGURES)


def _team_workload(team: Sequence[Any], crew: Sequence[Any], load: Sequence[Any]) -> dict[str, Any]:
    """A ``TeamWorkload``'s values from the team's row ``(id, name, own capacity)``, its crew
    ``(members, active members, their capacity)`` and its summed load buckets
    (``_TEAM_FIGURES``)."""
    team_id, name, own_capacity = team
    members, active, members_capacity = crew
    capacity = _summed(own_capacity if own_capacity is not None else members_capacity)
    assigned = _total(load[0], _points(load[1]))
    return {
        "id": team_id,
        "name": name,
        "member_count": int(members or 0),
        "active_member_count": int(active or 0),
        "weekly_capacity": capacity,
        "capacity_source": "team" if own_capacity is not None else "members",
        "open_assigned": assigned,
        "unestimated": int(load[2] or 0),
        "load_ratio": _ratio(assigned["estimate"], capacity),
        "work_in_progress": int(load[5] or 0),
        "overdue": _total(load[8], _points(load[9])),
        "blocked": int(load[6] or 0),
        "upcoming_occurrences": _total(load[10], _points(load[11])),
        "unassigned_backlog": _total(load[3], _points(load[4])),
        "untriaged": int(load[7] or 0),
    }


def _decode_team_cursor(cursor: str | None) -> tuple[str, str] | None:
    values = decode_cursor_of(cursor, (str, str))
    return None if values is None else (values[0], values[1])


def _read_page(
    view: ViewRequest, snapshot: Snapshot, limit: int, after: tuple[str, str] | None
) -> dict[str, Any]:
    """A ``WorkloadPage``'s values: a page of teams with their crews and summed load, in one
    statement (one round trip)."""
    where, params = snapshot.visible()
    if after is not None:
        where += " AND (name > %s OR (name = %s AND team_id > %s))"
        params = (*params, after[0], after[0], after[1])
    rows = view.fetchall(*_teams_statement(view, snapshot, where, params, limit + 1), prepare=True)
    page = rows[:limit]
    teams = [_team_workload(row[:3], row[3:6], row[6:]) for row in page]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor([last[1], last[0]])
    return {"items": teams, "next_cursor": next_cursor}


def _teams_statement(
    view: ViewRequest, snapshot: Snapshot, where: str, params: tuple[Any, ...], limit: int
) -> tuple[str, tuple[Any, ...]]:
    """The teams ``where`` selects (up to ``limit``, by name), each with its crew and its
    figures: ``(id, name, own capacity, members, active members, their capacity,
    *TEAM_OPEN_FIGURES, overdue count and points, upcoming count and points)``."""
    period = _Period.of(view.now)
    membership, membership_params = snapshot.visible("ms")
    member, member_params = snapshot.visible("m")
    totals, totals_params = _owner_totals(snapshot, TEAM_OPEN, "SELECT team_id FROM page")
    due, due_params = _due_sums(snapshot, period, LOADS, "page.team_id")
    return (
        "WITH page AS ("
        f"SELECT team_id, name, weekly_capacity FROM {snapshot.name(TEAMS)} WHERE {where} "
        "ORDER BY name, team_id LIMIT %s), "
        "crew AS (SELECT ms.team_id, COUNT(*) AS members, "
        "SUM(CASE WHEN m.active THEN 1 ELSE 0 END) AS active, "
        "SUM(CASE WHEN m.active THEN m.weekly_capacity ELSE 0 END) AS capacity "
        f"FROM {snapshot.name(MEMBERSHIPS)} ms JOIN {snapshot.name(MEMBERS)} m "
        f"ON m.member_id = ms.member_id AND {member} "
        f"WHERE {membership} AND ms.team_id IN (SELECT team_id FROM page) GROUP BY ms.team_id), "
        f"{totals} "
        "SELECT page.team_id, page.name, page.weekly_capacity, "
        f"crew.members, crew.active, crew.capacity, {_TEAM_FIGURES}, {due} "
        "FROM page LEFT JOIN crew ON crew.team_id = page.team_id "
        "LEFT JOIN open_totals ON open_totals.team_id = page.team_id "
        "ORDER BY page.name, page.team_id",
        (*params, limit, *member_params, *membership_params, *totals_params, *due_params),
    )


def _read_team(view: ViewRequest, snapshot: Snapshot, team_id: UUID) -> dict[str, Any]:
    """A ``TeamWorkloadDetail``'s values: the team's figures, its members' and their
    throughput, from three statements that travel together (one round trip on PostgreSQL)."""
    period = _Period.of(view.now)
    visible, visible_params = snapshot.visible()
    membership, membership_params = snapshot.visible("ms")
    member, member_params = snapshot.visible("m")
    week, week_params = snapshot.visible("w")
    crew = (
        f"FROM {snapshot.name(MEMBERSHIPS)} ms JOIN {snapshot.name(MEMBERS)} m "
        f"ON m.member_id = ms.member_id AND {member} "
        f"WHERE {membership} AND ms.team_id = %s"
    )
    crew_params = (*member_params, *membership_params, str(team_id))
    totals, totals_params = _owner_totals(snapshot, MEMBER_OPEN, "SELECT member_id FROM crew")
    due, due_params = _due_sums(snapshot, period, MEMBER_LOADS, "crew.member_id")
    found, members, weeks = view.fetch_each(
        Statement(
            *_teams_statement(
                view, snapshot, f"{visible} AND team_id = %s", (*visible_params, str(team_id)), 1
            ),
            prepare=True,
        ),
        Statement(
            "WITH crew AS (SELECT m.member_id, m.name, m.role, m.weekly_capacity, m.active "
            f"{crew}), {totals} "
            f"SELECT crew.*, {_MEMBER_FIGURES}, {due} FROM crew "
            "LEFT JOIN open_totals ON open_totals.member_id = crew.member_id "
            "ORDER BY crew.name, crew.member_id",
            (*crew_params, *totals_params, *due_params),
            prepare=True,
        ),
        # Both at once: the team's weeks, and each member's (wherever they worked).
        Statement(
            f"SELECT w.owner_id, w.week_start, w.completed, w.micropoints "
            f"FROM {snapshot.name(THROUGHPUT)} w WHERE {week} AND w.week_start >= %s "
            # One list of owners (not "team OR member"), so that each is an index lookup.
            "AND w.owner_id IN (SELECT CAST(%s AS TEXT) "
            f"UNION ALL SELECT ms.member_id {crew})",
            (*week_params, period.first_week.isoformat(), str(team_id), *crew_params),
            prepare=True,
        ),
    )
    if not found:
        raise ProblemError(404, "not_found", "no such team")
    throughput: dict[str | None, dict[str, tuple[int, float]]] = {}
    team_key = str(team_id)
    for owner, week_start, completed, micropoints in weeks:
        who = None if owner == team_key else owner
        throughput.setdefault(who, {})[week_start] = (int(completed), _points(micropoints))
    workloads = []
    for member_id, name, role, capacity, active, *counts in members:
        assigned = _total(counts[0], _points(counts[1]))
        weekly_capacity = _summed(capacity)
        workloads.append(
            {
                "id": member_id,
                "name": name,
                "role": role,
                "active": bool(active),
                "weekly_capacity": weekly_capacity,
                "open_assigned": assigned,
                "unestimated": int(counts[2] or 0),
                "load_ratio": _ratio(assigned["estimate"], weekly_capacity),
                "work_in_progress": int(counts[3] or 0),
                "overdue": _total(counts[5], _points(counts[6])),
                "blocked": int(counts[4] or 0),
                "upcoming_occurrences": _total(counts[7], _points(counts[8])),
                "throughput": period.weeks(throughput.get(member_id, {})),
            }
        )
    row = found[0]
    summary = _team_workload(row[:3], row[3:6], row[6:])
    return {
        **summary,
        "today": period.today,
        "members": workloads,
        "throughput": period.weeks(throughput.get(None, {})),
    }


def _json(answer: dict[str, Any]) -> Response:
    # Plain values serialised by orjson, as pydantic would write the model, at a fraction of the
    # cost of building the answer's hundreds of small models first (eight weeks for the team
    # and for each member; five models for each team of a page). The tests check every answer
    # against the model.
    return Response(orjson.dumps(answer), media_type="application/json")


router = Routes(tags=["views"])


@router.get("/views/workload", response_model=WorkloadPage, responses=problem_responses(400, 409))
async def every_team_workload(
    view: View, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response:
    """Every team's workload, summarised, by name: open assigned work and its estimate, weekly
    capacity and load ratio, work in progress, overdue, blocked, upcoming occurrences,
    unassigned backlog and untriaged issues."""
    after = _decode_team_cursor(cursor)
    page = await view.answer(NAME, lambda snapshot: _read_page(view, snapshot, limit, after))
    return _json(page)


@router.get(
    "/views/workload/{team_id}",
    response_model=TeamWorkloadDetail,
    responses=problem_responses(409, described={404: "No such team (at `as_of`, when given)."}),
)
async def team_workload(team_id: UUID, view: View) -> Response:
    """One team's workload in full: its figures, each member's (over all the work assigned to
    them), and what the team and each member completed in each of the last 8 ISO weeks."""
    return _json(await view.answer(NAME, lambda snapshot: _read_team(view, snapshot, team_id)))
