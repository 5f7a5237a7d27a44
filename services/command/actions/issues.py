"""Issue commands: the unit of work, its workflow, dependencies, links and comments."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from contracts import commands as body
from domain import issue, project
from domain.catalog import GOAL, ISSUE, MEMBER, OPERATION, PROJECT, TEAM
from domain.errors import NotFound
from services.command.actions.common import MAX_GRAPH_NODES, member_active, on, refuse_nulls
from services.command.handler import Action, Reply, Session
from services.infrastructure.ids import new_id


def _issue_ancestors(s: Session, parent_id: UUID) -> tuple[UUID, ...]:
    chain: list[UUID] = []
    current = s.require(ISSUE, parent_id, "parent_id").parent_id
    while current is not None and current not in chain and len(chain) < MAX_GRAPH_NODES:
        chain.append(current)
        above = s.load(ISSUE, current).state
        current = above.parent_id if above else None
    return tuple(chain)


def _waits_on(s: Session, start: UUID) -> frozenset[UUID]:
    """Every issue that ``start`` waits on through ``blocked_by``, directly or transitively."""
    seen: set[UUID] = set()
    frontier = list(s.require(ISSUE, start, "blocked_by_id").blocked_by)
    while frontier and len(seen) < MAX_GRAPH_NODES:
        node = frontier.pop()
        if node in seen:
            continue
        seen.add(node)
        state = s.load(ISSUE, node).state
        if state is not None:
            frontier.extend(state.blocked_by)
    return frozenset(seen)


def create_issue(data: body.CreateIssue) -> Action:
    issue_id = new_id()

    def action(s: Session) -> Reply:
        s.require(TEAM, data.team_id, "team_id")
        number: int | None = None
        key: str | None = None
        if data.project_id is not None:
            s.require(PROJECT, data.project_id, "project_id")
            added = s.decide(PROJECT, data.project_id, project.AddIssueToProject(issue_id))
            numbered = added[0]
            assert isinstance(numbered, project.ProjectIssueAdded)
            state = s.require(PROJECT, data.project_id, "project_id")
            number, key = numbered.number, project.issue_key(state, numbered.number)
        if data.parent_id is not None:
            s.require(ISSUE, data.parent_id, "parent_id")
        for goal_id in data.goal_ids:
            s.require(GOAL, goal_id, "goal_ids")
        s.decide(
            ISSUE,
            issue_id,
            issue.CreateIssue(
                issue_id=issue_id,
                kind=data.kind,
                title=data.title,
                team_id=data.team_id,
                description=data.description,
                project_id=data.project_id,
                number=number,
                key=key,
                priority=data.priority,
                severity=data.severity,
                estimate=data.estimate,
                due_date=data.due_date,
                labels=tuple(data.labels),
                parent_id=data.parent_id,
                goal_ids=tuple(data.goal_ids),
                assignee_id=data.assignee_id,
                assignee_active=member_active(s, data.assignee_id, "assignee_id"),
            ),
        )
        return Reply(issue_id, created=True, extra={"key": key} if key else {})

    return action


def update_issue(issue_id: UUID, data: body.UpdateIssue) -> Action:
    refuse_nulls(data, ("title", "priority", "labels"))
    present = data.model_fields_set
    title = data.title if "title" in present and data.title is not None else issue.UNCHANGED
    priority = (
        data.priority if "priority" in present and data.priority is not None else issue.UNCHANGED
    )
    labels = (
        tuple(data.labels) if "labels" in present and data.labels is not None else issue.UNCHANGED
    )
    edit = issue.EditIssue(
        title=title,
        description=(data.description or "") if "description" in present else issue.UNCHANGED,
        priority=priority,
        severity=data.severity if "severity" in present else issue.UNCHANGED,
        estimate=data.estimate if "estimate" in present else issue.UNCHANGED,
        due_date=data.due_date if "due_date" in present else issue.UNCHANGED,
        labels=labels,
    )

    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        s.decide(ISSUE, issue_id, edit)
        if "parent_id" in present:
            ancestors = _issue_ancestors(s, data.parent_id) if data.parent_id else ()
            s.decide(ISSUE, issue_id, issue.ChangeIssueParent(data.parent_id, ancestors))
        return Reply(issue_id)

    return action


def assign_issue(issue_id: UUID, data: body.AssignIssue) -> Action:
    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        active = member_active(s, data.assignee_id, "assignee_id")
        s.decide(ISSUE, issue_id, issue.AssignIssue(data.assignee_id, active))
        return Reply(issue_id)

    return action


def add_dependency(issue_id: UUID, data: body.AddDependency) -> Action:
    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        waits_on = _waits_on(s, data.blocked_by_id)
        s.decide(ISSUE, issue_id, issue.AddDependency(data.blocked_by_id, waits_on))
        return Reply(issue_id)

    return action


def link_issue(issue_id: UUID, data: body.LinkIssue) -> Action:
    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        target_kind: issue.TargetKind
        if s.load(GOAL, data.target_id).state is not None:
            target_kind = "goal"
        elif s.load(PROJECT, data.target_id).state is not None:
            target_kind = "project"
        elif s.load(OPERATION, data.target_id).state is not None:
            target_kind = "operation"
        else:
            raise NotFound("no goal, project or operation with that id", field="target_id")
        s.decide(ISSUE, issue_id, issue.LinkIssue(data.kind, data.target_id, target_kind))
        return Reply(issue_id)

    return action


def comment_on_issue(issue_id: UUID, data: body.Comment) -> Action:
    comment_id = new_id()

    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        command = issue.CommentOnIssue(comment_id, s.context.actor, data.body)
        s.decide(ISSUE, issue_id, command)
        return Reply(issue_id, created=True, extra={"comment_id": str(comment_id)})

    return action


def watch_issue(issue_id: UUID, data: body.Watch) -> Action:
    def action(s: Session) -> Reply:
        s.require(ISSUE, issue_id, "issue_id")
        s.require(MEMBER, data.member_id, "member_id")
        s.decide(ISSUE, issue_id, issue.WatchIssue(data.member_id))
        return Reply(issue_id)

    return action


def transition_issue(issue_id: UUID, data: body.TransitionIssue) -> Action:
    return on(ISSUE, issue_id, issue.TransitionIssue(data.status))


def block_issue(issue_id: UUID, data: body.BlockIssue) -> Action:
    return on(ISSUE, issue_id, issue.BlockIssue(data.reason))


def unblock_issue(issue_id: UUID) -> Action:
    return on(ISSUE, issue_id, issue.UnblockIssue())


def remove_dependency(issue_id: UUID, blocked_by_id: UUID) -> Action:
    return on(ISSUE, issue_id, issue.RemoveDependency(blocked_by_id))


def unlink_issue(issue_id: UUID, kind: Literal["goal", "affects"], target_id: UUID) -> Action:
    return on(ISSUE, issue_id, issue.UnlinkIssue(kind, target_id))


def unwatch_issue(issue_id: UUID, member_id: UUID) -> Action:
    return on(ISSUE, issue_id, issue.UnwatchIssue(member_id))
