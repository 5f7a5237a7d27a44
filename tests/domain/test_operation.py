"""Operations: recurring work, its lifecycle, and the occurrences the scheduler adds."""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain import operation as op
from domain.cadence import Cadence, make_cadence
from domain.errors import (
    AlreadyExists,
    DomainError,
    InvalidInput,
    InvalidTransition,
    MemberInactive,
    NotFound,
    RuleViolation,
)
from tests.domain.spec import NOW, Spec

spec = Spec(op.decide, op.evolve)
OP = uuid4()
TEAM = uuid4()
OWNER = uuid4()
ALICE = uuid4()
BOB = uuid4()
TODAY = NOW.date()  # a Monday
MONDAYS = make_cadence("week", 1, (0,))

create = op.CreateOperation(
    OP,
    " Rotate certificates ",
    TEAM,
    OWNER,
    MONDAYS,
    TODAY,
    assignee_id=ALICE,
    runbook=(" Renew", "Deploy "),
    estimate=2.0,
)
created = op.OperationCreated(
    OP, "Rotate certificates", TEAM, OWNER, ALICE, MONDAYS, TODAY, None, ("Renew", "Deploy"), 2.0
)
paused = op.OperationPaused()
retired = op.OperationRetired()


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def scheduled(
    due: date, assignee_id: UUID | None = ALICE, estimate: float | None = 2.0
) -> op.OccurrenceScheduled:
    return op.OccurrenceScheduled(op.occurrence_id(OP, due), due, assignee_id, estimate)


def completed(due: date, note: str = "") -> op.OccurrenceCompleted:
    return op.OccurrenceCompleted(op.occurrence_id(OP, due), due, note)


def skipped(due: date, note: str = "") -> op.OccurrenceSkipped:
    return op.OccurrenceSkipped(op.occurrence_id(OP, due), due, note)


# Creating


def test_an_operation_is_created_with_a_trimmed_title_and_runbook() -> None:
    assert spec.given().when(create) == [created]


def test_a_weekly_cadence_without_weekdays_falls_on_the_start_dates_weekday() -> None:
    thursday = day(3)
    events = spec.given().when(replace(create, cadence=Cadence("week"), start_date=thursday))
    assert events == [replace(created, cadence=Cadence("week", 1, (3,)), start_date=thursday)]


def test_an_operation_can_not_be_created_twice() -> None:
    spec.given(created).rejects(create, AlreadyExists)


def test_an_operation_needs_a_title() -> None:
    error = spec.given().rejects(replace(create, title="  "), InvalidInput)
    assert error.field == "title"


def test_an_operation_needs_a_valid_cadence() -> None:
    error = spec.given().rejects(replace(create, cadence=Cadence("day", 0)), InvalidInput)
    assert error.field == "cadence.interval"


def test_an_operation_may_start_up_to_a_year_before_it_is_created() -> None:
    start = day(-op.MAX_DAYS_STARTED_BEFORE)
    events = spec.given().when(replace(create, cadence=Cadence("day"), start_date=start))
    assert events == [replace(created, cadence=Cadence("day"), start_date=start)]


def test_an_operation_can_not_start_further_back_than_a_year_before_it_is_created() -> None:
    for start in (day(-op.MAX_DAYS_STARTED_BEFORE - 1), date.min):
        error = spec.given().rejects(replace(create, start_date=start), InvalidInput)
        assert error.field == "start_date"


def test_an_operation_can_not_end_before_it_starts() -> None:
    error = spec.given().rejects(replace(create, end_date=day(-1)), InvalidInput)
    assert error.field == "end_date"


def test_an_operation_may_end_on_the_day_it_starts() -> None:
    assert spec.given().when(replace(create, end_date=TODAY)) == [replace(created, end_date=TODAY)]


def test_a_negative_estimate_is_refused() -> None:
    error = spec.given().rejects(replace(create, estimate=-1.0), InvalidInput)
    assert error.field == "estimate"


def test_runbook_items_must_not_be_empty() -> None:
    error = spec.given().rejects(replace(create, runbook=("Renew", " ")), InvalidInput)
    assert error.field == "runbook"


def test_a_deactivated_member_can_not_own_an_operation() -> None:
    error = spec.given().rejects(replace(create, owner_active=False), MemberInactive)
    assert error.field == "owner_id"


