"""How issues change the insights' facts: every event on an issue is activity (``stale_work``
looks for its absence); transitions keep the time in each status, the first start, reopens and
the finished issues' flow; due-date changes count moves; dependencies keep who waits on whom."""

from __future__ import annotations

from typing import Any

from domain.issue import (
    OPEN_STATUSES,
    IssueAssigned,
    IssueBlocked,
    IssueCommented,
    IssueCreated,
    IssueDependencyAdded,
    IssueDependencyRemoved,
    IssueDescriptionChanged,
    IssueDueDateChanged,
    IssueEstimated,
    IssueLabelsChanged,
    IssueLinked,
    IssueParentChanged,
    IssuePriorityChanged,
    IssueRetitled,
    IssueSeverityChanged,
    IssueTransitioned,
    IssueUnassigned,
    IssueUnblocked,
    IssueUnlinked,
    IssueWatcherAdded,
    IssueWatcherRemoved,
)
from services.projections.dispatch import Change, EventHandlers
from services.projections.readmodel import Row, from_micros, iso_date
from services.projections.views.insights.measures import week_start
from services.projections.views.insights.tables import (
    COMPLETIONS,
    FINISHED,
    ITEM_GOALS,
    ITEMS,
    PROJECTS,
    WEEKS,
    dumps,
    loads,
)

# Gathered into the view's handlers by ``handlers``.
ITEM_HANDLERS = EventHandlers()


# What an item commits its owner to: a change to any of them moves their committed load.
_LOAD_FIELDS = frozenset({"status", "assignee_id", "estimate", "due_date"})


def _touch(change: Change, changes: dict[str, Any]) -> Row | None:
    """Changes the issue's row (and records the event as its latest activity); the row as it
    is now, or ``None`` if there is no such issue."""
    activity = {"last_event_at": change.at, "last_event_position": change.event.position}
    if not _LOAD_FIELDS.isdisjoint(changes):
        activity["load_changed_at"] = change.at
    return change.update(ITEMS, (change.subject,), {**changes, **activity})


@ITEM_HANDLERS.on(IssueCreated)
def issue_created(change: Change, event: IssueCreated) -> None:
    at, position = change.at, change.event.position
    issue_id = change.subject
    started = event.status in ("in_progress", "in_review")
    row = {
        "item_id": issue_id,
        "kind": event.kind,
        "key": event.key,
        "title": event.title,
        "team_id": str(event.team_id),
        "project_id": str(event.project_id) if event.project_id else None,
        "operation_id": None,
        "assignee_id": str(event.assignee_id) if event.assignee_id else None,
        "status": event.status,
        "is_open": event.status in OPEN_STATUSES,
        "priority": event.priority,
        "priority_position": position,
        "severity": event.severity,
        "severity_position": position if event.severity else None,
        "estimate": event.estimate,
        "due_date": iso_date(event.due_date),
        "due_position": position if event.due_date else None,
        "due_moves": 0,
        "due_move_positions": "[]",
        "due_move_times": "[]",
        "flagged": False,
        "flagged_reason": None,
        "flagged_at": None,
        "flagged_position": None,
        "waiting_positions": "{}",
        "waiting_since": "{}",
        "waiting": 0,
        "blocks": "[]",
        "created_at": at,
        "created_position": position,
        "started_at": at if started else None,
        "started_position": position if started else None,
        "status_since": at,
        "status_position": position,
        "status_time": "{}",
        "reopens": 0,
        "reopen_positions": "[]",
        "finished_at": at if event.status in ("done", "cancelled") else None,
        "last_event_at": at,
        "last_event_position": position,
        "load_changed_at": at,
    }
    change.put(ITEMS, row)
    for goal_id in event.goal_ids:
        _link_goal(change, issue_id, str(goal_id))
    if row["is_open"] and event.project_id is not None:
        _count_open(change, str(event.project_id), 1)
    if event.status == "done":
        _complete(change, _record_finish(change, row), 1)


# Events that change nothing the insights judge, but are activity on the issue.


@ITEM_HANDLERS.on(IssueDescriptionChanged)
def issue_description_changed(change: Change, _: IssueDescriptionChanged) -> None:
    _touch(change, {})


@ITEM_HANDLERS.on(IssueLabelsChanged)
def issue_labels_changed(change: Change, _: IssueLabelsChanged) -> None:
    _touch(change, {})


@ITEM_HANDLERS.on(IssueParentChanged)
def issue_parent_changed(change: Change, _: IssueParentChanged) -> None:
    _touch(change, {})


@ITEM_HANDLERS.on(IssueCommented)
def issue_commented(change: Change, _: IssueCommented) -> None:
    _touch(change, {})


@ITEM_HANDLERS.on(IssueWatcherAdded)
def issue_watcher_added(change: Change, _: IssueWatcherAdded) -> None:
    _touch(change, {})


