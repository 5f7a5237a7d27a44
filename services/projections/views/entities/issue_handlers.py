"""What each issue event changes in the entities, registered in ``HANDLERS``.

An issue's labels, parent, goals and what blocks it are kept as edges too, read from the other
side: a label's issues, an issue's sub-issues, a goal's issues, what an issue blocks.
"""

from __future__ import annotations

from domain import issue
from services.projections.dispatch import Change
from services.projections.readmodel import iso_date

from .handlers import HANDLERS
from .rows import added, create, id_text, link, load, removed, revise, save, unlink
from .tables import BLOCKS, COMMENTS, GOAL_ISSUE, ISSUES, LABELLED, SUB_ISSUE


@HANDLERS.on(issue.IssueCreated)
def issue_created(change: Change, event: issue.IssueCreated) -> None:
    issue_id = change.subject
    create(
        change,
        ISSUES,
        {
            "key": event.key,
            "number": event.number,
            "kind": event.kind,
            "title": event.title,
            "description": event.description,
            "team_id": str(event.team_id),
            "project_id": id_text(event.project_id),
            "assignee_id": id_text(event.assignee_id),
            "status": event.status,
            "priority": event.priority,
            "severity": event.severity,
            "estimate": event.estimate,
            "due_date": iso_date(event.due_date),
            "labels": list(event.labels),
            "parent_id": id_text(event.parent_id),
            "goal_ids": [str(goal_id) for goal_id in event.goal_ids],
            "affects": [],
            "blocked": False,
            "blocked_reason": None,
            "blocked_by": [],
            "watchers": [],
            "comment_count": 0,
        },
    )
    for label in event.labels:
        link(change, label, LABELLED, issue_id)
    if event.parent_id is not None:
        link(change, str(event.parent_id), SUB_ISSUE, issue_id)
    for goal_id in event.goal_ids:
        link(change, str(goal_id), GOAL_ISSUE, issue_id)


@HANDLERS.on(issue.IssueRetitled)
def issue_retitled(change: Change, event: issue.IssueRetitled) -> None:
    revise(change, ISSUES, title=event.title)


@HANDLERS.on(issue.IssueDescriptionChanged)
def issue_description_changed(change: Change, event: issue.IssueDescriptionChanged) -> None:
    revise(change, ISSUES, description=event.description)


@HANDLERS.on(issue.IssuePriorityChanged)
def issue_priority_changed(change: Change, event: issue.IssuePriorityChanged) -> None:
    revise(change, ISSUES, priority=event.priority)


@HANDLERS.on(issue.IssueSeverityChanged)
def issue_severity_changed(change: Change, event: issue.IssueSeverityChanged) -> None:
    revise(change, ISSUES, severity=event.severity)


@HANDLERS.on(issue.IssueEstimated)
def issue_estimated(change: Change, event: issue.IssueEstimated) -> None:
    revise(change, ISSUES, estimate=event.estimate)


@HANDLERS.on(issue.IssueDueDateChanged)
def issue_due_date_changed(change: Change, event: issue.IssueDueDateChanged) -> None:
    revise(change, ISSUES, due_date=iso_date(event.due_date))


@HANDLERS.on(issue.IssueLabelsChanged)
def issue_labels_changed(change: Change, event: issue.IssueLabelsChanged) -> None:
    current = load(change, ISSUES)
    if current is None:
        return
    issue_id, before, after = change.subject, current.doc["labels"], event.labels
    for label in set(before) - set(after):
        unlink(change, label, LABELLED, issue_id)
    for label in set(after) - set(before):
        link(change, label, LABELLED, issue_id)
    current.set(labels=list(after))
    save(change, current)


@HANDLERS.on(issue.IssueParentChanged)
def issue_parent_changed(change: Change, event: issue.IssueParentChanged) -> None:
    current = load(change, ISSUES)
    if current is None:
        return
    issue_id, previous, parent_id = change.subject, current.doc["parent_id"], event.parent_id
    if previous is not None:
        unlink(change, previous, SUB_ISSUE, issue_id)
    if parent_id is not None:
        link(change, str(parent_id), SUB_ISSUE, issue_id)
    current.set(parent_id=id_text(parent_id))
    save(change, current)