def test_a_deactivated_member_can_not_be_the_default_assignee() -> None:
    error = spec.given().rejects(replace(create, assignee_active=False), MemberInactive)
    assert error.field == "assignee_id"


def test_without_a_default_assignee_the_assignees_activity_does_not_matter() -> None:
    command = replace(create, assignee_id=None, assignee_active=False)
    assert spec.given().when(command) == [replace(created, assignee_id=None)]


def test_commands_on_a_missing_operation_are_not_found() -> None:
    spec.given().rejects(op.ScheduleOccurrences(day(30)), NotFound)


# Scheduling


def test_a_tick_schedules_each_due_date_up_to_until_with_the_current_assignee_and_estimate() -> (
    None
):
    assert spec.given(created).when(op.ScheduleOccurrences(day(14))) == [
        scheduled(day(0)),
        scheduled(day(7)),
        scheduled(day(14)),
    ]


def test_an_occurrence_id_follows_from_the_operation_and_the_due_date() -> None:
    assert op.occurrence_id(OP, day(7)) == op.occurrence_id(OP, day(7))
    assert op.occurrence_id(OP, day(7)) != op.occurrence_id(OP, day(14))
    assert op.occurrence_id(OP, day(7)) != op.occurrence_id(uuid4(), day(7))


def test_a_repeated_tick_schedules_nothing_twice() -> None:
    given = spec.given(created, scheduled(day(0)), scheduled(day(7)))
    assert given.when(op.ScheduleOccurrences(day(7))) == []
    assert given.when(op.ScheduleOccurrences(day(3))) == []


def test_a_tick_continues_after_the_last_scheduled_due_date() -> None:
    given = spec.given(created, scheduled(day(0)), scheduled(day(7)))
    assert given.when(op.ScheduleOccurrences(day(20))) == [scheduled(day(14))]


def test_retiring_an_operation_skips_what_was_still_scheduled() -> None:
    given = spec.given(created, scheduled(day(0)), scheduled(day(7)), completed(day(0)))
    assert given.when(op.RetireOperation()) == [
        retired,
        skipped(day(7), op.RETIRED_NOTE),
    ]


def test_a_long_backfill_is_spread_over_several_ticks() -> None:
    daily = replace(created, cadence=make_cadence("day"), start_date=day(-2000))
    first = spec.given(daily).when(op.ScheduleOccurrences(day(0)))
    assert len(first) == op.MAX_OCCURRENCES_PER_TICK
    assert first[-1].due_date == day(-2000 + op.MAX_OCCURRENCES_PER_TICK - 1)
    second = spec.given(daily, *first).when(op.ScheduleOccurrences(day(0)))
    assert second[0].due_date == day(-2000 + op.MAX_OCCURRENCES_PER_TICK)


def test_nothing_is_scheduled_before_the_start_date() -> None:
    given = spec.given(replace(created, start_date=day(10)))
    assert given.when(op.ScheduleOccurrences(day(21))) == [scheduled(day(14)), scheduled(day(21))]


def test_nothing_is_scheduled_after_the_end_date() -> None:
    given = spec.given(replace(created, end_date=day(10)))
    assert given.when(op.ScheduleOccurrences(day(60))) == [scheduled(day(0)), scheduled(day(7))]


def test_a_paused_operation_schedules_nothing() -> None:
    assert spec.given(created, paused).when(op.ScheduleOccurrences(day(30))) == []


def test_a_retired_operation_schedules_nothing() -> None:
    assert spec.given(created, retired).when(op.ScheduleOccurrences(day(30))) == []


def test_due_dates_that_passed_while_paused_are_not_caught_up() -> None:
    given = spec.given(created, scheduled(day(0)), paused, op.OperationResumed(day(15)))
    assert given.when(op.ScheduleOccurrences(day(28))) == [scheduled(day(21)), scheduled(day(28))]


def test_a_due_date_on_the_day_of_resuming_is_scheduled() -> None:
    given = spec.given(created, scheduled(day(0)), paused, op.OperationResumed(day(14)))
    assert given.when(op.ScheduleOccurrences(day(14))) == [scheduled(day(14))]


def test_an_occurrence_that_is_still_scheduled_after_its_due_date_is_late() -> None:
    state = spec.state(created, scheduled(day(0)), scheduled(day(7)), completed(day(7)))
    assert state is not None
    first, second = state.occurrences[day(0)], state.occurrences[day(7)]
    assert not op.is_late(first, day(0))
    assert op.is_late(first, day(1))
    assert not op.is_late(second, day(8))


