"""Commands that record every kind of event, run through the real command handler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from contracts import commands as body
from domain import issue, operation
from services.app import Runtime
from services.command import actions
from services.command.handler import Accepted, Action, CommandContext


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
    team_id = created(runtime, actions.create_team(body.CreateTeam(name="Payments")))
    run(runtime, actions.update_team(team_id, body.UpdateTeam(name="Payments core")))
    run(runtime, actions.update_team(team_id, body.UpdateTeam(weekly_capacity=40)))
    run(runtime, actions.set_working_agreement(team_id, body.WorkingAgreement(text="Review daily")))
    run(runtime, actions.set_definition_of_done(team_id, body.DefinitionOfDone(items=["Tested"])))
    members = tuple(
        created(
            runtime,
            actions.create_member(
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
    run(runtime, actions.update_member(lead, body.UpdateMember(name="Ada", role="manager")))
    run(runtime, actions.update_member(lead, body.UpdateMember(weekly_capacity=12)))
    run(runtime, actions.remove_team_member(team_id, leaver))
    run(runtime, actions.deactivate_member(leaver))
    run(runtime, actions.reactivate_member(leaver))

    period = {"period_start": date(2026, 1, 1), "period_end": date(2026, 3, 31)}
    parent_goal = created(
        runtime, actions.create_goal(body.CreateGoal(title="Grow", owner_id=lead, **period))
    )
    goal_id = created(
        runtime,
        actions.create_goal(body.CreateGoal(title="Be boring", owner_id=lead, **period)),
    )
    run(runtime, actions.update_goal(goal_id, body.UpdateGoal(title="Be reliably boring")))
    run(runtime, actions.update_goal(goal_id, body.UpdateGoal(parent_id=parent_goal)))
    run(runtime, actions.activate_goal(goal_id))
    kr = run(
        runtime,
        actions.add_key_result(
            goal_id, body.AddKeyResult(title="Uptime", unit="percent", start=99, target=99.9)
        ),
    ).body["key_result_id"]
    run(runtime, actions.check_in(goal_id, UUID(kr), body.CheckIn(value=99.5, note="Better")))

    project_id = created(
        runtime,
        actions.create_project(
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
        actions.change_project_status(project_id, body.ProjectStatusChange(status="active")),
    )
    run(runtime, actions.update_project(project_id, body.UpdateProject(name="Payouts v2")))
    run(
        runtime,
        actions.update_project(project_id, body.UpdateProject(target_date=date(2026, 7, 31))),
    )
    milestone = run(
        runtime,
        actions.add_milestone(
            project_id, body.AddMilestone(name="Beta", due_date=date(2026, 5, 1))
        ),
    ).body["milestone_id"]
    run(runtime, actions.complete_milestone(project_id, UUID(milestone)))
    run(runtime, actions.link_project_goal(project_id, body.LinkGoal(goal_id=goal_id)))
    run(
        runtime,
        actions.post_project_health(project_id, body.ProjectHealth(health="at_risk", note="Late")),
    )

    issue_ids = _issue_history(runtime, team_id, project_id, goal_id, lead, other)
    _operation_history(runtime, team_id, lead, other)
    run(runtime, actions.close_goal(goal_id, body.CloseGoal(outcome="achieved")))
    return Organisation(team_id, members, issue_ids)


def _issue_history(
    runtime: Runtime, team_id: UUID, project_id: UUID, goal_id: UUID, lead: UUID, other: UUID
) -> tuple[UUID, ...]:
    parent = created(
        runtime,
        actions.create_issue(
            body.CreateIssue(
                title="Payout retries", kind="task", team_id=team_id, project_id=project_id
            )
        ),
    )
    incident = created(
        runtime,
        actions.create_issue(
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
        actions.update_issue(
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
    run(runtime, actions.assign_issue(incident, body.AssignIssue(assignee_id=lead)))
    run(runtime, actions.assign_issue(incident, body.AssignIssue(assignee_id=None)))
    run(runtime, actions.on_issue(incident, issue.TransitionIssue("todo")))
    run(runtime, actions.on_issue(incident, issue.BlockIssue("Waiting on the bank")))
    run(runtime, actions.on_issue(incident, issue.UnblockIssue()))
    run(runtime, actions.add_dependency(incident, body.AddDependency(blocked_by_id=parent)))
    run(runtime, actions.on_issue(incident, issue.RemoveDependency(parent)))
    run(runtime, actions.link_issue(incident, body.LinkIssue(kind="affects", target_id=project_id)))
    run(runtime, actions.on_issue(incident, issue.UnlinkIssue("affects", project_id)))
    run(runtime, actions.comment_on_issue(incident, body.Comment(body="Looking into it")))
    run(runtime, actions.watch_issue(incident, body.Watch(member_id=other)))
    run(runtime, actions.on_issue(incident, issue.UnwatchIssue(other)))
    return parent, incident


def _operation_history(runtime: Runtime, team_id: UUID, owner: UUID, assignee: UUID) -> None:
    operation_id = created(
        runtime,
        actions.create_operation(
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
    run(runtime, actions.schedule_occurrences(operation_id, date(2026, 3, 4)))
    run(runtime, actions.complete_occurrence(operation_id, date(2026, 3, 2), body.OccurrenceNote()))
    run(
        runtime,
        actions.skip_occurrence(
            operation_id, date(2026, 3, 3), body.OccurrenceNote(note="Holiday")
        ),
    )
    run(
        runtime,
        actions.change_cadence(
            operation_id, body.ChangeCadence(cadence=body.Cadence(every="week"))
        ),
    )
    run(runtime, actions.update_operation(operation_id, body.UpdateOperation(assignee_id=assignee)))
    run(runtime, actions.update_operation(operation_id, body.UpdateOperation(runbook=["Export"])))
    run(runtime, actions.on_operation(operation_id, operation.PauseOperation()))
    run(runtime, actions.on_operation(operation_id, operation.ResumeOperation()))
    run(runtime, actions.on_operation(operation_id, operation.RetireOperation()))


def record_changes(runtime: Runtime, issue_ids: tuple[UUID, ...], count: int) -> None:
    """``count`` comments spread over several issues, so events go to several keys."""
    for n in range(count):
        target = issue_ids[n % len(issue_ids)]
        run(runtime, actions.comment_on_issue(target, body.Comment(body=f"Note {n}")))
