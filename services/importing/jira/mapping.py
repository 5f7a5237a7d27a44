"""The conversion's options, and how Jira's issue types, priorities and statuses map to
workledger's kinds, priorities and workflow statuses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar, get_args
from uuid import UUID

from contracts.commands import IssueKind, IssueStatus, Priority
from services.importing.jira.export import JiraIssue, JiraStatus
from services.importing.jira.report import JiraReport, note

KINDS: tuple[IssueKind, ...] = get_args(IssueKind)
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
STATUSES: tuple[IssueStatus, ...] = get_args(IssueStatus)
Name = TypeVar("Name", IssueKind, Priority, IssueStatus)

# Keys are Jira names in lower case. Jira Cloud's default schemes, with Server's older
# priorities (Blocker ... Trivial) too.
DEFAULT_KINDS: Mapping[str, IssueKind] = {
    "bug": "bug",
    "incident": "incident",
    "service request": "request",
    "request": "request",
    "support": "request",
}
DEFAULT_PRIORITIES: Mapping[str, Priority] = {
    "highest": "urgent",
    "blocker": "urgent",
    "critical": "urgent",
    "high": "high",
    "major": "high",
    "medium": "medium",
    "low": "low",
    "minor": "low",
    "lowest": "none",
    "trivial": "none",
}
# Names Jira's templates use whose category alone would map them less well (a backlog and a
# selected column are both "new"; review and progress are both "indeterminate").
DEFAULT_STATUSES: Mapping[str, IssueStatus] = {
    "backlog": "backlog",
    "triage": "triage",
    "needs triage": "triage",
    "to do": "todo",
    "selected for development": "todo",
    "in progress": "in_progress",
    "in review": "in_review",
    "review": "in_review",
    "code review": "in_review",
    "done": "done",
    "closed": "done",
    "resolved": "done",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "won't do": "cancelled",
    "declined": "cancelled",
    "rejected": "cancelled",
}
CATEGORY_STATUSES: Mapping[str, IssueStatus] = {
    "new": "todo",
    "indeterminate": "in_progress",
    "done": "done",
}


@dataclass(frozen=True)
class JiraOptions:
    """How to convert. The maps are keyed by Jira's names (compared case-insensitively) and
    override the defaults; ``existing_members`` maps lower-cased emails to the ids of members
    who exist already, so they are not created again; ``story_points_field`` (a custom
    field's id like ``customfield_10016``, or its name) is brought as the estimate instead of
    the original time estimate; ``site`` names the Jira site in derived ids when the export's
    ``self`` links don't."""

    status_map: Mapping[str, str] = field(default_factory=dict)
    kind_map: Mapping[str, str] = field(default_factory=dict)
    priority_map: Mapping[str, str] = field(default_factory=dict)
    owner_email: str | None = None
    weekly_capacity: float = 40
    story_points_field: str | None = None
    existing_members: Mapping[str, UUID] = field(default_factory=dict)
    site: str | None = None

    def __post_init__(self) -> None:
        for name, table, allowed in (
            ("status_map", self.status_map, STATUSES),
            ("kind_map", self.kind_map, KINDS),
            ("priority_map", self.priority_map, PRIORITIES),
        ):
            wrong = sorted(f"{k!r}: {v!r}" for k, v in table.items() if v not in allowed)
            if wrong:
                raise ValueError(f"{name} maps to {', '.join(wrong)}; allowed: {allowed}")
        if not 0 <= self.weekly_capacity <= 1_000_000:
            raise ValueError("weekly_capacity must be between 0 and 1,000,000 hours")


def _lowered(table: Mapping[str, str]) -> dict[str, str]:
    return {name.strip().lower(): value for name, value in table.items()}


class Mappings:
    """Maps Jira's names, and notes each mapping it makes (or can't) in the report."""

    def __init__(
        self, options: JiraOptions, issues: Iterable[JiraIssue], report: JiraReport
    ) -> None:
        self._report = report
        self._kinds = {**DEFAULT_KINDS, **_checked(_lowered(options.kind_map), KINDS)}
        self._priorities = {
            **DEFAULT_PRIORITIES,
            **_checked(_lowered(options.priority_map), PRIORITIES),
        }
        self._statuses = {**DEFAULT_STATUSES, **_checked(_lowered(options.status_map), STATUSES)}
        # A changelog names statuses by id and name, but only the issues' current statuses
        # carry their category: those are what a status met only in history is known by.
        self._status_names: dict[str, str] = {}
        self._categories: dict[str, str] = {}
        for issue in issues:
            self._learn(issue.status)

    def _learn(self, status: JiraStatus) -> None:
        if status.id is not None:
            self._status_names.setdefault(status.id, status.name)
        if status.category is not None:
            self._categories.setdefault(status.name.lower(), status.category)

    def kind(self, issue_type: str) -> IssueKind:
        kind = self._kinds.get(issue_type.lower(), "task")
        self._report.kind_mapping[issue_type] = kind
        return kind

    def priority(self, name: str | None, issue_key: str) -> Priority:
        if name is None:
            return "none"
        priority = self._priorities.get(name.lower())
        if priority is None:
            note(self._report.unmapped_priorities, name, issue_key)
            return "none"
        self._report.priority_mapping[name] = priority
        return priority

    def status_name(self, status_id: str | None, text: str | None) -> str | None:
        """The name of a status a changelog names by its id and (usually) its name."""
        if text:
            return text
        return self._status_names.get(status_id) if status_id is not None else None

    def status(self, name: str, issue_key: str) -> IssueStatus | None:
        """By name first, then by the status's category; ``None`` when neither is known."""
        lowered = name.lower()
        status = self._statuses.get(lowered)
        if status is None and lowered in self._categories:
            status = CATEGORY_STATUSES.get(self._categories[lowered])
        if status is None:
            note(self._report.unmapped_statuses, name, issue_key)
            return None
        self._report.status_mapping[name] = status
        return status


def _checked(table: dict[str, str], allowed: tuple[Name, ...]) -> dict[str, Name]:
    """``table`` with its values typed; JiraOptions has refused any value not in ``allowed``."""
    return {name: known for name, value in table.items() for known in allowed if value == known}