@ITEM_HANDLERS.on(IssueWatcherRemoved)
def issue_watcher_removed(change: Change, _: IssueWatcherRemoved) -> None:
    _touch(change, {})


@ITEM_HANDLERS.on(IssueRetitled)
def issue_retitled(change: Change, event: IssueRetitled) -> None:
    _touch(change, {"title": event.title})


@ITEM_HANDLERS.on(IssuePriorityChanged)
def issue_priority_changed(change: Change, event: IssuePriorityChanged) -> None:
    _touch(change, {"priority": event.priority, "priority_position": change.event.position})


@ITEM_HANDLERS.on(IssueSeverityChanged)
def issue_severity_changed(change: Change, event: IssueSeverityChanged) -> None:
    position = change.event.position if event.severity else None
    _touch(change, {"severity": event.severity, "severity_position": position})


@ITEM_HANDLERS.on(IssueEstimated)
def issue_estimated(change: Change, event: IssueEstimated) -> None:
    _touch(change, {"estimate": event.estimate})


@ITEM_HANDLERS.on(IssueAssigned)
def issue_assigned(change: Change, event: IssueAssigned) -> None:
    _touch(change, {"assignee_id": str(event.assignee_id)})


@ITEM_HANDLERS.on(IssueUnassigned)
def issue_unassigned(change: Change, _: IssueUnassigned) -> None:
    _touch(change, {"assignee_id": None})


@ITEM_HANDLERS.on(IssueDueDateChanged)
def issue_due_date_changed(change: Change, event: IssueDueDateChanged) -> None:
    issue = change.get(ITEMS, (change.subject,))
    if issue is None:
        return
    due_date, position = iso_date(event.due_date), change.event.position
    changes: dict[str, Any] = {"due_date": due_date, "due_position": position}
    # A move: a date that was set, changed to another or cleared. Setting a first date isn't.
    if issue["due_date"] is not None and due_date != issue["due_date"]:
        moves = [*loads(issue["due_move_positions"]), position]
        times = [*loads(issue["due_move_times"]), change.at]
        changes |= {
            "due_moves": len(moves),
            "due_move_positions": dumps(moves),
            "due_move_times": dumps(times),
        }
    _touch(change, changes)


@ITEM_HANDLERS.on(IssueBlocked)
def issue_blocked(change: Change, event: IssueBlocked) -> None:
    _touch(
        change,
        {
            "flagged": True,
            "flagged_reason": event.reason,
            "flagged_at": change.at,
            "flagged_position": change.event.position,
        },
    )


@ITEM_HANDLERS.on(IssueUnblocked)
def issue_unblocked(change: Change, _: IssueUnblocked) -> None:
    changes = {"flagged": False, "flagged_reason": None, "flagged_at": None}
    _touch(change, changes | {"flagged_position": None})


def _wait(change: Change, issue: Row, blocker_id: str, waits: bool) -> None:
    """Makes ``issue`` wait on ``blocker_id`` from this event on, or stop waiting on it."""
    positions = dict(loads(issue["waiting_positions"]))
    since = dict(loads(issue["waiting_since"]))
    if not waits:
        if positions.pop(blocker_id, None) is None:
            return
        since.pop(blocker_id, None)
    else:
        positions[blocker_id], since[blocker_id] = change.event.position, change.at
    changes = {
        "waiting_positions": dumps(positions),
        "waiting_since": dumps(since),
        "waiting": len(positions),
    }
    change.update(ITEMS, (issue["item_id"],), changes)


@ITEM_HANDLERS.on(IssueDependencyAdded)
def issue_dependency_added(change: Change, event: IssueDependencyAdded) -> None:
    issue = _touch(change, {})
    blocker_id = str(event.blocked_by_id)
    blocker = change.get(ITEMS, (blocker_id,))
    if issue is None or blocker is None:
        return
    blocks = loads(blocker["blocks"])
    if change.subject not in blocks:
        blocks = dumps(sorted([*blocks, change.subject]))
        change.update(ITEMS, (blocker_id,), {"blocks": blocks})
    if blocker["is_open"]:
        current = change.get(ITEMS, (change.subject,))
        if current is not None:
            _wait(change, current, blocker_id, True)


@ITEM_HANDLERS.on(IssueDependencyRemoved)
def issue_dependency_removed(change: Change, event: IssueDependencyRemoved) -> None:
    issue = _touch(change, {})
    blocker_id = str(event.blocked_by_id)
    blocker = change.get(ITEMS, (blocker_id,))
    if issue is None:
        return
    if blocker is not None:
        blocks = [other for other in loads(blocker["blocks"]) if other != change.subject]
        change.update(ITEMS, (blocker_id,), {"blocks": dumps(blocks)})
    current = change.get(ITEMS, (change.subject,))
    if current is not None:
        _wait(change, current, blocker_id, False)


