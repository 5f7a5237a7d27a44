"""Jira's "Blocks" links as dependencies; every other link type is reported, not brought."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from contracts.commands import AddDependency
from services.importing.jira.export import JiraIssue, JiraUser
from services.importing.jira.replay import LINK, Context
from services.importing.jira.report import note
from services.importing.jira.schedule import Rank, Scheduled, schedule

BLOCKS = "blocks"


def plan_dependencies(issues: Sequence[JiraIssue], context: Context) -> list[Scheduled]:
    """One dependency per Blocks link between two issues of the export, added when the link
    was (the latest time either issue's changelog shows it added), or else once both issues
    exist. A link that would close a cycle of dependencies is left out, as the API refuses it."""
    report = context.report
    by_key = {issue.key: issue for issue in issues}
    added = _links_added(issues)
    waits: dict[tuple[str, str], None] = {}
    # Both ends of a link list it: as "A blocks B" on A and "B is blocked by A" on B.
    seen: set[tuple[str, str, str]] = set()
    for issue in issues:
        for link in issue.links:
            source, target = (
                (issue.key, link.other_key)
                if link.direction == "outward"
                else (link.other_key, issue.key)
            )
            if (link.type_name.lower(), source, target) in seen:
                continue
            seen.add((link.type_name.lower(), source, target))
            if link.type_name.lower() != BLOCKS:
                note(report.links_not_brought, link.type_name, issue.key)
            elif link.other_key not in by_key:
                report.skip(issue.key, f"the Blocks link to {link.other_key} (not in the export)")
            else:
                waits[(target, source)] = None
    timed = sorted(
        (_when(blocked, blocker, by_key, added), blocked, blocker) for blocked, blocker in waits
    )
    out: list[Scheduled] = []
    graph: dict[str, set[str]] = {}
    for at, blocked, blocker in timed:
        if blocked == blocker or blocked in _waits_on(blocker, graph):
            report.skip(blocked, f"blocked by {blocker}: that would close a cycle of dependencies")
            continue
        graph.setdefault(blocked, set()).add(blocker)
        author = added.get(frozenset({blocked, blocker}), (at, None))[1]
        actor = context.people.actor(author, at, by_key[blocked].project_key)
        path = f"POST /v1/issues/{context.issue_ids[blocked]}/dependencies"
        body = AddDependency(blocked_by_id=context.issue_ids[blocker])
        out.append(schedule(path, at, Rank.WORK, actor, body))
        report.count("dependencies")
    for issue in issues:
        for history in issue.histories:
            for change in history.changes:
                if change.concerns(LINK) and not _brought(issue.key, change.new, graph):
                    note(report.unknown_changes, change.field, issue.key)
    return out


def _links_added(
    issues: Sequence[JiraIssue],
) -> dict[frozenset[str], tuple[datetime, JiraUser | None]]:
    """When each pair of issues was last linked, and by whom, as their changelogs show it."""
    added: dict[frozenset[str], tuple[datetime, JiraUser | None]] = {}
    for issue in issues:
        for history in issue.histories:
            for change in history.changes:
                if change.concerns(LINK) and change.new:
                    pair = frozenset({issue.key, change.new})
                    if pair not in added or added[pair][0] < history.at:
                        added[pair] = (history.at, history.author)
    return added


def _when(
    blocked: str,
    blocker: str,
    by_key: Mapping[str, JiraIssue],
    added: Mapping[frozenset[str], tuple[datetime, JiraUser | None]],
) -> datetime:
    both_exist = max(by_key[blocked].created, by_key[blocker].created)
    linked = added.get(frozenset({blocked, blocker}))
    return max(linked[0], both_exist) if linked else both_exist


def _waits_on(start: str, graph: Mapping[str, set[str]]) -> set[str]:
    """Every issue ``start`` waits on, directly or through others."""
    seen: set[str] = set()
    frontier = list(graph.get(start, ()))
    while frontier:
        node = frontier.pop()
        if node not in seen:
            seen.add(node)
            frontier.extend(graph.get(node, ()))
    return seen


def _brought(key: str, other: str | None, graph: Mapping[str, set[str]]) -> bool:
    """Whether a changelog's link of ``key`` to ``other`` is one brought as a dependency (a
    link removed, or of another type, is not)."""
    if other is None:
        return False
    return other in graph.get(key, set()) or key in graph.get(other, set())
