"""``as_of`` is the live answer of that moment: for a random small history of issues (created,
moved through the workflow, assigned, their due dates moved, blocked, waiting on each other,
commented) imported with its times, ``GET /v1/insights?as_of=T`` equals what a second store
answers live with its clock at T after importing only the lines up to T; and a rebuilt view
answers the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final
from uuid import UUID, uuid4

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from services.app import Runtime, create_app
from services.importing.lines import ImportLine
from services.projections.rebuild import rebuild
from services.projections.views.insights import PROJECTION
from services.projections.views.insights.insight import KINDS
from tests.conftest import FrozenClock, bearer
from tests.projections.insights.conftest import Stores
from tests.projections.insights.history import (
    MONDAY,
    WEEK,
    Document,
    History,
    imported,
    insights,
    iso,
)

START: Final = MONDAY - 9 * WEEK
# The workflow of docs/api.md: where an issue may go from each status.
NEXT: Final = {
    "triage": ("backlog", "todo", "cancelled"),
    "backlog": ("todo", "in_progress", "cancelled"),
    "todo": ("backlog", "in_progress", "cancelled"),
    "in_progress": ("todo", "in_review", "done", "cancelled"),
    "in_review": ("in_progress", "done", "cancelled"),
    "done": ("todo",),
    "cancelled": ("todo",),
}
ACTIONS: Final = ("create", "create", "move", "move", "move", "assign", "due", "block", "depend",
                  "comment", "check_in")  # fmt: skip


@dataclass(frozen=True)
class Step:
    hours: int
    action: str
    a: int
    b: int


steps = st.builds(
    Step, st.integers(1, 90), st.sampled_from(ACTIONS), st.integers(0, 60), st.integers(0, 60)
)


@dataclass
class Issue:
    id: UUID
    status: str
    assignee: UUID | None
    due: date | None
    flagged: bool = False
    waits_on: set[int] = field(default_factory=set)

    @property
    def open(self) -> bool:
        return self.status not in ("done", "cancelled")


def _history(plan: list[Step]) -> list[ImportLine]:
    """A small organisation with a pace to forecast from, then ``plan``, each step only where the
    command API's rules allow it."""
    h = History()
    team = h.team(START - 16 * WEEK, "Payments")
    members = [
        h.member(START - 16 * WEEK, "Ada", 5, [team]),
        h.member(START - 16 * WEEK, "Bob", 12, [team]),
    ]
    for week in range(15):
        h.finished(START - (15 - week) * WEEK + timedelta(hours=3), team, estimate=2)
    goal = h.goal(START, "Grow revenue", members[0], team, date(2026, 1, 1), date(2026, 3, 31))
    kr = h.key_result(START, goal, "Reach 100 customers", 0, 100)
    h.activate(START, goal)
    project = h.project(START, "Refunds", "REF", members[1], team, date(2026, 3, 9), [goal])
    issues: list[Issue] = []
    at = START
    for step in plan:
        at += timedelta(hours=step.hours)
        mine = issues[step.a % len(issues)] if issues else None
        if step.action == "create" or mine is None:
            kind = ("task", "bug")[step.b % 2]
            assignee = (*members, None)[step.a % 3]
            due = None if step.b % 5 == 0 else START.date() + timedelta(days=step.b)
            fields: dict[str, Any] = {"priority": ("none", "low", "high", "urgent")[step.a % 4]}
            if step.a % 3 == 0:
                fields["project_id"] = project
            if step.a % 4 == 1:
                fields["goal_ids"] = [goal]
            if step.b % 4:
                fields["estimate"] = (1, 3, 8)[step.b % 4 - 1]
            if assignee is not None:
                fields["assignee_id"] = assignee
            if due is not None:
                fields["due_date"] = due
            made = h.issue(at, f"Issue {len(issues) + 1}", team, kind, **fields)
            status = "triage" if kind == "bug" else "backlog"
            issues.append(Issue(made, status, assignee, due))
        elif step.action == "move":
            options = NEXT[mine.status]
            mine.status = options[step.b % len(options)]
            h.move(at, mine.id, mine.status)
        elif step.action == "comment":
            h.comment(at, mine.id, "Any news?")
        elif step.action == "check_in":
            h.check_in(at, goal, kr, float(step.b))
        elif not mine.open:
            continue
        elif step.action == "assign":
            chosen: UUID | None = members[step.b % 2]
            if chosen == mine.assignee:
                chosen = None
            if chosen is None and mine.assignee is None:
                continue
            mine.assignee = chosen
            h.assign(at, mine.id, chosen)
        elif step.action == "due":
            moved: date | None = START.date() + timedelta(days=step.b)
            if moved == mine.due:
                moved = None
            if moved is None and mine.due is None:
                continue
            mine.due = moved
            h.due(at, mine.id, moved)
        elif step.action == "block":
            if mine.flagged:
                h.add(f"POST /v1/issues/{mine.id}/unblock", at)
            else:
                h.block(at, mine.id, "Waiting for the bank")
            mine.flagged = not mine.flagged
        elif step.action == "depend":
            index = step.a % len(issues)
            other = step.b % len(issues)
            if other >= index or other in mine.waits_on:
                continue
            mine.waits_on.add(other)
            h.depend(at, mine.id, issues[other].id)
    return h.sorted_lines()


