"""Import lines run through the domain's deciders, as the command API's actions would run them,
with the importer's own checks: a line's body is the route's model, its actor is a member, and
an object's history never goes back in time. Any refusal fails the test that runs the lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from contracts import commands as body
from domain import issue, member, project, team
from services.importing.lines import ImportLine


class Simulation:
    def __init__(self, existing_members: Iterable[UUID] = ()) -> None:
        self.teams: dict[UUID, team.Team] = {}
        self.members: dict[UUID, member.Member] = {
            member_id: member.Member(
                member_id, "Existing", f"{member_id}@example.com", "member", 40
            )
            for member_id in existing_members
        }
        self.projects: dict[UUID, project.Project] = {}
        self.issues: dict[UUID, issue.Issue] = {}
        self.history: dict[UUID, list[tuple[datetime, Any]]] = {}
        self._latest: dict[UUID, datetime] = {}

    def run(self, lines: Sequence[ImportLine]) -> Simulation:
        for number, line in enumerate(lines, start=1):
            try:
                self._run(line)
            except Exception as error:
                raise AssertionError(f"line {number} {line} was refused: {error!r}") from error
        return self

    def statuses(self, issue_id: UUID) -> list[str]:
        return [
            e.to_status for _, e in self.history[issue_id] if isinstance(e, issue.IssueTransitioned)
        ]

    def _run(self, line: ImportLine) -> None:
        at = datetime.fromisoformat(line["occurred_at"])
        actor = line["actor_id"]
        if actor is not None:
            assert UUID(actor) in self.members, "the actor is no member"
        method, path = line["command"].split(" ")
        parts = path.removeprefix("/v1/").split("/")
        data = line.get("body", {})
        new_id = UUID(line["id"]) if "id" in line else None
        match method, parts:
            case "POST", ["teams"]:
                assert new_id is not None
                made = body.CreateTeam.model_validate(data)
                self._team(new_id, team.CreateTeam(new_id, made.name, made.weekly_capacity), at)
            case "POST", ["teams", joined, "members"]:
                joining = body.AddTeamMember.model_validate(data).member_id
                add = team.AddTeamMember(joining, self.members[joining].active)
                self._team(UUID(joined), add, at)
            case "POST", ["members"]:
                assert new_id is not None
                m = body.CreateMember.model_validate(data)
                register = member.RegisterMember(new_id, m.name, m.email, m.role, m.weekly_capacity)
                self._member(new_id, register, at)
                for team_id in m.team_ids:
                    self._team(team_id, team.AddTeamMember(new_id, True), at)
            case "POST", ["members", member_id, "deactivate"]:
                self._member(UUID(member_id), member.DeactivateMember(), at)
            case "POST", ["projects"]:
                assert new_id is not None
                self._create_project(new_id, body.CreateProject.model_validate(data), at)
            case "POST", ["issues"]:
                assert new_id is not None
                self._create_issue(new_id, body.CreateIssue.model_validate(data), at)
            case "PATCH", ["issues", issue_id]:
                self._edit(UUID(issue_id), body.UpdateIssue.model_validate(data), at)
            case "POST", ["issues", issue_id, "assign"]:
                assignee = body.AssignIssue.model_validate(data).assignee_id
                active = self.members[assignee].active if assignee else True
                self._issue(UUID(issue_id), issue.AssignIssue(assignee, active), at)
            case "POST", ["issues", issue_id, "transition"]:
                status = body.TransitionIssue.model_validate(data).status
                self._issue(UUID(issue_id), issue.TransitionIssue(status), at)
            case "POST", ["issues", issue_id, "dependencies"]:
                blocker = body.AddDependency.model_validate(data).blocked_by_id
                waits = issue_waits_on(blocker, self.issues)
                self._issue(UUID(issue_id), issue.AddDependency(blocker, waits), at)
            case "POST", ["issues", issue_id, "comments"]:
                text = body.Comment.model_validate(data).body
                comment = issue.CommentOnIssue(uuid4(), actor or "system", text)
                self._issue(UUID(issue_id), comment, at)
            case _:
                raise AssertionError(f"no such command: {line['command']}")

    def _in_order(self, stream_id: UUID, at: datetime) -> None:
        latest = self._latest.get(stream_id)
        assert latest is None or latest <= at, f"{stream_id} changed at {latest}, before {at}"
        self._latest[stream_id] = at

    def _team(self, team_id: UUID, command: Any, at: datetime) -> None:
        self._in_order(team_id, at)
        state = self.teams.get(team_id)
        for event in team.decide(command, state, at):
            state = team.evolve(state, event)
        assert state is not None
        self.teams[team_id] = state

    def _member(self, member_id: UUID, command: Any, at: datetime) -> None:
        self._in_order(member_id, at)
        state = self.members.get(member_id)
        for event in member.decide(command, state, at):
            state = member.evolve(state, event)
        assert state is not None
        self.members[member_id] = state

    def _project(self, project_id: UUID, command: Any, at: datetime) -> list[Any]:
        self._in_order(project_id, at)
        state = self.projects.get(project_id)
        events = project.decide(command, state, at)
        for event in events:
            state = project.evolve(state, event)
        assert state is not None
        self.projects[project_id] = state
        return list(events)

    def _issue(self, issue_id: UUID, command: Any, at: datetime) -> None:
        self._in_order(issue_id, at)
        state = self.issues.get(issue_id)
        for event in issue.decide(command, state, at):
            state = issue.evolve(state, event)
            self.history.setdefault(issue_id, []).append((at, event))
        assert state is not None
        self.issues[issue_id] = state

    def _create_project(self, project_id: UUID, data: body.CreateProject, at: datetime) -> None:
        assert data.team_id in self.teams
        key_in_use = any(p.key == data.key for p in self.projects.values())
        create = project.CreateProject(
            project_id,
            data.name,
            data.key,
            data.owner_id,
            data.team_id,
            data.start_date,
            data.target_date,
            owner_active=self.members[data.owner_id].active,
            key_in_use=key_in_use,
        )
        self._project(project_id, create, at)

    def _create_issue(self, issue_id: UUID, data: body.CreateIssue, at: datetime) -> None:
        assert data.team_id in self.teams
        key = None
        if data.project_id is not None:
            added = self._project(data.project_id, project.AddIssueToProject(issue_id), at)
            key = project.issue_key(self.projects[data.project_id], added[0].number)
        if data.parent_id is not None:
            assert data.parent_id in self.issues, "the parent doesn't exist yet"
        assignee_active = self.members[data.assignee_id].active if data.assignee_id else True
        create = issue.CreateIssue(
            issue_id=issue_id,
            kind=data.kind,
            title=data.title,
            team_id=data.team_id,
            description=data.description,
            project_id=data.project_id,
            key=key,
            priority=data.priority,
            estimate=data.estimate,
            due_date=data.due_date,
            labels=tuple(data.labels),
            parent_id=data.parent_id,
            assignee_id=data.assignee_id,
            assignee_active=assignee_active,
        )
        self._issue(issue_id, create, at)

    def _edit(self, issue_id: UUID, data: body.UpdateIssue, at: datetime) -> None:
        present = data.model_fields_set
        changes: dict[str, Any] = {
            name: tuple(value) if name == "labels" else value
            for name in present - {"parent_id"}
            for value in [getattr(data, name)]
        }
        self._issue(issue_id, issue.EditIssue(**changes), at)
        if "parent_id" in present:
            parent = data.parent_id
            assert parent is None or parent in self.issues, "the parent doesn't exist yet"
            ancestors = _ancestors(parent, self.issues) if parent else ()
            self._issue(issue_id, issue.ChangeIssueParent(parent, ancestors), at)


def issue_waits_on(start: UUID, issues: Mapping[UUID, issue.Issue]) -> frozenset[UUID]:
    seen: set[UUID] = set()
    frontier = list(issues[start].blocked_by)
    while frontier:
        node = frontier.pop()
        if node not in seen:
            seen.add(node)
            frontier.extend(issues[node].blocked_by)
    return frozenset(seen)


def _ancestors(parent: UUID, issues: Mapping[UUID, issue.Issue]) -> tuple[UUID, ...]:
    chain: list[UUID] = []
    current = issues[parent].parent_id
    while current is not None and current not in chain:
        chain.append(current)
        current = issues[current].parent_id
    return tuple(chain)
