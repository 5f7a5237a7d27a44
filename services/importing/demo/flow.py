"""How issues move, and the stream of new ones that keeps arriving.

New issues arrive uniformly in working time (so mostly in weekday working hours, hardly at
weekends and less over the holidays), spread over the teams by their share. The lead triages
reports into the backlog or straight to todo (assigned), or cancels them as duplicates. Work waits
in the backlog (some of it for good), is pulled, assigned and started, reviewed (and sometimes
sent back), and done; along the way it is commented on, blocked and unblocked, made to wait on an
earlier issue, re-prioritised, re-dated, reassigned, watched and linked to goals, and now and
then reopened after it was done. Incidents are triaged and fixed within hours.

Every move is one the workflow allows (``IssueLife.move`` refuses any other). Times are in the
team's working hours (``IssueLife.after``), so a slow team's work takes longer, nothing much
moves at weekends, and an idle team's new work mostly waits (``IssueLife.stalls``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from services.importing.demo.issues import (
    IDLE_KIND_MIX,
    KIND_MIX,
    PRIORITIES,
    IssueLife,
    IssuePlan,
    poisson,
    weighted,
)
from services.importing.demo.names import BLOCK_REASONS, COMMENTS, LABELS
from services.importing.demo.rules import OPEN_STATUSES
from services.importing.demo.world import Actor, World

# How often each interruption happens to an issue while it is worked on.
INTERRUPTIONS = (
    ("block", 0.10),
    ("depend", 0.06),
    ("priority", 0.08),
    ("due", 0.10),
    ("reassign", 0.06),
    ("link", 0.05),
    ("labels", 0.04),
    ("watch", 0.10),
)
DOWNGRADE = {"sev1": "sev2", "sev2": "sev3", "sev3": "sev4"}


def life(world: World, plan: IssuePlan) -> Actor:
    """The actor of a new issue: it is created when first resumed, then lives its history."""
    issue = IssueLife(world, plan)
    issue.create()
    yield from _run(issue)


def start_issues(world: World, count: int, first: int) -> None:
    """``count`` ordinary issues arriving from ``first`` to the end, uniformly in working time."""
    calendar, rng = world.calendar, world.rng
    low, high = calendar.work(first), calendar.work(calendar.end)
    moments = sorted(calendar.moment(rng.randint(low, high)) for _ in range(count))
    if moments:
        world.spawn(_arrivals(world, moments), moments[0])


def _arrivals(world: World, moments: list[int]) -> Actor:
    teams = world.teams
    total = sum(team.share for team in teams)
    for moment in moments:
        yield moment
        point = world.rng.random() * total
        team = teams[-1]
        for candidate in teams:
            point -= candidate.share
            if point < 0:
                team = candidate
                break
        mix = IDLE_KIND_MIX if team.idle_from is not None else KIND_MIX
        world.spawn(life(world, IssuePlan(team, weighted(world, mix))), world.now)


def _run(issue: IssueLife) -> Iterator[int]:
    plan, rng = issue.plan, issue.world.rng
    if issue.status == "triage":
        if not plan.triaged:
            return
        if issue.kind == "incident":
            yield from _incident(issue)
            return
        yield issue.wait(6)
        if issue.interrupted() or issue.stalls() or not _triage(issue):
            return
    if issue.status == "backlog":
        if plan.stop_at == "backlog":
            return
        if plan.pull_at is not None:
            yield plan.pull_at
        else:
            yield issue.wait(60 if rng.random() < 0.75 else 400)
        if issue.interrupted() or issue.stalls():
            return
        if rng.random() < 0.08 and plan.pull_at is None:
            issue.comment("No longer needed.", issue.lead())
            issue.move("cancelled", issue.lead())
            return
        _pull(issue)
    if issue.status == "todo":
        if plan.stop_at == "todo":
            return
        yield issue.wait(12)
        if issue.interrupted() or issue.stalls():
            return
        if issue.assignee is None:
            _take(issue)
        issue.move("in_progress")
    yield from _work(issue)


def _triage(issue: IssueLife) -> bool:
    """The lead sorts a report; ``False`` if it was cancelled."""
    rng, lead = issue.world.rng, issue.lead()
    draw = rng.random()
    if draw < 0.12:
        issue.comment("Duplicate of an earlier report.", lead)
        issue.move("cancelled", lead)
        return False
    if draw < 0.47:
        worker = issue.plan.assignee or issue.worker()
        if worker is not None:
            issue.assign(worker, lead)
        issue.move("todo", lead)
    else:
        issue.move("backlog", lead)
    return True


def _take(issue: IssueLife) -> None:
    """Someone takes the issue on: themselves, or the lead hands it out."""
    worker = issue.plan.assignee or issue.worker()
    if worker is not None:
        by = worker if issue.world.rng.random() < 0.6 else issue.lead()
        issue.assign(worker, by)


def _pull(issue: IssueLife) -> None:
    """Out of the backlog: refined, and taken on (work planned to wait in todo waits there for
    whoever is free, unassigned)."""
    rng, plan = issue.world.rng, issue.plan
    if issue.kind == "task" and issue.estimate is None and rng.random() < 0.3:
        issue.estimate = rng.choice((2.0, 3.0))
        issue.patch({"estimate": issue.estimate})
    if plan.stop_at == "todo":
        issue.move("todo")
        return
    if issue.assignee is None:
        _take(issue)
    issue.move("in_progress" if plan.pull_at is not None or rng.random() < 0.4 else "todo")


def _work(issue: IssueLife) -> Iterator[int]:
    world, rng, plan = issue.world, issue.world.rng, issue.plan
    size = plan.estimate or 2.0
    hours = size * 4 * rng.lognormvariate(0, 0.5)
    steps: list[tuple[float, str]] = [(rng.random(), "comment") for _ in range(poisson(world, 1.2))]
    steps += [(rng.random(), kind) for kind, chance in INTERRUPTIONS if rng.random() < chance]
    steps.sort()
    done_share = 0.0
    for share, kind in steps:
        yield issue.after(hours * (share - done_share))
        done_share = share
        if issue.interrupted():
            return
        yield from _interruption(issue, kind, hours)
        if issue.status not in OPEN_STATUSES:
            return
    if plan.stop_at == "in_progress":
        yield from issue.linger()
        return
    yield issue.after(hours * (1 - done_share))
    if issue.interrupted():
        return
    if rng.random() < 0.7:
        issue.move("in_review")
        yield issue.wait(12)
        if issue.interrupted():
            return
        if rng.random() < 0.15:
            issue.comment("A few changes from the review.", issue.lead())
            issue.move("in_progress")
            yield issue.after(hours * 0.3)
            if issue.interrupted():
                return
            issue.move("in_review")
            yield issue.wait(6)
            if issue.interrupted():
                return
    issue.move("done")
    if rng.random() < 0.05:
        yield from _reopen(issue, hours)


def _reopen(issue: IssueLife, hours: float) -> Iterator[int]:
    yield issue.wait(30)
    if issue.project is not None and not issue.project.open:
        return
    issue.move("todo", issue.reporter if issue.reporter.available(issue.world.now) else None)
    issue.comment("This is back: it happens again in production.")
    yield issue.wait(8)
    if issue.interrupted():
        return
    if issue.assignee is None:
        _take(issue)
    issue.move("in_progress")
    yield issue.after(hours * 0.3)
    if issue.interrupted():
        return
    issue.move("done")


def _interruption(issue: IssueLife, kind: str, hours: float) -> Iterator[int]:
    world, rng = issue.world, issue.world.rng
    path = f"/v1/issues/{issue.id}"
    match kind:
        case "comment":
            issue.comment(rng.choice(COMMENTS))
        case "block":
            issue.block(rng.choice(BLOCK_REASONS))
            # Most blocks clear within a few days; some take weeks.
            yield issue.after(rng.uniform(4, 30) if rng.random() < 0.75 else rng.uniform(40, 160))
            if issue.interrupted():
                return
            issue.unblock()
        case "depend":
            earlier = [
                record
                for record in issue.team.recent
                if record.number < issue.record.number
                and record.status in OPEN_STATUSES
                and record.id not in issue.blocked_by
            ]
            if earlier:
                blocker = rng.choice(earlier)
                body = {"blocked_by_id": str(blocker.id)}
                world.emit(f"POST {path}/dependencies", issue.doer(), body)
                issue.blocked_by.add(blocker.id)
                if rng.random() < 0.4:
                    yield issue.after(rng.uniform(2, 20))
                    if issue.interrupted():
                        return
                    world.emit(f"DELETE {path}/dependencies/{blocker.id}", issue.doer())
                    issue.blocked_by.discard(blocker.id)
        case "priority":
            choices = [value for value, _ in PRIORITIES if value != issue.priority]
            issue.priority = rng.choice(choices)
            issue.patch({"priority": issue.priority})
        case "due":
            base = issue.due or world.today()
            issue.due = base + timedelta(days=rng.randint(3, 14))
            issue.patch({"due_date": issue.due.isoformat()})
        case "reassign":
            successor = issue.worker(besides=issue.assignee)
            if successor is not None and issue.plan.assignee is None:
                issue.comment(f"Handing this over to {successor.name}.")
                issue.assign(successor)
        case "link":
            _link(issue)
        case "labels":
            labels = rng.sample(LABELS, 2)
            if labels != issue.labels:
                issue.labels = labels
                issue.patch({"labels": labels})
        case "watch":
            # The lead, or a stakeholder who only reads (a viewer).
            watcher = rng.choice([issue.lead(), *world.viewers])
            if watcher.id not in issue.watchers:
                issue.watchers.add(watcher.id)
                world.emit(f"POST {path}/watchers", issue.doer(), {"member_id": str(watcher.id)})


def _link(issue: IssueLife) -> None:
    """Links the issue to a goal it serves, or (a report) to the operation it affects."""
    world, rng = issue.world, issue.world.rng
    goals = world.goals_of(issue.team, world.now)
    if issue.kind == "task" and goals:
        kind, target = "goal", rng.choice(goals).id
    elif issue.team.operations:
        kind, target = "affects", rng.choice(issue.team.operations).id
    else:
        return
    if target not in issue.links:
        issue.links.add(target)
        body = {"kind": kind, "target_id": str(target)}
        world.emit(f"POST /v1/issues/{issue.id}/links", issue.doer(), body)


def _incident(issue: IssueLife) -> Iterator[int]:
    rng = issue.world.rng
    yield issue.after(rng.uniform(0.05, 0.5))
    if issue.interrupted():
        return
    lead = issue.lead()
    responder = issue.worker() or lead
    issue.assign(responder, lead)
    issue.move("todo", lead)
    yield issue.soon()
    if issue.interrupted():
        return
    issue.move("in_progress", issue.doer())
    issue.comment("Mitigating: rolled back the last deploy.")
    yield issue.after(rng.uniform(0.5, 6))
    if issue.interrupted():
        return
    if rng.random() < 0.3:
        _link(issue)
    if issue.severity in DOWNGRADE and rng.random() < 0.2:
        issue.severity = DOWNGRADE[issue.severity]
        issue.patch({"severity": issue.severity})
    issue.comment("Root cause found; a follow-up task is filed.")
    yield issue.soon()
    if not issue.interrupted():
        issue.move("done")
