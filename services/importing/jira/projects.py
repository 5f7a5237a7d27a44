"""One workledger team and one project per Jira project, made when its first issue was."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from contracts.commands import CreateProject, CreateTeam
from services.importing.jira.errors import JiraExportError
from services.importing.jira.export import JiraIssue, parse_date
from services.importing.jira.mapping import JiraOptions
from services.importing.jira.people import People
from services.importing.jira.replay import DUE_DATE
from services.importing.jira.report import JiraReport
from services.importing.jira.schedule import Rank, Scheduled, derived_id, schedule

# A project with no due date in sight is planned for a quarter.
DEFAULT_SPAN = timedelta(days=90)
MAX_KEY = 10
_NOT_IN_KEY = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True)
class ProjectPlan:
    team_ids: dict[str, UUID]
    project_ids: dict[str, UUID]
    lines: list[Scheduled]


def plan_projects(
    issues: Iterable[JiraIssue],
    site: str,
    options: JiraOptions,
    people: People,
    report: JiraReport,
) -> ProjectPlan:
    """Teams and projects, keyed by Jira project key. Each starts on the day of its earliest
    issue and targets its latest due date (or a quarter on); its owner is the member named by
    ``owner_email``, else whoever reported its earliest issue."""
    groups: dict[str, list[JiraIssue]] = {}
    for issue in issues:
        groups.setdefault(issue.project_key, []).append(issue)
    plan = ProjectPlan({}, {}, [])
    used: set[str] = set()
    for jira_key in sorted(groups):
        group = sorted(groups[jira_key], key=lambda issue: (issue.created, issue.number))
        start = group[0].created
        start_date = start.astimezone(UTC).date()
        due_dates = [due for issue in group for due in _due_dates(issue) if due >= start_date]
        key = _project_key(jira_key, used)
        report.project_keys[jira_key] = key
        team_id = derived_id(site, "team", jira_key)
        project_id = derived_id(site, "project", jira_key)
        name = group[0].project_name[:200]
        team = CreateTeam(name=name)
        plan.lines.append(schedule("POST /v1/teams", start, Rank.TEAM, None, team, id=team_id))
        project = CreateProject(
            name=name,
            key=key,
            owner_id=_owner(group, start, options, people, report),
            team_id=team_id,
            start_date=start_date,
            target_date=max(due_dates, default=start_date + DEFAULT_SPAN),
        )
        plan.lines.append(
            schedule("POST /v1/projects", start, Rank.PROJECT, None, project, id=project_id)
        )
        plan.team_ids[jira_key] = team_id
        plan.project_ids[jira_key] = project_id
        report.count("teams")
        report.count("projects")
    return plan


def _due_dates(issue: JiraIssue) -> list[date]:
    """Every due date the issue ever had."""
    found = [issue.due_date] if issue.due_date else []
    for history in issue.histories:
        for change in history.changes:
            if change.concerns(DUE_DATE):
                for raw, text in ((change.old, change.old_text), (change.new, change.new_text)):
                    due = parse_date(raw or text, f"{issue.where}.changelog ({history.id})")
                    found += [due] if due else []
    return found


def _project_key(jira_key: str, used: set[str]) -> str:
    """Jira's key when workledger accepts it (a letter, then letters or digits, 2 to 10);
    otherwise the nearest key it does accept, numbered when two Jira keys come out the same."""
    cleaned = _NOT_IN_KEY.sub("", jira_key.upper()).lstrip("0123456789")[:MAX_KEY]
    base = cleaned.ljust(2, "X") if cleaned else "PX"
    key, number = base, 2
    while key in used:
        suffix = str(number)
        key, number = base[: MAX_KEY - len(suffix)] + suffix, number + 1
    used.add(key)
    return key


def _owner(
    group: list[JiraIssue],
    start: datetime,
    options: JiraOptions,
    people: People,
    report: JiraReport,
) -> UUID:
    project = group[0].project_key
    if options.owner_email:
        existing = people.existing(options.owner_email)
        if existing is not None:
            return existing
        account_id = people.by_email(options.owner_email)
        if account_id is not None:
            return people.member_id_at(account_id, start, project)
        report.skip(
            project,
            f"owner_email {options.owner_email} is no member and no user of the export; "
            "the reporter of its earliest issue owns the project",
        )
    for issue in group:
        author = issue.reporter or issue.creator
        if author is not None:
            return people.member_id_at(author.account_id, start, project)
    raise JiraExportError(
        "no issue of the project names a reporter or creator to own it; pass owner_email",
        f"project {project}",
    )
