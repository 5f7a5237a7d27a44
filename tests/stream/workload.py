"""Commands that record every kind of event, run through the real command handler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from contracts import commands as body
from domain import issue, operation
from domain.catalog import ISSUE, OPERATION
from services.app import Runtime
from services.command.actions import goals as goals_actions
from services.command.actions import issues as issues_actions
from services.command.actions import members as members_actions
from services.command.actions import operations as operations_actions
from services.command.actions import projects as projects_actions
from services.command.actions import teams as teams_actions
from services.command.actions.common import on
from services.command.handler import Action, CommandContext
from services.command.outcomes import Accepted


def run(runtime: Runtime, action: Action) -> Accepted:
    """Runs one command as the API would, for an admin acting as a member."""
    context = CommandContext(
        actor="member:stream-tests",
        principal="token:stream-tests",
        now=runtime.clock(),
        correlation_id=uuid4(),
        causation_id=uuid4(),
    )
    return runtime.handler.execute(context, action)


def created(runtime: Runtime, action: Action) -> UUID:
    return UUID(run(runtime, action).body["id"])


@dataclass(frozen=True)
class Organisation:
    team_id: UUID
    member_ids: tuple[UUID, ...]
    issue_ids: tuple[UUID, ...]


def record_every_kind_of_event(runtime: Runtime) -> Organisation:
    """A small organisation whose history holds every event type the domain records."""
    team_id = created(runtime, teams_actions.create_team(body.CreateTeam(name="Payments")))
    run(runtime, teams_actions.update_team(team_id, body.UpdateTeam(name="Payments core")))
    run(runtime, teams_actions.update_team(team_id, body.UpdateTeam(weekly_capacity=40)))
    run(
        runtime,
        teams_actions.set_working_agreement(team_id, body.WorkingAgreement(text="Review daily")),
    )
    run(
        runtime,
        teams_actions.set_definition_of_done(team_id, body.DefinitionOfDone(items=["Tested"])),
    )
    members = tuple(
        created(
            runtime,
            members_actions.create_member(
                body.CreateMember(
                    name=f"Member {n}",
                    email=f"member{n}-{uuid4().hex[:8]}@example.com",
                    role="member",
                    weekly_capacity=10,
                    team_ids=[team_id],
                )
            ),
        )
        for n in range(3)
    )
    lead, other, leaver = members
    run(runtime, members_actions.update_member(lead, body.UpdateMember(name="Ada", role="manager")))
    run(runtime, members_actions.update_member(lead, body.UpdateMember(weekly_capacity=12)))
    run(runtime, teams_actions.add_team_lead(team_id, body.AddTeamLead(member_id=lead)))
    run(runtime, teams_actions.add_team_lead(team_id, body.AddTeamLead(member_id=other)))
    run(runtime, teams_actions.remove_team_lead(team_id, other))
    run(runtime, teams_actions.remove_team_member(team_id, leaver))
    run(runtime, members_actions.deactivate_member(leaver))
    run(runtime, members_actions.reactivate_member(leaver))

    period = {"period_start": date(2026, 1, 1), "period_end": date(2026, 3, 31)}
    parent_goal = created(
        runtime, goals_actions.create_goal(body.CreateGoal(title="Grow", owner_id=lead, **period))
    )
    goal_id = created(
        runtime,
        goals_actions.create_goal(body.CreateGoal(title="Be boring", owner_id=lead, **period)),
    )
    run(runtime, goals_actions.update_goal(goal_id, body.UpdateGoal(title="Be reliably boring")))
    run(runtime, goals_actions.update_goal(goal_id, body.UpdateGoal(parent_id=parent_goal)))
    run(runtime, goals_actions.activate_goal(goal_id))
    kr = run(
        runtime,
        goals_actions.add_key_result(
            goal_id, body.AddKeyResult(title="Uptime", unit="percent", start=99, target=99.9)
        ),
    ).body["key_result_id"]
    run(
        runtime,
        goals_actions.check_in_key_result(
            goal_id, UUID(kr), body.CheckIn(value=99.5, note="Better")
        ),
    )

    project_id = created(
        runtime,
        projects_actions.create_project(
            body.CreateProject(
                name="Payouts",
                key="PAY",
                owner_id=lead,
                team_id=team_id,
                start_date=date(2026, 3, 1),
                target_date=date(2026, 6, 30),
            )
        ),
    )
    run(
        runtime,
        projects_actions.change_project_status(
            project_id, body.ProjectStatusChange(status="active")
        ),
    )
    run(runtime, projects_actions.update_project(project_id, body.UpdateProject(name="Payouts v2")))
    run(
        runtime,
        projects_actions.update_project(
            project_id, body.UpdateProject(target_date=date(2026, 7, 31))
        ),
    )
    milestone = run(
        runtime,
        projects_actions.add_milestone(
            project_id, body.AddMilestone(name="Beta", due_date=date(2026, 5, 1))
        ),
    ).body["milestone_id"]
    run(runtime, projects_actions.complete_milestone(project_id, UUID(milestone)))
    run(runtime, projects_actions.link_project_goal(project_id, body.LinkGoal(goal_id=goal_id)))
    run(
        runtime,
        projects_actions.post_project_health(
            project_id, body.ProjectHealth(health="at_risk", note="Late")
        ),
    )

    issue_ids = _issue_history(runtime, team_id, project_id, goal_id, lead, other)
    _operation_history(runtime, team_id, lead, other)
    run(runtime, goals_actions.close_goal(goal_id, body.CloseGoal(outcome="achieved")))
    return Organisation(team_id, members, issue_ids)


def _issue_history(
    runtime: Runtime, team_id: UUID, project_id: UUID, goal_id: UUID, lead: UUID, other: UUID
) -> tuple[UUID, ...]:
    parent = created(
        runtime,
        issues_actions.create_issue(
            body.CreateIssue(
                title="Payout retries", kind="task", team_id=team_id, project_id=project_id
            )
        ),
    )
    incident = created(
        runtime,
        issues_actions.create_issue(
            body.CreateIssue(
                title="Payouts stuck",
                kind="incident",
                team_id=team_id,
                severity="sev2",
                labels=["payments"],
                goal_ids=[goal_id],
            )
        ),
    )
    run(
        runtime,
        issues_actions.update_issue(
            incident,
            body.UpdateIssue(
                title="Payouts stuck in EU",
                description="Since 08:00",
                priority="urgent",
                severity="sev1",
                estimate=3,
                due_date=date(2026, 3, 3),
                labels=["payments", "eu"],
                parent_id=parent,
            ),
        ),
    )
    run(runtime, issues_actions.assign_issue(incident, body.AssignIssue(assignee_id=lead)))
    run(runtime, issues_actions.assign_issue(incident, body.AssignIssue(assignee_id=None)))
    run(runtime, on(ISSUE, incident, issue.TransitionIssue("todo")))
    run(runtime, on(ISSUE, incident, issue.BlockIssue("Waiting on the bank")))
    run(runtime, on(ISSUE, incident, issue.UnblockIssue()))
    run(runtime, issues_actions.add_dependency(incident, body.AddDependency(blocked_by_id=parent)))
    run(runtime, on(ISSUE, incident, issue.RemoveDependency(parent)))
    run(
        runtime,
        issues_actions.link_issue(incident, body.LinkIssue(kind="affects", target_id=project_id)),
    )
    run(runtime, on(ISSUE, incident, issue.UnlinkIssue("affects", project_id)))
    run(runtime, issues_actions.comment_on_issue(incident, body.Comment(body="Looking into it")))
    run(runtime, issues_actions.watch_issue(incident, body.Watch(member_id=other)))
    run(runtime, on(ISSUE, incident, issue.UnwatchIssue(other)))
    return parent, incident


def _operation_history(runtime: Runtime, team_id: UUID, owner: UUID, assignee: UUID) -> None:
    operation_id = created(
        runtime,
        operations_actions.create_operation(
            body.CreateOperation(
                title="Reconcile the ledger",
                team_id=team_id,
                owner_id=owner,
                cadence=body.Cadence(every="day"),
                start_date=date(2026, 3, 2),
                runbook=["Export", "Compare"],
            )
        ),
    )
    run(runtime, operations_actions.schedule_occurrences(operation_id, date(2026, 3, 4)))
    run(
        runtime,
        operations_actions.complete_occurrence(
            operation_id, date(2026, 3, 2), body.OccurrenceNote()
        ),
    )
    run(
        runtime,
        operations_actions.skip_occurrence(
            operation_id, date(2026, 3, 3), body.OccurrenceNote(note="Holiday")
        ),
    )
    run(
        runtime,
        operations_actions.change_cadence(
            operation_id, body.ChangeCadence(cadence=body.Cadence(every="week"))
        ),
    )
    run(
        runtime,
        operations_actions.update_operation(
            operation_id, body.UpdateOperation(assignee_id=assignee)
        ),
    )
    run(
        runtime,
        operations_actions.update_operation(operation_id, body.UpdateOperation(runbook=["Export"])),
    )
    run(runtime, on(OPERATION, operation_id, operation.PauseOperation()))
    run(runtime, on(OPERATION, operation_id, operation.ResumeOperation()))
    run(runtime, on(OPERATION, operation_id, operation.RetireOperation()))


def record_changes(runtime: Runtime, issue_ids: tuple[UUID, ...], count: int) -> None:
    """``count`` comments spread over several issues, so events go to several keys."""
    for n in range(count):
        target = issue_ids[n % len(issue_ids)]
        run(runtime, issues_actions.comment_on_issue(target, body.Comment(body=f"Note {n}")))
