"""One Jira issue's life as import lines: created with the values it had then, found by walking
its changelog back from what it holds now, then every change replayed at the moment it was made,
its comments among them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from contracts.commands import (
    AssignIssue,
    Body,
    Comment,
    CreateIssue,
    IssueStatus,
    TransitionIssue,
    UpdateIssue,
)
from services.importing.jira.errors import JiraExportError
from services.importing.jira.export import (
    JiraChange,
    JiraComment,
    JiraHistory,
    JiraIssue,
    JiraUser,
    parse_date,
)
from services.importing.jira.mapping import Mappings
from services.importing.jira.people import People
from services.importing.jira.report import JiraReport, note
from services.importing.jira.schedule import Rank, Scheduled, schedule
from services.importing.jira.workflow import initial_status, shortest_path

# Changelog fields, by name or id in lower case.
SUMMARY = frozenset({"summary"})
DESCRIPTION = frozenset({"description"})
PRIORITY = frozenset({"priority"})
DUE_DATE = frozenset({"duedate"})
LABELS = frozenset({"labels"})
PARENT = frozenset({"parent", "issueparentassociation"})
ASSIGNEE = frozenset({"assignee"})
STATUS = frozenset({"status"})
LINK = frozenset({"link"})
ORIGINAL_ESTIMATE = "timeoriginalestimate"

# The bounds of contracts.commands.CreateIssue and Comment.
MAX_TITLE = 500
MAX_DESCRIPTION = 50_000
MAX_COMMENT = 20_000
MAX_LABEL = 64
MAX_LABELS = 50

Value = TypeVar("Value")
Reader = Callable[[str | None, str | None, str], Value]


@dataclass(frozen=True)
class EstimateField:
    """Where estimates come from: the original time estimate (seconds, brought as hours) or a
    story-points field (brought as it is)."""

    field_id: str
    names: frozenset[str]
    in_seconds: bool

    def current(self, issue: JiraIssue) -> float | None:
        return self.read(None, _number_text(issue.fields.get(self.field_id)), issue.where)

    def read(self, raw: str | None, text: str | None, where: str) -> float | None:
        value = raw if raw not in (None, "") else text
        if value is None or not value.strip():
            return None
        try:
            number = float(value)
        except ValueError as error:
            raise JiraExportError(f"not a number: {value!r}", where) from error
        return round(number / 3600, 2) if self.in_seconds else number


@dataclass(frozen=True)
class Context:
    """What every issue's replay shares; issues, teams and projects by their Jira keys."""

    mappings: Mappings
    people: People
    report: JiraReport
    estimate: EstimateField
    issue_ids: Mapping[str, UUID]
    keys_by_jira_id: Mapping[str, str]
    created: Mapping[str, datetime]
    teams: Mapping[str, UUID]
    projects: Mapping[str, UUID]
    replayed: set[str]


@dataclass(frozen=True)
class Timeline(Generic[Value]):
    """A field's value when the issue was created, and the value each history that changed it
    set (by history id)."""

    initial: Value
    set_by: Mapping[str, Value]


def timeline(
    issue: JiraIssue, names: frozenset[str], current: Value, read: Reader[Value]
) -> Timeline[Value]:
    """Walks the field's changes back from ``current``: its value at creation is what the
    earliest change changed it from. The latest change is taken to have set ``current``, which
    the export renders better (ADF rather than wiki text) and which holds even if a status or
    priority has been renamed since."""
    changes: list[tuple[str, JiraChange]] = [
        (history.id, change)
        for history in issue.histories
        for change in history.changes
        if change.concerns(names)
    ]
    if not changes:
        return Timeline(current, {})
    where = f"{issue.where}.changelog"
    set_by = {h: read(change.new, change.new_text, f"{where} ({h})") for h, change in changes}
    set_by[changes[-1][0]] = current
    first_id, first = changes[0]
    return Timeline(read(first.old, first.old_text, f"{where} ({first_id})"), set_by)


def replay(issue: JiraIssue, context: Context) -> list[Scheduled]:
    return _Replay(issue, context).run()


