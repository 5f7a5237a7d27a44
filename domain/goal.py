"""Goal: an objective for a period, measured by key results, aligned in a tree of parent goals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal, assert_never
from uuid import UUID

from domain.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidTransition,
    MemberInactive,
    NotFound,
    ParentCycle,
)
from domain.rules import require_text

GoalStatus = Literal["draft", "active", "achieved", "missed", "abandoned"]
GoalOutcome = Literal["achieved", "missed", "abandoned"]
KeyResultUnit = Literal["number", "percent", "currency", "boolean"]

CLOSED_STATUSES: frozenset[GoalStatus] = frozenset({"achieved", "missed", "abandoned"})

# Commands


@dataclass(frozen=True)
class CreateGoal:
    """``parent_chain``: the ancestors of ``parent_id``, nearest first, looked up by the caller."""

    goal_id: UUID
    title: str
    owner_id: UUID
    owner_active: bool
    period_start: date
    period_end: date
    team_id: UUID | None = None
    parent_id: UUID | None = None
    parent_exists: bool = False
    parent_chain: tuple[UUID, ...] = ()


@dataclass(frozen=True)
class ActivateGoal:
    pass


@dataclass(frozen=True)
class CloseGoal:
    """``outcome`` is one of ``achieved``, ``missed`` or ``abandoned``."""

    outcome: str


@dataclass(frozen=True)
class AddKeyResult:
    kr_id: UUID
    title: str
    unit: str
    start: float
    target: float


@dataclass(frozen=True)
class CheckInKeyResult:
    kr_id: UUID
    value: float
    note: str = ""


@dataclass(frozen=True)
class RetitleGoal:
    title: str


@dataclass(frozen=True)
class ChangeGoalParent:
    """``parent_id=None`` makes the goal a root; ``parent_chain`` as for ``CreateGoal``."""

    parent_id: UUID | None
    parent_chain: tuple[UUID, ...] = ()
    parent_exists: bool = False


GoalCommand = (
    CreateGoal
    | ActivateGoal
    | CloseGoal
    | AddKeyResult
    | CheckInKeyResult
    | RetitleGoal
    | ChangeGoalParent
)

# Events


@dataclass(frozen=True)
class GoalCreated:
    goal_id: UUID
    title: str
    owner_id: UUID
    team_id: UUID | None
    period_start: date
    period_end: date
    parent_id: UUID | None


@dataclass(frozen=True)
class GoalActivated:
    pass


@dataclass(frozen=True)
class GoalClosed:
    outcome: GoalOutcome


@dataclass(frozen=True)
class KeyResultAdded:
    kr_id: UUID
    title: str
    unit: KeyResultUnit
    start: float
    target: float


@dataclass(frozen=True)
class KeyResultCheckedIn:
    kr_id: UUID
    value: float
    note: str


@dataclass(frozen=True)
class GoalRetitled:
    title: str


@dataclass(frozen=True)
class GoalParentChanged:
    parent_id: UUID | None


GoalEvent = (
    GoalCreated
    | GoalActivated
    | GoalClosed
    | KeyResultAdded
    | KeyResultCheckedIn
    | GoalRetitled
    | GoalParentChanged
)

# State


@dataclass(frozen=True)
class KeyResult:
    id: UUID
    title: str
    unit: KeyResultUnit
    start: float
    target: float
    current: float


@dataclass(frozen=True)
class Goal:
    id: UUID
    title: str
    owner_id: UUID
    team_id: UUID | None
    period_start: date
    period_end: date
    parent_id: UUID | None = None
    status: GoalStatus = "draft"
    key_results: tuple[KeyResult, ...] = ()


def find_key_result(goal: Goal, kr_id: UUID) -> KeyResult | None:
    """The goal's key result with id ``kr_id``, or ``None``."""
    return next((kr for kr in goal.key_results if kr.id == kr_id), None)


def key_result_progress(kr: KeyResult) -> float:
    """How far ``current`` has moved from ``start`` towards ``target``, clamped to [0, 1]."""
    return progress_between(kr.start, kr.target, kr.current)


def progress_between(start: float, target: float, current: float) -> float:
    """How far ``current`` has moved from ``start`` towards ``target``, clamped to [0, 1].

    Works for falling targets too (start 10, target 2). Total: a degenerate key result that
    could only come from a malformed history counts as no progress.
    """
    span = target - start
    done = current - start
    if math.isinf(span) or math.isinf(done):
        # The difference of two huge finite floats can overflow; halving every term can't,
        # and leaves the ratio unchanged.
        span = target / 2 - start / 2
        done = current / 2 - start / 2
    ratio = done / span if span != 0 else 0.0
    # ``<= 0`` also catches -0.0 (no move yet towards a falling target), shown as "-0" otherwise.
    if math.isnan(ratio) or ratio <= 0:
        return 0.0
    return min(ratio, 1.0)


def goal_progress(goal: Goal) -> float | None:
    """The mean progress of the goal's key results; ``None`` when it has none.

    With ``None`` the caller measures the goal by its linked work instead.
    """
    return mean_progress([key_result_progress(kr) for kr in goal.key_results])


def mean_progress(key_results: Sequence[float]) -> float | None:
    """A goal's progress from its key results' progress (``goal_progress``): their mean, or
    ``None`` when it has none."""
    return sum(key_results) / len(key_results) if key_results else None


def work_progress(
    done_count: int, count: int, done_estimate: float, estimate: float
) -> float | None:
    """A goal without key results measured by its linked work: the done share of the estimate,
    or of the issues when none is estimated; ``None`` when no work is linked."""
    if estimate > 0:
        return min(done_estimate / estimate, 1.0)
    if count > 0:
        return done_count / count
    return None