def test_a_skipped_occurrence_is_never_late() -> None:
    state = spec.state(created, scheduled(day(0)), skipped(day(0)))
    assert state is not None
    assert not op.is_late(state.occurrences[day(0)], day(30))


# Cadence changes


def test_a_cadence_change_takes_effect_from_tomorrow_when_nothing_is_scheduled_ahead() -> None:
    daily = make_cadence("day")
    given = spec.given(created, scheduled(day(0)))
    assert given.when(op.ChangeCadence(daily)) == [op.OperationCadenceChanged(daily, day(1))]


def test_a_cadence_change_takes_effect_after_the_last_scheduled_occurrence() -> None:
    daily = make_cadence("day")
    given = spec.given(created, scheduled(day(0)), scheduled(day(7)))
    assert given.when(op.ChangeCadence(daily)) == [op.OperationCadenceChanged(daily, day(8))]


def test_a_cadence_change_before_the_start_takes_effect_from_the_start() -> None:
    daily = make_cadence("day")
    given = spec.given(replace(created, start_date=day(10)))
    assert given.when(op.ChangeCadence(daily)) == [op.OperationCadenceChanged(daily, day(10))]
    state = spec.state(
        replace(created, start_date=day(10)), op.OperationCadenceChanged(daily, day(10))
    )
    assert state is not None
    assert state.segments == (op.CadenceSegment(daily, day(10)),)


def test_a_cadence_change_keeps_scheduled_occurrences_and_applies_to_later_ones() -> None:
    fridays = make_cadence("week", 1, (4,))
    given = spec.given(
        created,
        scheduled(day(0)),
        scheduled(day(7)),
        op.OperationCadenceChanged(fridays, day(8)),
    )
    assert given.when(op.ScheduleOccurrences(day(25))) == [
        scheduled(day(11)),
        scheduled(day(18)),
        scheduled(day(25)),
    ]
    state = spec.state(created, scheduled(day(0)), scheduled(day(7)))
    assert state is not None
    after = spec.state(
        created, scheduled(day(0)), scheduled(day(7)), op.OperationCadenceChanged(fridays, day(8))
    )
    assert after is not None
    assert after.occurrences == state.occurrences


def test_a_cadence_change_leaves_due_dates_before_it_on_the_old_cadence() -> None:
    daily = make_cadence("day")
    given = spec.given(created, op.OperationCadenceChanged(daily, day(10)))
    assert given.when(op.ScheduleOccurrences(day(12))) == [
        scheduled(day(0)),
        scheduled(day(7)),
        scheduled(day(10)),
        scheduled(day(11)),
        scheduled(day(12)),
    ]


def test_a_second_cadence_change_before_the_first_takes_effect_replaces_it() -> None:
    daily = make_cadence("day")
    fortnightly = make_cadence("week", 2, (0,))
    state = spec.state(
        created,
        op.OperationCadenceChanged(daily, day(1)),
        op.OperationCadenceChanged(fortnightly, day(1)),
    )
    assert state is not None
    assert state.segments == (
        op.CadenceSegment(MONDAYS, TODAY),
        op.CadenceSegment(fortnightly, day(1)),
    )
    assert state.cadence == fortnightly


def test_a_weekly_cadence_change_counts_its_weeks_from_when_it_takes_effect() -> None:
    every_other_wednesday = make_cadence("week", 2, (2,))
    given = spec.given(created, op.OperationCadenceChanged(every_other_wednesday, day(1)))
    assert given.when(op.ScheduleOccurrences(day(30))) == [
        scheduled(day(0)),
        scheduled(day(2)),
        scheduled(day(16)),
        scheduled(day(30)),
    ]


def test_changing_to_the_current_cadence_changes_nothing() -> None:
    assert spec.given(created).when(op.ChangeCadence(MONDAYS)) == []


def test_an_invalid_cadence_change_is_refused() -> None:
    error = spec.given(created).rejects(op.ChangeCadence(Cadence("month")), InvalidInput)
    assert error.field == "cadence.day_of_month"


def test_a_retired_operations_cadence_can_not_change() -> None:
    spec.given(created, retired).rejects(op.ChangeCadence(make_cadence("day")), RuleViolation)


