"""Jira Cloud's search export as import lines, in the order they happened."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.importing.jira.export import JiraIssue, read_export
from services.importing.jira.links import plan_dependencies
from services.importing.jira.mapping import JiraOptions, Mappings
from services.importing.jira.people import People
from services.importing.jira.projects import plan_projects
from services.importing.jira.replay import ORIGINAL_ESTIMATE, Context, EstimateField, replay
from services.importing.jira.report import JiraReport, note
from services.importing.jira.schedule import derived_id, in_order
from services.importing.lines import ImportLine

# Fields of an issue the conversion brings (or uses: the reporter acts, the project groups).
MAPPED_FIELDS = frozenset(
    {
        "summary",
        "description",
        "issuetype",
        "status",
        "priority",
        "assignee",
        "reporter",
        "creator",
        "created",
        "duedate",
        "parent",
        "issuelinks",
        "comment",
        "labels",
        "project",
    }
)
# Fields Jira computes from others, or keeps for its own bookkeeping: leaving them out loses
# nothing, so they aren't reported.
DERIVED_FIELDS = frozenset(
    {
        "updated",
        "lastViewed",
        "statuscategorychangedate",
        "resolutiondate",
        "watches",
        "votes",
        "workratio",
        "progress",
        "aggregateprogress",
        "timetracking",
        "aggregatetimeoriginalestimate",
        "aggregatetimeestimate",
        "aggregatetimespent",
        "subtasks",
        "issuerestriction",
    }
)
DEFAULT_SITE = "jira"
# Jira's descendants can't nest deeper than this; the bound guards against a cycle in the data.
MAX_DEPTH = 100


@dataclass(frozen=True)
class JiraConversion:
    """The lines to import, the status mapping they used, what the conversion reports, and
    the id each Jira issue (by key) gets."""

    lines: list[ImportLine]
    status_mapping: dict[str, str]
    report: JiraReport
    issue_ids: dict[str, UUID]


def convert(export: Any, options: JiraOptions | None = None) -> JiraConversion:
    """The import lines that bring ``export`` (see ``read_export`` for its shapes), sorted by
    the time each happened. Teams, projects and members come first when they first matter;
    each issue is created with the values it had then and its history follows, then the
    dependencies; members Jira shows gone are deactivated after their last act."""
    options = options or JiraOptions()
    read = read_export(export)
    report = JiraReport()
    site = options.site or min((i.site for i in read.issues if i.site), default=DEFAULT_SITE)
    people = People(site, options, report)
    for issue in read.issues:
        _know_people(issue, people)
    issues = _creation_order(read.issues)
    projects = plan_projects(issues, site, options, people, report)
    estimate = _estimate_field(options, read.field_names, report, issues)
    context = Context(
        mappings=Mappings(options, issues, report),
        people=people,
        report=report,
        estimate=estimate,
        issue_ids={issue.key: _issue_id(site, issue) for issue in issues},
        keys_by_jira_id={issue.id: issue.key for issue in issues},
        created={issue.key: issue.created for issue in issues},
        teams=projects.team_ids,
        projects=projects.project_ids,
        replayed=set(),
    )
    scheduled = list(projects.lines)
    for issue in issues:
        scheduled += replay(issue, context)
        _report_fields(issue, read.field_names, estimate, report)
        _report_gaps(issue, report)
    scheduled += plan_dependencies(issues, context)
    scheduled += people.schedule(projects.team_ids)
    for key in read.duplicates:
        report.skip(key, "listed again on a later page; the first listing was used")
    return JiraConversion(
        in_order(scheduled), dict(report.status_mapping), report, dict(context.issue_ids)
    )


def _issue_id(site: str, issue: JiraIssue) -> UUID:
    # By Jira's issue id rather than its key: a key changes when an issue moves to another project.
    return derived_id(site, "issue", issue.id)


def _know_people(issue: JiraIssue, people: People) -> None:
    for user in (issue.assignee, issue.reporter, issue.creator):
        people.know(user)
    for comment in issue.comments:
        people.know(comment.author)
    for history in issue.histories:
        people.know(history.author)
        for change in history.changes:
            if change.concerns(frozenset({"assignee"})):
                people.know_account(change.old, change.old_text)
                people.know_account(change.new, change.new_text)


def _creation_order(issues: Sequence[JiraIssue]) -> list[JiraIssue]:
    """By creation time; of issues created at the same moment, parents first."""
    by_key = {issue.key: issue for issue in issues}

    def depth(issue: JiraIssue) -> int:
        levels, parent = 0, issue.parent_key
        while parent in by_key and levels < MAX_DEPTH:
            levels, parent = levels + 1, by_key[parent].parent_key
        return levels

    return sorted(issues, key=lambda i: (i.created, depth(i), i.project_key, i.number, i.key))


def _estimate_field(
    options: JiraOptions,
    names: Mapping[str, str],
    report: JiraReport,
    issues: Sequence[JiraIssue],
) -> EstimateField:
    wanted = options.story_points_field
    if wanted is None:
        return EstimateField(ORIGINAL_ESTIMATE, frozenset({ORIGINAL_ESTIMATE}), in_seconds=True)
    by_name = {name.lower(): field_id for field_id, name in sorted(names.items())}
    field_id = wanted if wanted in names else by_name.get(wanted.lower(), wanted)
    if not any(field_id in issue.fields for issue in issues):
        report.skipped.append(f"story_points_field {wanted}: no issue has that field")
    aliases = {wanted.lower(), field_id.lower(), names.get(field_id, field_id).lower()}
    return EstimateField(field_id, frozenset(aliases), in_seconds=False)


def _report_fields(
    issue: JiraIssue, names: Mapping[str, str], estimate: EstimateField, report: JiraReport
) -> None:
    for name, value in issue.fields.items():
        if name in MAPPED_FIELDS or name in DERIVED_FIELDS or name == estimate.field_id:
            continue
        if value in (None, "", [], {}):
            continue
        label = f"{name} ({names[name]})" if names.get(name, name) != name else name
        note(report.unknown_fields, label, issue.key)


def _report_gaps(issue: JiraIssue, report: JiraReport) -> None:
    if not issue.has_changelog:
        report.skip(issue.key, "no changelog (exported without expand=changelog): current values")
    if issue.histories_missing:
        report.skip(
            issue.key,
            f"the changelog leaves out {issue.histories_missing} histories: values before them"
            " are what the earliest listed change changed them from",
        )
    if issue.comments_missing:
        report.skip(issue.key, f"{issue.comments_missing} comments not in the export")
