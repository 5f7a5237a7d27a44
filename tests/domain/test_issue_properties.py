"""Properties of the issue aggregate: no sequence of commands breaks its invariants."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain import issue
from domain.errors import DomainError
from domain.rules import reachable, walk
from tests.domain.spec import NOW

T = TypeVar("T")

ISSUE = uuid4()
TEAM = uuid4()
OTHERS = [uuid4() for _ in range(4)]
PEOPLE = [uuid4() for _ in range(3)]
TARGETS = [uuid4() for _ in range(3)]
ISSUE_IDS = [ISSUE, *OTHERS]

# The workflow table of the product specification, independent of the module's.
TABLE: dict[issue.Status, set[issue.Status]] = {
    "triage": {"backlog", "todo", "cancelled"},
    "backlog": {"todo", "in_progress", "cancelled"},
    "todo": {"backlog", "in_progress", "cancelled"},
    "in_progress": {"todo", "in_review", "done", "cancelled"},
    "in_review": {"in_progress", "done", "cancelled"},
    "done": {"todo"},
    "cancelled": {"todo"},
}
UNPLANNED: set[issue.Kind] = {"bug", "incident", "request"}


def reachable_statuses(start: issue.Status) -> set[issue.Status]:
    """``start`` and every status the table reaches from it."""
    seen = {start}
    frontier = deque([start])
    while frontier:
        for following in TABLE[frontier.popleft()]:
            if following not in seen:
                seen.add(following)
                frontier.append(following)
    return seen


# Strategies

ids = st.sampled_from(ISSUE_IDS)
people = st.sampled_from(PEOPLE)
kinds = st.sampled_from(issue.KINDS)
statuses = st.sampled_from(issue.STATUSES)
severities = st.none() | st.sampled_from(issue.SEVERITIES)
# Negative estimates are in range on purpose: they must be refused, never recorded.
estimates = st.none() | st.floats(-10, 100, allow_nan=False)
labels = st.lists(st.sampled_from(["ui", " ui", "api ", "ledger", "", "  "]), max_size=4).map(tuple)
texts = st.sampled_from(["Fix it", "  Fix it ", "", "   ", "Something else"])
dues = st.none() | st.integers(-30, 30).map(lambda days: NOW.date() + timedelta(days=days))


def _unchanged_or(values: st.SearchStrategy[T]) -> st.SearchStrategy[T | issue.Unchanged]:
    """A value for an edit field, or the marker that leaves the field alone."""
    return st.one_of(st.just(issue.UNCHANGED), values)


creates = st.builds(
    issue.CreateIssue,
    issue_id=st.just(ISSUE),
    kind=kinds,
    title=texts,
    team_id=st.just(TEAM),
    priority=st.sampled_from(issue.PRIORITIES),
    severity=severities,
    estimate=estimates,
    due_date=dues,
    labels=labels,
    parent_id=st.none() | ids,
    goal_ids=st.lists(st.sampled_from(TARGETS), max_size=3).map(tuple),
    assignee_id=st.none() | people,
    assignee_active=st.booleans(),
)
edits = st.builds(
    issue.EditIssue,
    title=_unchanged_or(texts),
    description=_unchanged_or(texts),
    priority=_unchanged_or(st.sampled_from(issue.PRIORITIES)),
    severity=_unchanged_or(severities),
    estimate=_unchanged_or(estimates),
    due_date=_unchanged_or(dues),
    labels=_unchanged_or(labels),
)
commands: st.SearchStrategy[issue.IssueCommand] = st.one_of(
    creates,
    edits,
    st.builds(
        issue.ChangeIssueParent,
        st.none() | ids,
        st.lists(ids, max_size=3).map(tuple),
    ),
    st.builds(issue.AssignIssue, st.none() | people, st.booleans()),
    st.builds(issue.TransitionIssue, statuses),
    st.builds(issue.BlockIssue, texts),
    st.just(issue.UnblockIssue()),
    st.builds(issue.AddDependency, ids, st.frozensets(ids, max_size=3)),
    st.builds(issue.RemoveDependency, ids),
    st.builds(
        issue.LinkIssue,
        st.sampled_from(["goal", "affects"]),
        st.sampled_from(TARGETS),
        st.sampled_from(["project", "operation", "goal"]),
    ),
    st.builds(issue.UnlinkIssue, st.sampled_from(["goal", "affects"]), st.sampled_from(TARGETS)),
    st.builds(issue.CommentOnIssue, st.uuids(), st.just("member:alice"), texts),
    st.builds(issue.WatchIssue, people),
    st.builds(issue.UnwatchIssue, people),
)


def check_invariants(state: issue.Issue, initial: issue.Status) -> None:
    assert state.id == ISSUE
    assert state.status in reachable_statuses(initial)
    assert state.estimate is None or state.estimate >= 0
    assert ISSUE not in state.blocked_by
    assert state.parent_id != ISSUE
    assert state.severity is None or state.kind == "incident"
    assert state.title == state.title.strip() != ""
    assert all(label == label.strip() != "" for label in state.labels)
    assert len(set(state.labels)) == len(state.labels)
    assert state.blocked_reason is None or state.blocked_reason.strip() != ""
    keys = [(link.kind, link.target_id) for link in state.links]
    assert len(set(keys)) == len(keys)
    assert all(link.target_kind == "goal" for link in state.links if link.kind == "goal")


@given(st.lists(commands, max_size=60))
def test_no_sequence_of_commands_breaks_an_issues_invariants(
    plan: list[issue.IssueCommand],
) -> None:
    state: issue.Issue | None = None
    initial: issue.Status | None = None
    for command in plan:
        try:
            events = issue.decide(command, state, NOW)
        except DomainError:
            continue
        for event in events:
            if isinstance(event, issue.IssueTransitioned):
                assert state is not None
                assert event.from_status == state.status
                assert event.to_status in TABLE[event.from_status]
            state = issue.evolve(state, event)
        if state is not None:
            if initial is None:
                initial = state.status
                assert initial == ("triage" if state.kind in UNPLANNED else "backlog")
            check_invariants(state, initial)


@given(st.lists(commands, max_size=40))
def test_commands_refused_or_accepted_leave_decide_and_evolve_in_step(
    plan: list[issue.IssueCommand],
) -> None:
    """Deciding again on the state the events built never repeats a one-off change."""
    state: issue.Issue | None = None
    for command in plan:
        try:
            events = issue.decide(command, state, NOW)
        except DomainError:
            continue
        for event in events:
            state = issue.evolve(state, event)
        if isinstance(command, issue.CommentOnIssue | issue.CreateIssue):
            continue
        if isinstance(command, issue.TransitionIssue):
            continue
        if isinstance(command, issue.RemoveDependency | issue.UnlinkIssue):
            continue
        # Everything else is idempotent: the same command again changes nothing.
        assert issue.decide(command, state, NOW) == []


# Graphs across many issues


@dataclass(frozen=True)
class Depend:
    issue: int
    blocker: int


@dataclass(frozen=True)
class Undepend:
    issue: int
    blocker: int


@dataclass(frozen=True)
class Reparent:
    issue: int
    parent: int | None


GraphStep = Depend | Undepend | Reparent


def graph_steps(size: int) -> st.SearchStrategy[list[GraphStep]]:
    index = st.integers(0, size - 1)
    step: st.SearchStrategy[GraphStep] = st.one_of(
        st.builds(Depend, index, index),
        st.builds(Depend, index, index),
        st.builds(Undepend, index, index),
        st.builds(Reparent, index, st.none() | index),
    )
    return st.lists(step, max_size=80)


def _create(issue_id: UUID) -> issue.Issue:
    events = issue.decide(issue.CreateIssue(issue_id, "task", "Work", TEAM), None, NOW)
    state: issue.Issue | None = None
    for event in events:
        state = issue.evolve(state, event)
    assert state is not None
    return state


def _apply(state: issue.Issue, command: issue.IssueCommand) -> issue.Issue:
    """``state`` after ``command``; unchanged if the command is refused."""
    try:
        events = issue.decide(command, state, NOW)
    except DomainError:
        return state
    for event in events:
        evolved = issue.evolve(state, event)
        assert evolved is not None
        state = evolved
    return state


def _edges(issues: Mapping[UUID, issue.Issue]) -> dict[UUID, frozenset[UUID]]:
    return {issue_id: state.blocked_by for issue_id, state in issues.items()}


@given(st.integers(2, 8).flatmap(lambda size: st.tuples(st.just(size), graph_steps(size))))
def test_dependencies_computed_from_the_current_graph_never_close_a_cycle(
    scenario: tuple[int, list[GraphStep]],
) -> None:
    size, plan = scenario
    order = [uuid4() for _ in range(size)]
    issues = {issue_id: _create(issue_id) for issue_id in order}
    for step in plan:
        match step:
            case Depend(issue=at, blocker=blocker_at):
                blocker = order[blocker_at]
                waits_on = reachable(blocker, _edges(issues))
                command: issue.IssueCommand = issue.AddDependency(blocker, waits_on)
                issues[order[at]] = _apply(issues[order[at]], command)
            case Undepend(issue=at, blocker=blocker_at):
                command = issue.RemoveDependency(order[blocker_at])
                issues[order[at]] = _apply(issues[order[at]], command)
            case Reparent():
                continue
        edges = _edges(issues)
        for issue_id in order:
            assert issue_id not in reachable(issue_id, edges), "a dependency cycle"


@given(st.integers(2, 8).flatmap(lambda size: st.tuples(st.just(size), graph_steps(size))))
def test_parents_computed_from_the_current_tree_never_close_a_cycle(
    scenario: tuple[int, list[GraphStep]],
) -> None:
    size, plan = scenario
    order = [uuid4() for _ in range(size)]
    issues = {issue_id: _create(issue_id) for issue_id in order}

    def parent_of(issue_id: UUID) -> UUID | None:
        return issues[issue_id].parent_id

    for step in plan:
        if not isinstance(step, Reparent):
            continue
        parent = None if step.parent is None else order[step.parent]
        ancestors = () if parent is None else tuple(walk(parent_of(parent), parent_of, size + 1))
        child = order[step.issue]
        issues[child] = _apply(issues[child], issue.ChangeIssueParent(parent, ancestors))
        for issue_id in order:
            chain = walk(issue_id, parent_of, size + 2)
            assert len(chain) <= size, "a parent cycle"
            assert parent_of(chain[-1]) is None, "a parent cycle"


def test_every_status_is_reachable_from_triage_and_triage_is_left_for_good() -> None:
    assert reachable_statuses("triage") == set(issue.STATUSES)
    assert reachable_statuses("backlog") == set(issue.STATUSES) - {"triage"}
    assert issue.initial_status("task") == "backlog"
    assert all(issue.initial_status(kind) == "triage" for kind in UNPLANNED)