def test_a_paused_operations_cadence_can_change() -> None:
    daily = make_cadence("day")
    assert spec.given(created, paused).when(op.ChangeCadence(daily)) == [
        op.OperationCadenceChanged(daily, day(1))
    ]


# Lifecycle


def test_an_active_operation_is_paused() -> None:
    assert spec.given(created).when(op.PauseOperation()) == [paused]


def test_a_paused_operation_resumes_today() -> None:
    assert spec.given(created, paused).when(op.ResumeOperation()) == [op.OperationResumed(TODAY)]


def test_an_active_or_paused_operation_is_retired() -> None:
    assert spec.given(created).when(op.RetireOperation()) == [retired]
    assert spec.given(created, paused).when(op.RetireOperation()) == [retired]


def test_moves_outside_the_lifecycle_are_invalid_transitions() -> None:
    spec.given(created).rejects(op.ResumeOperation(), InvalidTransition)
    spec.given(created, paused).rejects(op.PauseOperation(), InvalidTransition)
    spec.given(created, retired).rejects(op.PauseOperation(), InvalidTransition)
    spec.given(created, retired).rejects(op.ResumeOperation(), InvalidTransition)
    spec.given(created, retired).rejects(op.RetireOperation(), InvalidTransition)


# Occurrences


def test_a_scheduled_occurrence_is_completed_with_a_note() -> None:
    given = spec.given(created, scheduled(day(0)))
    assert given.when(op.CompleteOccurrence(day(0), "all renewed")) == [
        completed(day(0), "all renewed")
    ]


def test_a_scheduled_occurrence_is_skipped_with_a_note() -> None:
    given = spec.given(created, scheduled(day(0)))
    assert given.when(op.SkipOccurrence(day(0), "freeze week")) == [skipped(day(0), "freeze week")]


def test_an_occurrence_that_was_never_scheduled_is_not_found() -> None:
    given = spec.given(created, scheduled(day(0)))
    assert given.rejects(op.CompleteOccurrence(day(7)), NotFound).field == "due_date"
    assert given.rejects(op.SkipOccurrence(day(1)), NotFound).field == "due_date"


def test_a_settled_occurrence_can_not_be_completed_or_skipped_again() -> None:
    done = spec.given(created, scheduled(day(0)), completed(day(0)))
    done.rejects(op.CompleteOccurrence(day(0)), InvalidTransition)
    done.rejects(op.SkipOccurrence(day(0)), InvalidTransition)
    passed = spec.given(created, scheduled(day(0)), skipped(day(0)))
    passed.rejects(op.CompleteOccurrence(day(0)), InvalidTransition)
    passed.rejects(op.SkipOccurrence(day(0)), InvalidTransition)


def test_occurrences_scheduled_before_a_pause_can_still_be_completed() -> None:
    given = spec.given(created, scheduled(day(0)), paused)
    assert given.when(op.CompleteOccurrence(day(0))) == [completed(day(0))]


# Assignee and runbook


def test_occurrences_keep_the_assignee_they_were_scheduled_with() -> None:
    given = spec.given(created, scheduled(day(0)))
    assert given.when(op.ChangeOperationAssignee(BOB)) == [op.OperationAssigneeChanged(BOB)]
    state = spec.state(created, scheduled(day(0)), op.OperationAssigneeChanged(BOB))
    assert state is not None
    assert state.occurrences[day(0)].assignee_id == ALICE
    later = spec.given(created, scheduled(day(0)), op.OperationAssigneeChanged(BOB))
    assert later.when(op.ScheduleOccurrences(day(7))) == [scheduled(day(7), BOB)]


def test_the_default_assignee_can_be_removed() -> None:
    assert spec.given(created).when(op.ChangeOperationAssignee(None)) == [
        op.OperationAssigneeChanged(None)
    ]


def test_reassigning_to_the_same_member_changes_nothing() -> None:
    assert spec.given(created).when(op.ChangeOperationAssignee(ALICE)) == []


def test_a_deactivated_member_can_not_become_the_default_assignee() -> None:
    error = spec.given(created).rejects(
        op.ChangeOperationAssignee(BOB, assignee_active=False), MemberInactive
    )
    assert error.field == "assignee_id"


def test_a_retired_operation_can_not_be_reassigned() -> None:
    spec.given(created, retired).rejects(op.ChangeOperationAssignee(BOB), RuleViolation)


