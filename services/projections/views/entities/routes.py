"""``GET /v1/{teams,members,goals,projects,issues,operations}[/{id}]`` and an issue's comments.

A detail answers the object's version as its ``ETag``, the value a command's ``If-Match`` takes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Path, Query, Response

from contracts.inputs import Id
from contracts.views.entities import (
    CommentList,
    GoalDetail,
    GoalList,
    GoalStatus,
    IssueDetail,
    IssueKind,
    IssueList,
    IssueStatus,
    MemberDetail,
    MemberList,
    OperationDetail,
    OperationList,
    OperationStatus,
    Priority,
    ProjectDetail,
    ProjectList,
    ProjectStatus,
    Role,
    TeamDetail,
    TeamList,
)
from services.infrastructure.http import Routes, problem_responses
from services.infrastructure.parameters import TRUE_OR_FALSE
from services.projections.query import DEFAULT_LIMIT, Cursor, Limit, View, decode_position_cursor

from . import queries
from .queries import GOAL, ISSUE, MEMBER, OPERATION, PROJECT, TEAM, Filters
from .rows import Doc
from .tables import LABELLED, TEAM_MEMBER

router = Routes(tags=["entities"], responses=problem_responses(400, 404, 409))


def _with_etag(response: Response, doc: Doc) -> Doc:
    """The object's version as its ``ETag``, the value a command's ``If-Match`` takes."""
    response.headers["ETag"] = f'"{doc["version"]}"'
    return doc


# The longest text an issue search takes: a key, or a few words of a title.
MAX_SEARCH = 200

TeamId = Annotated[Id | None, Query(description="Only those of this team.")]


@router.get("/teams/{team_id}", response_model=TeamDetail)
async def get_team(team_id: Annotated[Id, Path()], view: View, response: Response) -> Doc:
    """A team with its members, capacity, working agreement and definition of done."""
    return _with_etag(response, await queries.detail(view, TEAM, team_id))


@router.get("/teams", response_model=TeamList)
async def list_teams(view: View, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Doc:
    """Every team, in the order they were created."""
    after = queries.decode_list_cursor(cursor)
    return await queries.objects(view, TEAM, Filters(), after, limit)


@router.get("/members/{member_id}", response_model=MemberDetail)
async def get_member(member_id: Annotated[Id, Path()], view: View, response: Response) -> Doc:
    """A member with their role, capacity, teams and whether they are active."""
    return _with_etag(response, await queries.detail(view, MEMBER, member_id))


@router.get("/members", response_model=MemberList)
async def list_members(
    view: View,
    team_id: TeamId = None,
    active: Annotated[
        bool | None, Query(description="Only active (or deactivated) ones."), TRUE_OR_FALSE
    ] = None,
    role: Annotated[Role | None, Query(description="Only those with this role.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Doc:
    """Members, in the order they were registered."""
    after = queries.decode_list_cursor(cursor)
    edge = (str(team_id), TEAM_MEMBER) if team_id is not None else None
    filters = Filters.of(edge, active=active, role=role)
    return await queries.objects(view, MEMBER, filters, after, limit)


@router.get("/goals/{goal_id}", response_model=GoalDetail)
async def get_goal(goal_id: Annotated[Id, Path()], view: View, response: Response) -> Doc:
    """A goal with its key results, progress and the goals aligned under it."""
    return _with_etag(response, await queries.detail(view, GOAL, goal_id))


@router.get("/goals", response_model=GoalList)
async def list_goals(
    view: View,
    team_id: TeamId = None,
    status: Annotated[GoalStatus | None, Query(description="Only goals in this status.")] = None,
    owner_id: Annotated[Id | None, Query(description="Only goals this member owns.")] = None,
    parent_id: Annotated[Id | None, Query(description="Only goals aligned under it.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Doc:
    """Goals, in the order they were created."""
    after = queries.decode_list_cursor(cursor)
    filters = Filters.of(team_id=team_id, status=status, owner_id=owner_id, parent_id=parent_id)
    return await queries.objects(view, GOAL, filters, after, limit)


@router.get("/projects/{project_id}", response_model=ProjectDetail)
async def get_project(project_id: Annotated[Id, Path()], view: View, response: Response) -> Doc:
    """A project with its milestones, linked goals and latest health."""
    return _with_etag(response, await queries.detail(view, PROJECT, project_id))


@router.get("/projects", response_model=ProjectList)
async def list_projects(
    view: View,
    team_id: TeamId = None,
    status: Annotated[
        ProjectStatus | None, Query(description="Only projects in this status.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Doc:
    """Projects, in the order they were created."""
    after = queries.decode_list_cursor(cursor)
    filters = Filters.of(team_id=team_id, status=status)
    return await queries.objects(view, PROJECT, filters, after, limit)


@router.get("/issues/{issue_id}", response_model=IssueDetail)
async def get_issue(issue_id: Annotated[Id, Path()], view: View, response: Response) -> Doc:
    """An issue with its links, dependencies both ways, sub-issues, watchers and comment count."""
    return _with_etag(response, await queries.detail(view, ISSUE, issue_id))


@router.get("/issues", response_model=IssueList)
async def list_issues(
    view: View,
    team_id: TeamId = None,
    project_id: Annotated[Id | None, Query(description="Only issues of this project.")] = None,
    assignee_id: Annotated[Id | None, Query(description="Only issues assigned to them.")] = None,
    status: Annotated[IssueStatus | None, Query(description="Only issues in this status.")] = None,
    kind: Annotated[IssueKind | None, Query(description="Only issues of this kind.")] = None,
    priority: Annotated[Priority | None, Query(description="Only this priority.")] = None,
    label: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only issues with this label.")
    ] = None,
    blocked: Annotated[
        bool | None, Query(description="Only blocked (or unblocked) ones."), TRUE_OR_FALSE
    ] = None,
    parent_id: Annotated[Id | None, Query(description="Only sub-issues of this issue.")] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_SEARCH,
            description="Only the issue with this key (like PAY-12, in any case) and issues whose "
            "title contains this text, in any case.",
        ),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Doc:
    """Issues, in the order they were created.

    With `q`, a search: the issue whose key is `q` (`pay-12` finds PAY-12) and the issues whose
    title contains `q` as written (`%` and `_` are plain characters), ignoring case (on SQLite,
    the case of ASCII letters only). Leading and trailing spaces of `q` are ignored.
    """
    after = queries.decode_list_cursor(cursor)
    text = q.strip() if q is not None else None
    filters = Filters.of(
        (label, LABELLED) if label is not None else None,
        team_id=team_id,
        project_id=project_id,
        assignee_id=assignee_id,
        status=status,
        kind=kind,
        priority=priority,
        blocked=blocked,
        parent_id=parent_id,
    )
    if text:
        filters = replace(filters, text=text)
    return await queries.objects(view, ISSUE, filters, after, limit)


@router.get("/issues/{issue_id}/comments", response_model=CommentList)
async def list_comments(
    issue_id: Annotated[Id, Path()],
    view: View,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Doc:
    """An issue's comments, oldest first."""
    after = decode_position_cursor(cursor)
    return await queries.comments(view, issue_id, after, limit)


@router.get("/operations/{operation_id}", response_model=OperationDetail)
async def get_operation(operation_id: Annotated[Id, Path()], view: View, response: Response) -> Doc:
    """An operation with its cadence, runbook and every occurrence (late ones marked)."""
    return _with_etag(response, await queries.detail(view, OPERATION, operation_id))


@router.get("/operations", response_model=OperationList)
async def list_operations(
    view: View,
    team_id: TeamId = None,
    status: Annotated[
        OperationStatus | None, Query(description="Only operations in this status.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Doc:
    """Operations, in the order they were created, their occurrences counted."""
    after = queries.decode_list_cursor(cursor)
    filters = Filters.of(team_id=team_id, status=status)
    return await queries.objects(view, OPERATION, filters, after, limit)