def _outcome(value: str) -> GoalOutcome:
    match value:
        case "achieved" | "missed" | "abandoned":
            return value
    raise InvalidInput("outcome must be achieved, missed or abandoned", field="outcome")


def _unit(value: str) -> KeyResultUnit:
    match value:
        case "number" | "percent" | "currency" | "boolean":
            return value
    raise InvalidInput("unit must be number, percent, currency or boolean", field="unit")


def _require_finite(value: float, field: str) -> float:
    if not math.isfinite(value):
        raise InvalidInput(f"{field} must be a finite number", field=field)
    return float(value)


def _check_parent(
    goal_id: UUID, parent_id: UUID | None, parent_chain: tuple[UUID, ...], parent_exists: bool
) -> None:
    if parent_id is None:
        return
    if parent_id == goal_id or goal_id in parent_chain:
        raise ParentCycle("a goal can't be aligned under itself", field="parent_id")
    if not parent_exists:
        raise NotFound("no such parent goal", field="parent_id")


def _key_result_added(command: AddKeyResult, state: Goal) -> KeyResultAdded:
    if state.status in CLOSED_STATUSES:
        raise InvalidTransition(f"the goal is {state.status}: no new key results")
    if find_key_result(state, command.kr_id) is not None:
        raise AlreadyExists("the key result exists already", field="kr_id")
    title = require_text(command.title, "title")
    unit = _unit(command.unit)
    start = _require_finite(command.start, "start")
    target = _require_finite(command.target, "target")
    if unit == "boolean":
        if start != 0:
            raise InvalidInput("a boolean key result starts at 0", field="start")
        if target != 1:
            raise InvalidInput("a boolean key result targets 1", field="target")
    if start == target:
        raise InvalidInput("target must differ from start", field="target")
    return KeyResultAdded(command.kr_id, title, unit, start, target)


def _checked_in(command: CheckInKeyResult, state: Goal) -> KeyResultCheckedIn:
    if state.status in CLOSED_STATUSES:
        raise InvalidTransition(f"the goal is {state.status}: no more check-ins")
    kr = find_key_result(state, command.kr_id)
    if kr is None:
        raise NotFound("no such key result", field="kr_id")
    value = _require_finite(command.value, "value")
    if kr.unit == "boolean" and value not in (0, 1):
        raise InvalidInput("a boolean key result is 0 or 1", field="value")
    return KeyResultCheckedIn(command.kr_id, value, command.note.strip())


def decide(command: GoalCommand, state: Goal | None, now: datetime) -> list[GoalEvent]:
    """The events that ``command`` causes on a goal in ``state`` (``None``: not created yet)."""
    if isinstance(command, CreateGoal):
        if state is not None:
            raise AlreadyExists("the goal exists already")
        title = require_text(command.title, "title")
        if command.period_end < command.period_start:
            raise InvalidInput("the period can't end before it starts", field="period_end")
        if not command.owner_active:
            raise MemberInactive("a deactivated member can't own a goal", field="owner_id")
        _check_parent(
            command.goal_id, command.parent_id, command.parent_chain, command.parent_exists
        )
        return [
            GoalCreated(
                command.goal_id,
                title,
                command.owner_id,
                command.team_id,
                command.period_start,
                command.period_end,
                command.parent_id,
            )
        ]
    if state is None:
        raise NotFound("no such goal")
    match command:
        case ActivateGoal():
            if state.status != "draft":
                raise InvalidTransition(f"only a draft goal can be activated, not {state.status}")
            return [GoalActivated()]
        case CloseGoal(outcome=raw):
            outcome = _outcome(raw)
            # A goal that never started can be dropped, but can't be judged achieved or missed.
            closable_from = ("active", "draft") if outcome == "abandoned" else ("active",)
            if state.status not in closable_from:
                raise InvalidTransition(f"a {state.status} goal can't become {outcome}")
            return [GoalClosed(outcome)]
        case AddKeyResult():
            return [_key_result_added(command, state)]
        case CheckInKeyResult():
            return [_checked_in(command, state)]
        case RetitleGoal(title=title):
            title = require_text(title, "title")
            return [] if title == state.title else [GoalRetitled(title)]
        case ChangeGoalParent(parent_id=parent_id):
            _check_parent(state.id, parent_id, command.parent_chain, command.parent_exists)
            return [] if parent_id == state.parent_id else [GoalParentChanged(parent_id)]
        case _:
            assert_never(command)


def evolve(state: Goal | None, event: GoalEvent) -> Goal | None:
    """The goal after ``event``. Total: an event is a fact and is never refused."""
    if isinstance(event, GoalCreated):
        return Goal(
            event.goal_id,
            event.title,
            event.owner_id,
            event.team_id,
            event.period_start,
            event.period_end,
            event.parent_id,
        )
    if state is None:
        return None
    match event:
        case GoalActivated():
            return replace(state, status="active")
        case GoalClosed(outcome=outcome):
            return replace(state, status=outcome)
        case KeyResultAdded(kr_id=kr_id, title=title, unit=unit, start=start, target=target):
            kr = KeyResult(kr_id, title, unit, start, target, current=start)
            others = tuple(k for k in state.key_results if k.id != kr_id)
            return replace(state, key_results=(*others, kr))
        case KeyResultCheckedIn(kr_id=kr_id, value=value):
            key_results = tuple(
                replace(kr, current=value) if kr.id == kr_id else kr for kr in state.key_results
            )
            return replace(state, key_results=key_results)
        case GoalRetitled(title=title):
            return replace(state, title=title)
        case GoalParentChanged(parent_id=parent_id):
            return replace(state, parent_id=parent_id)
        case _:
            assert_never(event)