def _link_goal(change: Change, issue_id: str, goal_id: str) -> None:
    if change.get(ITEM_GOALS, (issue_id, goal_id)) is None:
        change.put(
            ITEM_GOALS,
            {
                "item_id": issue_id,
                "goal_id": goal_id,
                "linked_at": change.at,
                "linked_position": change.event.position,
            },
        )


def _count_open(change: Change, project_id: str | None, delta: int) -> None:
    if project_id is None:
        return
    project = change.get(PROJECTS, (project_id,))
    if project is not None:
        opened = project["open_issues"] + delta
        change.update(PROJECTS, (project_id,), {"open_issues": opened})


def _complete(change: Change, finished: Row, items: int) -> None:
    """A completion fact (``items`` 1) or its reversal by a reopening (-1), counted in the
    week it occurred for the team and the member it was finished for: a reversal takes back
    what the completion gave, whoever holds the issue now."""
    change.append(
        COMPLETIONS,
        {
            "position": change.event.position,
            "item_id": finished["item_id"],
            "team_id": finished["team_id"],
            "project_id": finished["project_id"],
            "assignee_id": finished["assignee_id"],
            "occurred": change.at,
            "items": items,
            "estimate": finished["estimate"],
        },
    )
    week = week_start(from_micros(change.at).date()).isoformat()
    points = items * float(finished["estimate"] or 0.0)
    for kind, owner_id in (("team", finished["team_id"]), ("member", finished["assignee_id"])):
        if owner_id is None:
            continue
        row = change.get(WEEKS, (owner_id, week))
        if row is None:
            row = {"owner_id": owner_id, "owner_kind": kind, "week_start": week,
                   "items": 0, "points": 0.0}  # fmt: skip
        totals = {"items": row["items"] + items, "points": round(row["points"] + points, 9)}
        change.put(WEEKS, {**row, **totals})


@ITEM_HANDLERS.on(IssueLinked)
def issue_linked(change: Change, event: IssueLinked) -> None:
    if _touch(change, {}) is not None and event.target_kind == "goal":
        _link_goal(change, change.subject, str(event.target_id))


@ITEM_HANDLERS.on(IssueUnlinked)
def issue_unlinked(change: Change, event: IssueUnlinked) -> None:
    if _touch(change, {}) is None:
        return
    key = (change.subject, str(event.target_id))
    if change.get(ITEM_GOALS, key) is not None:
        change.delete(ITEM_GOALS, key)


def _record_finish(change: Change, issue: Row) -> Row:
    started = issue["started_at"]
    finished = {
        "item_id": issue["item_id"],
        "team_id": issue["team_id"],
        "project_id": issue["project_id"],
        "assignee_id": issue["assignee_id"],
        "finished_at": change.at,
        "cycle_micros": change.at - started if started is not None else None,
        "lead_micros": change.at - issue["created_at"],
        "estimate": issue["estimate"],
    }
    change.put(FINISHED, finished)
    return finished


@ITEM_HANDLERS.on(IssueTransitioned)
def issue_transitioned(change: Change, event: IssueTransitioned) -> None:
    issue = change.get(ITEMS, (change.subject,))
    if issue is None:
        return
    at, position = change.at, change.event.position
    status, was_open = event.to_status, issue["is_open"]
    spent = dict(loads(issue["status_time"]))
    spent[issue["status"]] = spent.get(issue["status"], 0) + max(at - issue["status_since"], 0)
    changes: dict[str, Any] = {
        "status": status,
        "is_open": status in OPEN_STATUSES,
        "status_since": at,
        "status_position": position,
        "status_time": dumps(spent),
    }
    if status == "in_progress" and issue["started_at"] is None:
        changes |= {"started_at": at, "started_position": position}
    if status in OPEN_STATUSES:
        changes["finished_at"] = None
        if not was_open:
            reopened = [*loads(issue["reopen_positions"]), position]
            changes |= {"reopens": len(reopened), "reopen_positions": dumps(reopened)}
    else:
        changes["finished_at"] = at
    _touch(change, changes)
    if status == "done":
        _complete(change, _record_finish(change, {**issue, **changes}), 1)
    elif not was_open and issue["status"] == "done":
        finished = change.get(FINISHED, (change.subject,))
        if finished is not None:
            change.delete(FINISHED, (change.subject,))
            _complete(change, finished, -1)
    now_open = status in OPEN_STATUSES
    if was_open != now_open:
        _count_open(change, issue["project_id"], 1 if now_open else -1)
        # The issues this one blocks wait on it while it is open.
        for waiting_id in loads(issue["blocks"]):
            waiting = change.get(ITEMS, (waiting_id,))
            if waiting is not None:
                _wait(change, waiting, change.subject, now_open)