class _Replay:
    def __init__(self, issue: JiraIssue, context: Context) -> None:
        self.issue = issue
        self.context = context
        self.id = context.issue_ids[issue.key]
        self.out: list[Scheduled] = []
        self.notes: list[str] = []
        self.kind = context.mappings.kind(issue.issue_type)
        self.status: IssueStatus = initial_status(self.kind)
        self.parent: str | None = None
        self.assignee: str | None = None
        self.values: dict[str, Any] = {}

    def run(self) -> list[Scheduled]:
        issue, context = self.issue, self.context
        edits: dict[str, Timeline[Any]] = {
            "title": timeline(issue, SUMMARY, self._title(issue.summary), self._read_title),
            "description": timeline(
                issue, DESCRIPTION, self._description(issue.description), self._read_description
            ),
            "priority": timeline(
                issue, PRIORITY, self._priority(issue.priority), self._read_priority
            ),
            "due_date": timeline(issue, DUE_DATE, issue.due_date, _read_date),
            "estimate": timeline(
                issue,
                context.estimate.names,
                context.estimate.current(issue),
                context.estimate.read,
            ),
            "labels": timeline(issue, LABELS, self._labels(issue.labels), self._read_labels),
        }
        parents = timeline(issue, PARENT, self._parent(issue.parent_key, None), self._read_parent)
        assignee = issue.assignee.account_id if issue.assignee else None
        assignees = timeline(issue, ASSIGNEE, assignee, _read_raw)
        statuses: Timeline[str | None] = timeline(
            issue, STATUS, issue.status.name, self._read_status
        )
        self._create(edits, parents.initial, assignees.initial)
        self._move(statuses.initial, issue.created, issue.reporter or issue.creator)
        steps: list[tuple[datetime, int, str, JiraHistory | JiraComment | str]] = [
            (history.at, 0, history.id.zfill(20), history) for history in issue.histories
        ]
        steps += [(comment.at, 1, comment.id.zfill(20), comment) for comment in issue.comments]
        if parents.initial is not None and self.parent != parents.initial:
            steps.append((context.created[parents.initial], 2, "", parents.initial))
        clock = issue.created
        for at, _, _, step in sorted(steps, key=lambda step: step[:3]):
            clock = max(clock, at)
            if isinstance(step, JiraHistory):
                clock = self._history(step, clock, edits, parents, assignees, statuses)
            elif isinstance(step, JiraComment):
                self._comment(step, clock)
            else:
                self._edit({"parent_id": context.issue_ids[step]}, clock, None)
                self.parent = step
        for what in dict.fromkeys(self.notes):
            context.report.skip(issue.key, what)
        return self.out

    def _create(
        self, edits: dict[str, Timeline[Any]], parent: str | None, assignee: str | None
    ) -> None:
        issue, context = self.issue, self.context
        at, project = issue.created, issue.project_key
        self.values = {name: line.initial for name, line in edits.items()}
        if not self.values["title"]:
            self.values["title"] = self._title(issue.summary)
        # Issues are replayed in the order they were created; a parent not replayed yet (Jira
        # shows it created after its sub-issue) is set once it exists.
        if parent is not None and parent in context.replayed:
            self.parent = parent
        self.assignee = assignee
        fields: dict[str, Any] = {
            **self.values,
            "kind": self.kind,
            "team_id": context.teams[project],
            "project_id": context.projects[project],
            "parent_id": context.issue_ids[self.parent] if self.parent else None,
            "assignee_id": context.people.appear(assignee, at, project),
        }
        body = CreateIssue.model_validate(
            {name: value for name, value in fields.items() if value not in (None, "", ())}
        )
        actor = context.people.actor(issue.reporter or issue.creator, at, project)
        self.out.append(schedule("POST /v1/issues", at, Rank.ISSUE, actor, body, id=self.id))
        context.report.count("issues")
        context.replayed.add(issue.key)

    def _history(
        self,
        history: JiraHistory,
        at: datetime,
        edits: dict[str, Timeline[Any]],
        parents: Timeline[str | None],
        assignees: Timeline[str | None],
        statuses: Timeline[str | None],
    ) -> datetime:
        """Replays one history at ``at`` (later, if it names a parent created after it);
        returns the time it was replayed at."""
        changes: dict[str, Any] = {}
        for name, line in edits.items():
            value = line.set_by.get(history.id, self.values[name])
            if value != self.values[name] and (value or name != "title"):
                changes[name] = self.values[name] = value
        parent = parents.set_by.get(history.id, self.parent)
        if parent != self.parent:
            if parent is not None:
                at = max(at, self.context.created[parent])
            changes["parent_id"] = self.context.issue_ids[parent] if parent else None
            self.parent = parent
        if changes:
            self._edit(changes, at, history.author)
        assignee = assignees.set_by.get(history.id, self.assignee)
        if assignee != self.assignee:
            self._assign(assignee, at, history.author)
        if history.id in statuses.set_by:
            self._move(statuses.set_by[history.id], at, history.author)
        for change in history.changes:
            if not change.concerns(self._known_changes):
                note(self.context.report.unknown_changes, change.field, self.issue.key)
        return at

    @property
    def _known_changes(self) -> frozenset[str]:
        known = SUMMARY | DESCRIPTION | PRIORITY | DUE_DATE | LABELS | PARENT | ASSIGNEE | STATUS
        return known | LINK | self.context.estimate.names

    def _emit(
        self, path: str, at: datetime, author: JiraUser | None, body: Body, what: str
    ) -> None:
        actor = self.context.people.actor(author, at, self.issue.project_key)
        self.out.append(schedule(path, at, Rank.WORK, actor, body))
        self.context.report.count(what)

    def _edit(self, changes: dict[str, Any], at: datetime, author: JiraUser | None) -> None:
        body = UpdateIssue.model_validate(changes)
        self._emit(f"PATCH /v1/issues/{self.id}", at, author, body, "edits")

    def _assign(self, assignee: str | None, at: datetime, author: JiraUser | None) -> None:
        member = self.context.people.appear(assignee, at, self.issue.project_key)
        path = f"POST /v1/issues/{self.id}/assign"
        self._emit(path, at, author, AssignIssue(assignee_id=member), "assignments")
        self.assignee = assignee

    def _move(self, name: str | None, at: datetime, author: JiraUser | None) -> None:
        """Moves to the workflow status Jira's status ``name`` maps to, through the statuses
        between when Jira jumped straight there."""
        target = self.context.mappings.status(name, self.issue.key) if name else None
        if target is None:
            return
        path = shortest_path(self.status, target)
        if path is None:
            self.notes.append(
                f"the move to {name} ({target}) at {at.isoformat()} was skipped: the workflow "
                f"has no way there from {self.status}"
            )
            return
        for status in path:
            body = TransitionIssue(status=status)
            self._emit(f"POST /v1/issues/{self.id}/transition", at, author, body, "transitions")
            self.status = status

    def _comment(self, comment: JiraComment, at: datetime) -> None:
        text = self._clip(comment.body, MAX_COMMENT, f"comment {comment.id}")
        if not text.strip():
            self.notes.append(f"comment {comment.id} has no text")
            return
        path = f"POST /v1/issues/{self.id}/comments"
        self._emit(path, at, comment.author, Comment(body=text), "comments")

    def _clip(self, text: str, limit: int, what: str) -> str:
        if len(text) > limit:
            self.notes.append(f"{what} was cut to {limit} characters")
        return text[:limit]

    def _title(self, text: str) -> str:
        return self._clip(text.strip(), MAX_TITLE, "the summary").strip()

    def _description(self, text: str) -> str:
        return self._clip(text, MAX_DESCRIPTION, "the description")

    def _priority(self, name: str | None) -> str:
        return self.context.mappings.priority(name, self.issue.key)

    def _labels(self, labels: Iterable[str]) -> tuple[str, ...]:
        cleaned = tuple(
            dict.fromkeys(t for t in (x.strip()[:MAX_LABEL].strip() for x in labels) if t)
        )
        if len(cleaned) > MAX_LABELS:
            self.notes.append(f"labels beyond the first {MAX_LABELS} were left out")
        return cleaned[:MAX_LABELS]

    def _parent(self, key: str | None, jira_id: str | None) -> str | None:
        """The parent's key, when the parent is in the export (and isn't the issue itself)."""
        if key in self.context.issue_ids:
            found: str | None = key
        else:
            found = self.context.keys_by_jira_id.get(jira_id or "")
        if found is None and (key or jira_id):
            self.notes.append(f"parent {key or jira_id} is not in the export; left out")
        return None if found == self.issue.key else found

    def _read_title(self, raw: str | None, text: str | None, where: str) -> str:
        return self._title(text or "")

    def _read_description(self, raw: str | None, text: str | None, where: str) -> str:
        return self._description((text or "").strip())

    def _read_priority(self, raw: str | None, text: str | None, where: str) -> str:
        return self._priority(text)

    def _read_labels(self, raw: str | None, text: str | None, where: str) -> tuple[str, ...]:
        return self._labels((text or "").split())

    def _read_parent(self, raw: str | None, text: str | None, where: str) -> str | None:
        return self._parent(text, raw)

    def _read_status(self, raw: str | None, text: str | None, where: str) -> str | None:
        return self.context.mappings.status_name(raw, text)


def _read_raw(raw: str | None, text: str | None, where: str) -> str | None:
    return raw or None


def _read_date(raw: str | None, text: str | None, where: str) -> Any:
    return parse_date(raw or text, where)


def _number_text(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None