def test_the_runbook_is_edited_with_trimmed_items() -> None:
    assert spec.given(created).when(op.EditRunbook((" Renew", "Deploy", "Verify"))) == [
        op.RunbookEdited(("Renew", "Deploy", "Verify"))
    ]


def test_an_unchanged_runbook_changes_nothing() -> None:
    assert spec.given(created).when(op.EditRunbook(("Renew", "Deploy"))) == []


def test_runbook_edits_refuse_empty_items() -> None:
    error = spec.given(created).rejects(op.EditRunbook(("Renew", "")), InvalidInput)
    assert error.field == "items"


def test_a_retired_operations_runbook_can_not_be_edited() -> None:
    spec.given(created, retired).rejects(op.EditRunbook(("Renew",)), RuleViolation)


def test_evolve_builds_the_state() -> None:
    daily = make_cadence("day")
    state = spec.state(
        created,
        scheduled(day(0)),
        completed(day(0), "done"),
        op.OperationCadenceChanged(daily, day(1)),
        op.OperationAssigneeChanged(BOB),
        op.RunbookEdited(("Renew",)),
        paused,
        op.OperationResumed(day(3)),
    )
    assert state == op.Operation(
        OP,
        "Rotate certificates",
        TEAM,
        OWNER,
        BOB,
        TODAY,
        None,
        ("Renew",),
        2.0,
        segments=(op.CadenceSegment(MONDAYS, TODAY), op.CadenceSegment(daily, day(1))),
        status="active",
        schedule_from=day(3),
        last_due=day(0),
        occurrences={
            day(0): op.Occurrence(
                op.occurrence_id(OP, day(0)), day(0), ALICE, 2.0, "completed", "done"
            )
        },
    )


def test_events_for_a_missing_operation_or_occurrence_leave_the_state_alone() -> None:
    assert spec.state(paused) is None
    state = spec.state(created)
    assert spec.state(created, completed(day(0))) == state


# Properties


@dataclass(frozen=True)
class Advance:
    days: int


@dataclass(frozen=True)
class Settle:
    index: int
    complete: bool


Step = (
    op.ScheduleOccurrences
    | op.ChangeCadence
    | op.PauseOperation
    | op.ResumeOperation
    | Advance
    | Settle
)

cadences = st.one_of(
    st.builds(make_cadence, st.just("day"), st.integers(1, 10)),
    st.builds(
        make_cadence,
        st.just("week"),
        st.integers(1, 4),
        st.lists(st.integers(0, 6), max_size=7).map(tuple),
    ),
    st.builds(make_cadence, st.just("month"), st.integers(1, 4), st.just(()), st.integers(1, 31)),
)
steps: st.SearchStrategy[Step] = st.one_of(
    st.builds(op.ScheduleOccurrences, st.integers(-30, 400).map(day)),
    st.builds(op.ChangeCadence, cadences),
    st.just(op.PauseOperation()),
    st.just(op.ResumeOperation()),
    st.builds(Advance, st.integers(0, 45)),
    st.builds(Settle, st.integers(0, 1000), st.booleans()),
)


@given(cadences, st.integers(-60, 60), st.lists(steps, max_size=40))
def test_no_sequence_of_commands_schedules_an_occurrence_twice(
    cadence: Cadence, start: int, plan: list[Step]
) -> None:
    state = op.evolve(None, replace(created, cadence=cadence, start_date=day(start)))
    now = NOW
    history: list[op.OperationEvent] = []
    for step in plan:
        assert state is not None
        command: op.OperationCommand
        if isinstance(step, Advance):
            now += timedelta(days=step.days)
            continue
        if isinstance(step, Settle):
            if not state.occurrences:
                continue
            due = sorted(state.occurrences)[step.index % len(state.occurrences)]
            settle = op.CompleteOccurrence if step.complete else op.SkipOccurrence
            command = settle(due)
        else:
            command = step
        try:
            events = op.decide(command, state, now)
        except DomainError:
            continue
        for event in events:
            state = op.evolve(state, event)
        history.extend(events)
    assert state is not None
    schedule = [event for event in history if isinstance(event, op.OccurrenceScheduled)]
    dues = [event.due_date for event in schedule]
    assert dues == sorted(set(dues))
    assert len({event.occurrence_id for event in schedule}) == len(schedule)
    assert all(event.occurrence_id == op.occurrence_id(OP, event.due_date) for event in schedule)
    assert all(due >= day(start) for due in dues)
    assert set(state.occurrences) == set(dues)