@HANDLERS.on(issue.IssueAssigned)
def issue_assigned(change: Change, event: issue.IssueAssigned) -> None:
    revise(change, ISSUES, assignee_id=str(event.assignee_id))


@HANDLERS.on(issue.IssueUnassigned)
def issue_unassigned(change: Change, event: issue.IssueUnassigned) -> None:
    revise(change, ISSUES, assignee_id=None)


@HANDLERS.on(issue.IssueTransitioned)
def issue_transitioned(change: Change, event: issue.IssueTransitioned) -> None:
    revise(change, ISSUES, status=event.to_status)


@HANDLERS.on(issue.IssueBlocked)
def issue_blocked(change: Change, event: issue.IssueBlocked) -> None:
    revise(change, ISSUES, blocked=True, blocked_reason=event.reason)


@HANDLERS.on(issue.IssueUnblocked)
def issue_unblocked(change: Change, event: issue.IssueUnblocked) -> None:
    revise(change, ISSUES, blocked=False, blocked_reason=None)


@HANDLERS.on(issue.IssueDependencyAdded)
def issue_dependency_added(change: Change, event: issue.IssueDependencyAdded) -> None:
    current = load(change, ISSUES)
    if current is None:
        return
    blocker = str(event.blocked_by_id)
    link(change, blocker, BLOCKS, change.subject)
    current.set(blocked_by=added(current.doc["blocked_by"], blocker))
    save(change, current)


@HANDLERS.on(issue.IssueDependencyRemoved)
def issue_dependency_removed(change: Change, event: issue.IssueDependencyRemoved) -> None:
    current = load(change, ISSUES)
    if current is None:
        return
    blocker = str(event.blocked_by_id)
    unlink(change, blocker, BLOCKS, change.subject)
    current.set(blocked_by=removed(current.doc["blocked_by"], blocker))
    save(change, current)


@HANDLERS.on(issue.IssueLinked)
def issue_linked(change: Change, event: issue.IssueLinked) -> None:
    current = load(change, ISSUES)
    if current is None:
        return
    target_id = str(event.target_id)
    if event.kind == "goal":
        link(change, target_id, GOAL_ISSUE, change.subject)
        current.set(goal_ids=added(current.doc["goal_ids"], target_id))
    else:
        affected = {"target_id": target_id, "target_kind": event.target_kind}
        current.set(affects=added(current.doc["affects"], affected))
    save(change, current)


@HANDLERS.on(issue.IssueUnlinked)
def issue_unlinked(change: Change, event: issue.IssueUnlinked) -> None:
    current = load(change, ISSUES)
    if current is None:
        return
    target_id = str(event.target_id)
    if event.kind == "goal":
        unlink(change, target_id, GOAL_ISSUE, change.subject)
        current.set(goal_ids=removed(current.doc["goal_ids"], target_id))
    else:
        kept = [kept for kept in current.doc["affects"] if kept["target_id"] != target_id]
        current.set(affects=kept)
    save(change, current)


@HANDLERS.on(issue.IssueCommented)
def issue_commented(change: Change, event: issue.IssueCommented) -> None:
    current = load(change, ISSUES)
    if current is None:
        return
    comment = {
        "issue_id": change.subject,
        "position": change.event.position,
        "comment_id": str(event.comment_id),
        "author": event.author,
        "body": event.body,
        "occurred": change.at,
    }
    change.append(COMMENTS, comment)
    current.set(comment_count=current.doc["comment_count"] + 1)
    save(change, current)


@HANDLERS.on(issue.IssueWatcherAdded)
def issue_watcher_added(change: Change, event: issue.IssueWatcherAdded) -> None:
    current = load(change, ISSUES)
    if current is None:
        return
    current.set(watchers=added(current.doc["watchers"], str(event.member_id)))
    save(change, current)


@HANDLERS.on(issue.IssueWatcherRemoved)
def issue_watcher_removed(change: Change, event: issue.IssueWatcherRemoved) -> None:
    current = load(change, ISSUES)
    if current is None:
        return
    current.set(watchers=removed(current.doc["watchers"], str(event.member_id)))
    save(change, current)
