"""An issue's slim row (``pf_issue``) is the state it was last counted with. Every change to it
goes through ``replace_issue``, which moves the issue's share out of the tallies it was counted
in and into those it belongs to now: its scope's (its project's, or its team's outside any
project) and each linked goal's work. Completing an issue also credits its team's pace, and
opening or closing it changes whether the issues it blocks are waiting."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from domain.issue import OPEN_STATUSES
from services.projections.dispatch import Change
from services.projections.readmodel import Row, Table
from services.projections.views.portfolio.tables import (
    COMPLETIONS,
    DAY_MICROS,
    DIGITS,
    DUE,
    GOAL_WORK,
    ISSUES,
    TALLIES,
    TEAM_DAYS,
    dumps,
    loads,
)


def is_open(issue: Row | None) -> bool:
    return issue is not None and issue["status"] in OPEN_STATUSES


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


def _tally(change: Change, table: Table, key: Row, delta: Mapping[str, float]) -> None:
    """Adds ``delta`` to the tally row of ``key`` (a row of zeros if it has none yet)."""
    if not delta:
        return
    writer = change.writer
    current = writer.get(table.name, tuple(key[column] for column in table.key))
    row = dict(current) if current is not None else _zeros(table, key)
    due: dict[str, int] | None = None
    for name, amount in delta.items():
        if name.startswith(DUE):
            if due is None:
                due = loads(row["open_due"]) or {}
            day = name.removeprefix(DUE)
            count = due.get(day, 0) + int(amount)
            if count:
                due[day] = count
            else:
                due.pop(day, None)
        else:
            total = row[name] + amount
            row[name] = round(total, DIGITS) if isinstance(total, float) else total
    if due is not None:
        row["open_due"] = dumps(due)
    writer.put(table.name, row, change.at, change.event.position)


def _zeros(table: Table, key: Row) -> Row:
    zero: dict[str, Any] = {"int": 0, "real": 0.0}
    row = {column.name: zero.get(column.type) for column in table.columns}
    if "open_due" in row:
        row["open_due"] = "{}"
    return row | key


def replace_issue(change: Change, before: Row | None, after: Row) -> None:
    """Makes ``after`` the issue's row, moving its share between the tallies it counts in."""
    if before == after:
        return
    # The writer itself, not ``Change.put``: this and ``_tally`` run several times per issue
    # event, the hottest path of a rebuild.
    change.writer.put(ISSUES.name, after, change.at, change.event.position)
    scope = after["project_id"] or after["team_id"]
    delta = _difference(_share(before), _share(after))
    _tally(change, TALLIES, {"scope_id": scope}, delta)
    if after["goal_ids"] == "[]" and (before is None or before["goal_ids"] == "[]"):
        return
    linked_before = set(loads(before["goal_ids"])) if before is not None else set()
    linked_after = set(loads(after["goal_ids"]))
    share_before, share_after = _goal_share(before), _goal_share(after)
    for goal_id in sorted(linked_before | linked_after):
        delta = _difference(
            share_before if goal_id in linked_before else {},
            share_after if goal_id in linked_after else {},
        )
        _tally(change, GOAL_WORK, {"goal_id": goal_id}, delta)


def _credit_completion(change: Change, issue: Row, credit: float, items: int) -> None:
    """Records ``credit`` (negative when reopened) as completed work of the issue's team, and
    the issue as one item done (``items`` 1) or undone (-1)."""
    at = change.at
    change.writer.append(
        COMPLETIONS.name,
        {
            "position": change.event.position,
            "issue_id": change.subject,
            "team_id": issue["team_id"],
            "project_id": issue["project_id"],
            "kind": issue["kind"],
            "estimate": credit,
            "occurred": at,
            "items": items,
        },
    )
    day_key = (issue["team_id"], at // DAY_MICROS)
    day = change.get(TEAM_DAYS, day_key)
    completed = (day["completed"] if day else 0.0) + credit
    finished = (day["items"] if day else 0) + items
    change.put(
        TEAM_DAYS,
        {"team_id": day_key[0], "day": day_key[1], "completed": completed, "items": finished},
    )


def depend(change: Change, blocker_id: str, *, added: bool) -> None:
    """Adds or removes the issue's wait on ``blocker_id``, on both issues' rows."""
    issue_id = change.subject
    issue = change.get(ISSUES, (issue_id,))
    if issue is None:
        return
    blocked_by = [other for other in loads(issue["blocked_by"]) if other != blocker_id]
    if added:
        blocked_by.append(blocker_id)
    blocker = change.get(ISSUES, (blocker_id,))
    if blocker is not None:
        blocks = [other for other in loads(blocker["blocks"]) if other != issue_id]
        if added:
            blocks.append(issue_id)
        replace_issue(change, blocker, {**blocker, "blocks": dumps(blocks)})
    after = {**issue, "blocked_by": dumps(blocked_by), "waiting": _waits(change, blocked_by)}
    replace_issue(change, issue, after)


def _waits(change: Change, blocker_ids: Iterable[str]) -> bool:
    return any(is_open(change.get(ISSUES, (blocker,))) for blocker in blocker_ids)


def _refresh_waiting(change: Change, issue_id: str) -> None:
    issue = change.get(ISSUES, (issue_id,))
    if issue is None:
        return
    waiting = _waits(change, loads(issue["blocked_by"]))
    if waiting != bool(issue["waiting"]):
        replace_issue(change, issue, {**issue, "waiting": waiting})


def change_issue(change: Change, changes: dict[str, Any]) -> None:
    """Applies ``changes`` to the issue's row, if it has one."""
    before = change.get(ISSUES, (change.subject,))
    if before is not None:
        replace_issue(change, before, {**before, **changes})


def link_goal(change: Change, goal_id: str) -> None:
    before = change.get(ISSUES, (change.subject,))
    if before is None:
        return
    linked = loads(before["goal_ids"])
    if goal_id not in linked:
        replace_issue(change, before, {**before, "goal_ids": dumps([*linked, goal_id])})


def unlink_goal(change: Change, goal_id: str) -> None:
    before = change.get(ISSUES, (change.subject,))
    if before is None:
        return
    linked = [linked for linked in loads(before["goal_ids"]) if linked != goal_id]
    replace_issue(change, before, {**before, "goal_ids": dumps(linked)})


def transition(change: Change, status: str) -> None:
    """Moves the issue to ``status``: work done is credited to its team (and taken back when
    reopened), and the issues it blocks wait on it only while it is open."""
    issue_id = change.subject
    before = change.get(ISSUES, (issue_id,))
    if before is None:
        return
    after = {**before, "status": status}
    credit: float | None = None
    if status == "done" and before["status"] != "done":
        credit = after["credited"] = before["estimate"] or 0.0
    elif before["status"] == "done" and status != "done":
        credit = -(before["credited"] or 0.0)
        after["credited"] = None
    if credit is not None:
        _credit_completion(change, before, credit, 1 if status == "done" else -1)
    replace_issue(change, before, after)
    if is_open(before) != is_open(after):
        for dependent in loads(before["blocks"]):
            _refresh_waiting(change, dependent)