def _import(runtime: Runtime, lines: list[ImportLine]) -> None:
    if lines:
        report = runtime.importer.run(f"history-{uuid4()}", lines)
        assert report.error is None, report.error
    runtime.workers[0].catch_up()


def _moments(times: list[datetime], picks: list[tuple[int, int]]) -> list[datetime]:
    """The moments asked about: a line's time (``pick``), ``offset`` seconds on, up to now."""
    return sorted(
        {
            min(times[pick % len(times)] + timedelta(seconds=offset), MONDAY)
            for pick, offset in picks
        }
    )


def _answer(client: TestClient, headers: dict[str, str], **query: Any) -> Document:
    answer = client.get("/v1/insights", params={"limit": 500, **query}, headers=headers)
    assert answer.status_code == 200, answer.text
    document: Document = answer.json()
    return document


# How long after a line's time a moment asked about may be: at it, just after, or well after
# (when work has aged and forecasts have moved on).
OFFSETS: Final = (0, 0, 1, 3_600, 3 * 86_400, 21 * 86_400)
# A plan that reaches every kind but the operations' (see the test after the property).
RICH: Final = [
    Step(20, "create", 0, 3), Step(20, "create", 1, 6), Step(20, "create", 2, 11),
    Step(20, "create", 3, 1), Step(20, "create", 6, 2), Step(20, "create", 9, 4),
    Step(30, "move", 0, 1), Step(30, "move", 1, 0), Step(40, "due", 2, 9),
    Step(40, "due", 2, 17), Step(40, "due", 2, 23), Step(40, "block", 1, 0),
    Step(60, "depend", 3, 1), Step(80, "move", 0, 1), Step(80, "check_in", 0, 5),
    Step(90, "assign", 3, 1),
]  # fmt: skip
# Moments in it, together holding each of those kinds: its start, 3 and 21 days on, and 21 days
# after a late line.
RICH_PICKS: Final = [(0, 0), (0, 3 * 86_400), (0, 21 * 86_400), (80, 21 * 86_400)]


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plan=st.lists(steps, min_size=3, max_size=16),
    picks=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(OFFSETS)),
        min_size=1,
        max_size=4,
    ),
)
@example(plan=RICH, picks=RICH_PICKS)
def test_as_of_a_moment_is_the_live_answer_then_and_a_rebuild_changes_nothing(
    stores: Stores, plan: list[Step], picks: list[tuple[int, int]]
) -> None:
    lines = _history(plan)
    times = [datetime.fromisoformat(made["occurred_at"]) for made in lines]
    moments = _moments(times, picks)
    with (
        stores.runtime(0, FrozenClock(MONDAY), run_workers=False) as whole,
        # Judged afresh at every moment, even a second after the last: how reused answers hold
        # is test_reuse's.
        stores.runtime(
            1, FrozenClock(moments[0]), run_workers=False, settings={"insight_reuse_seconds": 0}
        ) as growing,
    ):
        _import(whole, lines)
        asked, told = TestClient(create_app(whole)), TestClient(create_app(growing))
        asked_headers = bearer(whole.tokens.create("viewer"))
        told_headers = bearer(growing.tokens.create("viewer"))
        clock = growing.clock
        assert isinstance(clock, FrozenClock)
        live: dict[datetime, Document] = {}
        done = 0
        for moment in moments:
            clock.advance(moment - clock())
            upto = sum(1 for when in times if when <= moment)
            _import(growing, lines[done:upto])
            done = upto
            live[moment] = _answer(told, told_headers)
            then = _answer(asked, asked_headers, as_of=iso(moment))
            assert then == live[moment], f"as_of {iso(moment)} differs from the live answer"
        now = _answer(asked, asked_headers)

        rebuild(whole.store, whole.backend, PROJECTION)

        for moment in moments:
            assert _answer(asked, asked_headers, as_of=iso(moment)) == live[moment]
        assert _answer(asked, asked_headers) == now


def test_the_pinned_example_reaches_every_kind_its_history_can_hold(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    """The property's pinned example is worth its time: at its moments, its history holds every
    kind but the operations' (it has none)."""
    lines = _history(RICH)
    position = imported(runtime, lines)
    times = [datetime.fromisoformat(made["occurred_at"]) for made in lines]
    kinds = set()
    for moment in _moments(times, RICH_PICKS):
        found = insights(client, admin, position, as_of=iso(moment))["items"]
        kinds |= {item["kind"] for item in found}
    assert kinds == set(KINDS) - {"operation_unhealthy"}
