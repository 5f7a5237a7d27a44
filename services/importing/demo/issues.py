"""An issue as the demo knows it: its state as its lines have left it, and what it can do.

``IssueLife`` writes an issue's lines (create, move, assign, comment, edit) and keeps what later
steps need to stay within the rules: its status (every move checked against
``rules.ISSUE_WORKFLOW``), assignee, estimate, links and what it waits on. An issue is created
with the fields a reporter fills in: tasks start in the backlog, the rest in triage
(``rules.initial_status``); some land in one of the team's open projects, a few as sub-issues of
a recent task there, a few linked to a goal. How it then moves is ``flow``.

An issue looks around each time it acts (``interrupted``): work assigned to someone who has left
is handed to a teammate first, and an issue its project closed meanwhile stops. When a project is
completed or cancelled, its lead closes the project's open issues at once
(``close_with_project``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from services.importing.demo.calendar import DAY, HOUR, MINUTE
from services.importing.demo.names import (
    AGING_COMMENTS,
    BLOCK_REASONS,
    BUG_PHRASES,
    INCIDENT_PHRASES,
    LABELS,
    REQUEST_PHRASES,
    SUBJECTS,
    TASK_VERBS,
)
from services.importing.demo.rules import ISSUE_WORKFLOW, OPEN_STATUSES, initial_status
from services.importing.demo.world import (
    IssueRecord,
    Person,
    ProjectRecord,
    Team,
    World,
)

KIND_MIX = (("task", 0.55), ("bug", 0.27), ("request", 0.11), ("incident", 0.07))
IDLE_KIND_MIX = (("task", 0.3), ("bug", 0.4), ("request", 0.25), ("incident", 0.05))
PRIORITIES = (("urgent", 0.04), ("high", 0.18), ("medium", 0.38), ("low", 0.25), ("none", 0.15))
SEVERITIES = (("sev1", 0.05), ("sev2", 0.2), ("sev3", 0.45), ("sev4", 0.3))
POINTS = (1.0, 2.0, 2.0, 3.0, 3.0, 5.0, 8.0)
# Someone about to leave gets no new work this close to their last day.
LEAVING_MARGIN = 2 * DAY


def weighted(world: World, choices: tuple[tuple[str, float], ...]) -> str:
    point = world.rng.random()
    for value, weight in choices:
        point -= weight
        if point < 0:
            return value
    return choices[-1][0]


@dataclass
class IssuePlan:
    """What is settled about an issue before it is created; the rest is drawn as it lives."""

    team: Team
    kind: str
    project: ProjectRecord | None = None
    pick_project: bool = True
    assignee: Person | None = None
    estimate: float | None = None
    stop_at: str | None = None
    """The status it stays in once reached (the situations' issues)."""
    triaged: bool = True
    """``False``: left in triage."""
    pull_at: int | None = None
    """When it is pulled into progress, instead of after the team's usual wait."""
    slowness: float = 1.0
    stuck: bool = False
    """Blocked for good once it stays in progress (otherwise some are, by chance)."""


class IssueLife:
    """One issue's state as its lines have left it, and the actor that writes them."""

    def __init__(self, world: World, plan: IssuePlan) -> None:
        self.world = world
        self.plan = plan
        self.team = plan.team
        self.kind = plan.kind
        self.id = world.new_id()
        self.status = initial_status(plan.kind)
        self.assignee: Person | None = None
        self.reporter: Person = self.worker() or self.lead()
        self.project: ProjectRecord | None = plan.project
        self.priority = "none"
        self.severity: str | None = None
        self.estimate: float | None = None
        self.labels: list[str] = []
        self.links: set[UUID] = set()
        self.due: date | None = None
        self.blocked = False
        self.blocked_by: set[UUID] = set()
        self.watchers: set[UUID] = set()
        world.issues_created += 1
        self.record = IssueRecord(self.id, plan.kind, None, self.status, world.issues_created)

    # Who acts

    def lead(self) -> Person:
        assert self.team.manager is not None
        return self.team.manager

    def worker(self, besides: Person | None = None) -> Person | None:
        candidates = [
            person
            for person in self.team.workers(self.world.now, LEAVING_MARGIN)
            if person is not besides
        ]
        return self.world.rng.choice(candidates) if candidates else None

    def doer(self) -> Person:
        """Whoever acts on the issue now: its assignee if they are still here."""
        if self.assignee is not None and self.assignee.available(self.world.now):
            return self.assignee
        if self.reporter.available(self.world.now):
            return self.reporter
        return self.lead()

    # Lines

    def _emit(self, suffix: str, actor: Person, body: dict[str, Any] | None = None) -> None:
        self.world.emit(f"POST /v1/issues/{self.id}{suffix}", actor, body)

    def patch(self, body: dict[str, Any], actor: Person | None = None) -> None:
        self.world.emit(f"PATCH /v1/issues/{self.id}", actor or self.doer(), body)

    def move(self, status: str, actor: Person | None = None) -> None:
        if status not in ISSUE_WORKFLOW[self.status]:
            raise AssertionError(f"the demo moved an issue from {self.status} to {status}")
        self._emit("/transition", actor or self.doer(), {"status": status})
        self.status = self.record.status = status

    def assign(self, person: Person | None, by: Person | None = None) -> None:
        if person is self.assignee:
            return
        body = {"assignee_id": str(person.id) if person else None}
        self._emit("/assign", by or self.lead(), body)
        self.assignee = person

    def block(self, reason: str) -> None:
        if not self.blocked:
            self._emit("/block", self.doer(), {"reason": reason})
            self.blocked = True

    def unblock(self) -> None:
        if self.blocked:
            self._emit("/unblock", self.doer())
            self.blocked = False

    def comment(self, text: str, author: Person | None = None) -> None:
        self.world.emit(
            f"POST /v1/issues/{self.id}/comments",
            author or self.doer(),
            {"body": text},
            id=self.world.new_id(),
        )

    # Moments

    def after(self, hours: float) -> int:
        """The moment ``hours`` of this team's working time from now."""
        pace = self.team.pace * self.plan.slowness
        return self.world.calendar.after(self.world.now, hours * HOUR * pace)

    def soon(self) -> int:
        return self.world.now + self.world.rng.randint(1, 20) * MINUTE

    def wait(self, mean_hours: float) -> int:
        return self.after(self.world.rng.expovariate(1 / mean_hours))

    # Creating

    def create(self) -> None:
        world, rng, plan = self.world, self.world.rng, self.plan
        kind = self.kind
        if plan.pick_project and self.project is None:
            self.project = self._pick_project()
        subject = rng.choice(SUBJECTS)
        if kind == "task":
            title = f"{rng.choice(TASK_VERBS)} {subject}"
        else:
            phrases = {"bug": BUG_PHRASES, "request": REQUEST_PHRASES}.get(kind, INCIDENT_PHRASES)
            title = rng.choice(phrases).format(subject=subject)
            title = title[0].upper() + title[1:]
        body: dict[str, Any] = {"title": title, "kind": kind, "team_id": str(self.team.id)}
        body["description"] = f"Reported by {self.reporter.name}."
        if kind == "incident":
            self.severity = weighted(world, SEVERITIES)
            body["severity"] = self.severity
            self.priority = "urgent" if self.severity in ("sev1", "sev2") else "high"
        else:
            self.priority = weighted(world, PRIORITIES)
        body["priority"] = self.priority
        estimate = plan.estimate
        if estimate is None and rng.random() < {"task": 0.85, "bug": 0.4, "request": 0.3}.get(
            kind, 0.0
        ):
            estimate = rng.choice(POINTS if kind == "task" else POINTS[:4])
        if estimate is not None:
            body["estimate"] = self.estimate = estimate
        if kind != "incident" and rng.random() < {"task": 0.25, "request": 0.3}.get(kind, 0.15):
            self.due = world.today() + timedelta(days=rng.randint(5, 30))
            body["due_date"] = self.due.isoformat()
        self.labels = rng.sample(LABELS, rng.choice((0, 1, 1, 2)))
        if self.labels:
            body["labels"] = self.labels
        if self.project is not None:
            body["project_id"] = str(self.project.id)
            parent = self._parent()
            if parent is not None:
                body["parent_id"] = str(parent.id)
        goals = world.goals_of(self.team, world.now)
        if goals and kind == "task" and rng.random() < 0.12:
            goal = rng.choice(goals)
            self.links.add(goal.id)
            body["goal_ids"] = [str(goal.id)]
        if plan.assignee is not None:
            body["assignee_id"] = str(plan.assignee.id)
            self.assignee = plan.assignee
        creator = self.lead() if plan.assignee is not None else self.reporter
        world.emit("POST /v1/issues", creator, body, id=self.id)
        self.record.project = self.project
        if self.project is not None:
            self.project.closers.append(self.close_with_project)
        self.team.recent.append(self.record)

    def _pick_project(self) -> ProjectRecord | None:
        rng = self.world.rng
        if rng.random() >= {"task": 0.7, "bug": 0.3}.get(self.kind, 0.1):
            return None
        weights = {"active": 1.0, "proposed": 0.1, "on_hold": 0.05}
        open_projects = [
            (project, project.weight * weights[project.status])
            for project in self.team.projects
            if project.status in weights
        ]
        if not open_projects:
            return None
        total = sum(weight for _, weight in open_projects)
        point = rng.random() * total
        for project, weight in open_projects:
            point -= weight
            if point < 0:
                return project
        return open_projects[-1][0]

    def _parent(self) -> IssueRecord | None:
        if self.kind != "task" or self.world.rng.random() >= 0.08:
            return None
        siblings = [
            record
            for record in self.team.recent
            if record.project is self.project and record.kind == "task"
        ]
        return self.world.rng.choice(siblings) if siblings else None

    # Looking around

    def interrupted(self) -> bool:
        """``True`` when the issue was closed meanwhile (its project closed); otherwise hands
        the work on from an assignee who has left, and answers ``False``."""
        if self.status not in OPEN_STATUSES:
            return True
        if self.assignee is not None and not self.assignee.available(self.world.now):
            successor = self.worker()
            if self.status in ("backlog", "triage") or successor is None:
                self.assign(None)
            else:
                self.assign(successor)
        return False

    def close_with_project(self) -> None:
        """The project was completed or cancelled: what was in review is done, the rest is
        cancelled (by the lead, at once)."""
        if self.status in OPEN_STATUSES:
            self.move("done" if self.status == "in_review" else "cancelled", self.lead())

    def stalls(self) -> bool:
        """Whether the issue stays where it is for good: an idle team takes up almost nothing
        (it still finishes what it had started)."""
        return self.team.is_idle(self.world.now) and self.world.rng.random() < 0.9

    def linger(self) -> Iterator[int]:
        """An issue that stays where it is: now and then someone says it is still there, and
        some of it gets stuck waiting on something for good."""
        if self.plan.stuck or self.world.rng.random() < 0.3:
            self.block(self.world.rng.choice(BLOCK_REASONS))
        while self.status == "in_progress":
            yield self.world.now + self.world.rng.randint(9, 16) * DAY
            if self.status == "in_progress":
                self.comment(self.world.rng.choice(AGING_COMMENTS))


def poisson(world: World, mean: float) -> int:
    """A small Poisson draw (Knuth's method)."""
    limit, count, product = math.exp(-mean), 0, world.rng.random()
    while product > limit:
        count += 1
        product *= world.rng.random()
    return count
