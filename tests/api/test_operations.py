"""Operations (recurring work) and the scheduler tick over HTTP.

The clock is frozen at Monday 2026-03-02 09:00 UTC, and the default horizon is 14 days, so a
tick without ``until`` schedules every due date up to 2026-03-16.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from domain.cadence import Cadence
from domain.operation import OccurrenceCompleted, OperationCreated, occurrence_id
from services.app import Runtime, build_runtime
from services.infrastructure.settings import Settings
from tests.api.conftest import Org
from tests.api.helpers import (
    Headers,
    assert_accepted,
    assert_problem,
    assert_recorded_by,
    concurrently,
    create_member,
    create_operation,
    events_after,
    last_position,
    log,
    of_type,
    operation_body,
    stream,
    types,
    unknown_id,
)
from tests.conftest import FrozenClock, wait_until

TODAY = date(2026, 3, 2)


def days(first: date, last: date, step: int = 1) -> list[date]:
    return [first + timedelta(days=n) for n in range(0, (last - first).days + 1, step)]


def tick(client: TestClient, headers: Headers, until: str | None = None) -> dict[str, Any]:
    body = {} if until is None else {"until": until}
    response = client.post("/v1/operations/tick", json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def scheduled_dates(runtime: Runtime, operation_id: str) -> list[date]:
    return [e.data.due_date for e in of_type(stream(runtime, operation_id), "OccurrenceScheduled")]


# Commands


def test_creating_an_operation_answers_201_and_records_its_cadence(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org, now: datetime
) -> None:
    before = last_position(runtime)

    response = client.post(
        "/v1/operations",
        json=operation_body(
            org.team_id,
            org.member_id,
            {"every": "week", "interval": 2},
            assignee_id=org.member_id,
            end_date="2026-12-31",
            runbook=["Export", "Compare"],
            estimate=2,
        ),
        headers=admin,
    )

    body = assert_accepted(response, 201)
    assert body["version"] == 1
    [event] = events_after(runtime, before)
    created = event.data
    assert isinstance(created, OperationCreated)
    assert created.operation_id == UUID(body["id"])
    assert created.title == "Reconcile the ledger"
    assert (created.team_id, created.owner_id, created.assignee_id) == (
        UUID(org.team_id),
        UUID(org.member_id),
        UUID(org.member_id),
    )
    # A weekly cadence without weekdays falls on the weekday of its start: Monday.
    assert created.cadence == Cadence("week", 2, (0,), None)
    assert (created.start_date, created.end_date) == (TODAY, date(2026, 12, 31))
    assert (created.runbook, created.estimate) == (("Export", "Compare"), 2)
    assert_recorded_by([event], "system", now)


def test_updating_an_operation_changes_its_assignee_and_runbook(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    before = last_position(runtime)

    response = client.patch(
        f"/v1/operations/{operation_id}",
        json={"assignee_id": org.member_id, "runbook": ["Export", "Sign off"]},
        headers=admin,
    )

    assert assert_accepted(response, 200)["version"] == 3
    events = events_after(runtime, before)
    assert types(events) == ["OperationAssigneeChanged", "RunbookEdited"]
    assert events[0].data.assignee_id == UUID(org.member_id)
    assert events[1].data.items == ("Export", "Sign off")


def test_changing_the_cadence_takes_effect_from_tomorrow(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    before = last_position(runtime)

    response = client.put(
        f"/v1/operations/{operation_id}/cadence",
        json={"cadence": {"every": "month", "day_of_month": 31}},
        headers=admin,
    )

    assert assert_accepted(response, 200)["version"] == 2
    [event] = events_after(runtime, before)
    assert event.type == "OperationCadenceChanged"
    assert event.data.cadence == Cadence("month", 1, (), 31)
    assert event.data.effective_from == date(2026, 3, 3)


def test_pausing_resuming_and_retiring_an_operation_records_each_move(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org, now: datetime
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    before = last_position(runtime)

    answers = [
        client.post(f"/v1/operations/{operation_id}/{move}", headers=admin)
        for move in ("pause", "resume", "retire")
    ]

    assert [assert_accepted(a, 200)["version"] for a in answers] == [2, 3, 4]
    events = events_after(runtime, before)
    assert types(events) == ["OperationPaused", "OperationResumed", "OperationRetired"]
    assert events[1].data.resumed_on == TODAY
    assert_recorded_by(events[:1], "system", now)


def test_completing_an_occurrence_records_it_with_its_deterministic_id(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org, member: Headers
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    tick(client, admin)
    before = last_position(runtime)

    response = client.post(
        f"/v1/operations/{operation_id}/occurrences/2026-03-03/complete",
        json={"note": "all balanced"},
        headers=member,
    )

    body = assert_accepted(response, 200)
    expected_id = occurrence_id(UUID(operation_id), date(2026, 3, 3))
    assert body["occurrence_id"] == str(expected_id)
    assert body["version"] == 1 + 15 + 1
    [event] = events_after(runtime, before)
    assert isinstance(event.data, OccurrenceCompleted)
    assert (event.data.occurrence_id, event.data.due_date, event.data.note) == (
        expected_id,
        date(2026, 3, 3),
        "all balanced",
    )
    assert event.metadata.actor == org.member_id


def test_skipping_an_occurrence_records_occurrence_skipped(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    tick(client, admin)
    before = last_position(runtime)

    response = client.post(
        f"/v1/operations/{operation_id}/occurrences/2026-03-02/skip",
        json={"note": "bank holiday"},
        headers=admin,
    )

    assert_accepted(response, 200)
    [event] = events_after(runtime, before)
    assert event.type == "OccurrenceSkipped"
    assert (event.data.due_date, event.data.note) == (TODAY, "bank holiday")


# The tick


def test_a_tick_schedules_every_due_date_up_to_the_14_day_horizon(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org, now: datetime
) -> None:
    daily = create_operation(client, admin, org.team_id, org.member_id, assignee_id=org.member_id)
    weekly = create_operation(
        client, admin, org.team_id, org.member_id, {"every": "week", "weekdays": ["thursday"]}
    )
    before = last_position(runtime)

    answer = tick(client, admin)

    events = events_after(runtime, before)
    assert answer == {"operations": 2, "scheduled": 17, "position": events[-1].position}
    assert scheduled_dates(runtime, daily) == days(TODAY, date(2026, 3, 16))
    assert scheduled_dates(runtime, weekly) == [date(2026, 3, 5), date(2026, 3, 12)]
    first = events[0].data
    assert first.occurrence_id == occurrence_id(UUID(daily), TODAY)
    assert first.assignee_id == UUID(org.member_id)
    assert set(types(events)) == {"OccurrenceScheduled"}
    assert all(e.metadata.actor == "system" for e in events)
    assert all(e.metadata.occurred_at == now for e in events)


def test_a_second_tick_schedules_nothing_new(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    create_operation(client, admin, org.team_id, org.member_id)
    tick(client, admin)
    before = last_position(runtime)

    answer = tick(client, admin)

    assert answer["scheduled"] == 0
    assert answer["operations"] == 1
    assert events_after(runtime, before) == []


def test_a_tick_retried_with_its_idempotency_key_answers_as_the_first_did(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    create_operation(client, admin, org.team_id, org.member_id)
    headers = {**admin, "Idempotency-Key": "tick-2026-03-02"}
    first = client.post("/v1/operations/tick", json={}, headers=headers)
    before = last_position(runtime)

    retried = client.post("/v1/operations/tick", json={}, headers=headers)

    assert (first.status_code, retried.status_code) == (200, 200)
    assert first.json()["scheduled"] == 15
    assert retried.json() == first.json()
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert events_after(runtime, before) == []


def test_a_tick_reusing_an_idempotency_key_with_another_until_is_422_and_schedules_nothing(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    create_operation(client, admin, org.team_id, org.member_id)
    headers = {**admin, "Idempotency-Key": "tick"}
    client.post("/v1/operations/tick", json={"until": "2026-03-04"}, headers=headers)
    before = last_position(runtime)

    response = client.post("/v1/operations/tick", json={"until": "2026-03-10"}, headers=headers)

    assert_problem(response, 422, "idempotency_key_reused")
    assert events_after(runtime, before) == []


def test_a_tick_with_until_schedules_up_to_that_day(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)

    answer = tick(client, admin, until="2026-03-04")

    assert answer["scheduled"] == 3
    assert scheduled_dates(runtime, operation_id) == days(TODAY, date(2026, 3, 4))


def test_a_tick_may_look_a_year_ahead(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    operation_id = create_operation(
        client, admin, org.team_id, org.member_id, {"every": "month", "day_of_month": 2}
    )

    answer = tick(client, admin, until="2027-03-02")

    assert answer["scheduled"] == 13
    assert scheduled_dates(runtime, operation_id)[-1] == date(2027, 3, 2)


def test_a_tick_more_than_a_year_ahead_is_422_naming_until_and_schedules_nothing(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    create_operation(client, admin, org.team_id, org.member_id)
    before = last_position(runtime)

    response = client.post("/v1/operations/tick", json={"until": "2027-03-04"}, headers=admin)

    assert_problem(response, 422, "validation_error", field="until")
    assert events_after(runtime, before) == []


def test_a_tick_skips_paused_and_retired_operations(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    paused = create_operation(client, admin, org.team_id, org.member_id)
    retired = create_operation(client, admin, org.team_id, org.member_id)
    client.post(f"/v1/operations/{paused}/pause", headers=admin)
    client.post(f"/v1/operations/{retired}/retire", headers=admin)

    answer = tick(client, admin)

    assert answer["scheduled"] == 0
    assert of_type(log(runtime), "OccurrenceScheduled") == []


def test_a_cadence_change_leaves_scheduled_occurrences_and_shapes_only_later_ones(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    tick(client, admin)

    changed = client.put(
        f"/v1/operations/{operation_id}/cadence",
        json={"cadence": {"every": "week"}},
        headers=admin,
    )
    tick(client, admin, until="2026-03-31")

    assert_accepted(changed, 200)
    [change] = of_type(stream(runtime, operation_id), "OperationCadenceChanged")
    assert change.data.effective_from == date(2026, 3, 17)
    assert scheduled_dates(runtime, operation_id) == [
        *days(TODAY, date(2026, 3, 16)),
        *days(date(2026, 3, 17), date(2026, 3, 31), step=7),
    ]


def test_concurrent_ticks_never_schedule_an_occurrence_twice(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    operations = [create_operation(client, admin, org.team_id, org.member_id) for _ in range(3)]

    answers = concurrently(8, lambda _: client.post("/v1/operations/tick", json={}, headers=admin))

    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    assert sum(a.json()["scheduled"] for a in answers) == 3 * 15
    scheduled = of_type(log(runtime), "OccurrenceScheduled")
    per_due_date = Counter((e.stream_id, e.data.due_date) for e in scheduled)
    assert len(per_due_date) == 3 * 15
    assert set(per_due_date.values()) == {1}
    for operation_id in operations:
        assert scheduled_dates(runtime, operation_id) == days(TODAY, date(2026, 3, 16))


def _ticking(runtime: Runtime, clock: FrozenClock, tmp_path: Path, count: int) -> list[Runtime]:
    """``count`` more runtimes on the same log whose schedulers tick on their own timers, as
    several ``workledger worker`` or ``serve`` processes would: each its own command handler,
    stream cache and committer."""
    settings = Settings(data_dir=tmp_path, scheduler_interval_seconds=0.02)
    return [
        build_runtime(
            settings,
            clock=clock,
            backend=runtime.backend,
            run_scheduler=True,
            run_workers=False,
            views=(),
        )
        for _ in range(count)
    ]


def test_schedulers_ticking_on_their_timers_in_several_processes_schedule_each_occurrence_once(
    client: TestClient,
    admin: Headers,
    runtime: Runtime,
    org: Org,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    operations = [create_operation(client, admin, org.team_id, org.member_id) for _ in range(2)]
    schedulers = _ticking(runtime, clock, tmp_path, 3)
    for scheduler in schedulers:
        scheduler.start()
    try:
        horizon = days(TODAY, date(2026, 3, 16))
        wait_until(
            lambda: all(scheduled_dates(runtime, o) == horizon for o in operations),
            timeout=20,
            what="every occurrence up to the horizon is scheduled",
        )
        # Each timer ticks again and again over the same days, and finds nothing new.
        ticks_before = last_position(runtime)
        time.sleep(0.3)
        assert last_position(runtime) == ticks_before
    finally:
        for scheduler in schedulers:
            scheduler.stop()

    scheduled = of_type(log(runtime), "OccurrenceScheduled")
    assert len(scheduled) == 2 * 15
    assert set(Counter((e.stream_id, e.data.due_date) for e in scheduled).values()) == {1}
    assert {e.metadata.actor for e in scheduled} == {"system:scheduler"}


def test_a_scheduler_ticking_on_its_timer_follows_the_clock_into_new_days(
    client: TestClient,
    admin: Headers,
    runtime: Runtime,
    org: Org,
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    (scheduler,) = _ticking(runtime, clock, tmp_path, 1)
    scheduler.start()
    try:
        wait_until(lambda: scheduled_dates(runtime, operation_id)[-1:] == [date(2026, 3, 16)], 20)
        clock.advance(timedelta(days=2))
        wait_until(lambda: scheduled_dates(runtime, operation_id)[-1:] == [date(2026, 3, 18)], 20)
    finally:
        scheduler.stop()

    assert scheduled_dates(runtime, operation_id) == days(TODAY, date(2026, 3, 18))


def test_a_member_may_not_tick_the_scheduler(
    client: TestClient, runtime: Runtime, org: Org, member: Headers
) -> None:
    response = client.post("/v1/operations/tick", json={}, headers=member)

    assert_problem(response, 403, "forbidden")


def test_a_tick_without_a_body_uses_the_default_horizon(
    client: TestClient, admin: Headers, org: Org
) -> None:
    create_operation(client, admin, org.team_id, org.member_id)

    response = client.post("/v1/operations/tick", headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["scheduled"] == 15


def test_completing_an_occurrence_without_a_body_completes_it_without_a_note(
    client: TestClient, admin: Headers, org: Org
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    tick(client, admin)

    response = client.post(
        f"/v1/operations/{operation_id}/occurrences/2026-03-02/complete", headers=admin
    )

    assert_accepted(response, 200)


# Refusals


def test_completing_an_occurrence_twice_is_409_invalid_transition(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    tick(client, admin)
    path = f"/v1/operations/{operation_id}/occurrences/2026-03-02"
    assert_accepted(client.post(f"{path}/complete", json={}, headers=admin), 200)
    before = last_position(runtime)

    completed = client.post(f"{path}/complete", json={}, headers=admin)
    skipped = client.post(f"{path}/skip", json={}, headers=admin)

    assert_problem(completed, 409, "invalid_transition")
    assert_problem(skipped, 409, "invalid_transition")
    assert events_after(runtime, before) == []


def test_completing_an_occurrence_that_is_not_scheduled_is_404_naming_due_date(
    client: TestClient, admin: Headers, org: Org
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    tick(client, admin)

    response = client.post(
        f"/v1/operations/{operation_id}/occurrences/2026-04-30/complete", json={}, headers=admin
    )

    assert_problem(response, 404, "not_found", field="due_date")


def test_an_occurrence_date_that_is_not_a_date_is_422_naming_due_date(
    client: TestClient, admin: Headers, org: Org
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)

    response = client.post(
        f"/v1/operations/{operation_id}/occurrences/tomorrow/skip", json={}, headers=admin
    )

    assert_problem(response, 422, "validation_error", field="due_date")


def test_pausing_a_paused_operation_is_409_invalid_transition(
    client: TestClient, admin: Headers, org: Org
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    client.post(f"/v1/operations/{operation_id}/pause", headers=admin)

    response = client.post(f"/v1/operations/{operation_id}/pause", headers=admin)

    assert_problem(response, 409, "invalid_transition")


def test_resuming_a_retired_operation_is_409_invalid_transition(
    client: TestClient, admin: Headers, org: Org
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    client.post(f"/v1/operations/{operation_id}/retire", headers=admin)

    response = client.post(f"/v1/operations/{operation_id}/resume", headers=admin)

    assert_problem(response, 409, "invalid_transition")


def test_changing_the_cadence_of_a_retired_operation_is_409_conflict(
    client: TestClient, admin: Headers, org: Org
) -> None:
    operation_id = create_operation(client, admin, org.team_id, org.member_id)
    client.post(f"/v1/operations/{operation_id}/retire", headers=admin)

    response = client.put(
        f"/v1/operations/{operation_id}/cadence", json={"cadence": {"every": "week"}}, headers=admin
    )

    assert_problem(response, 409, "conflict")


def test_a_command_on_an_unknown_operation_is_404_naming_operation_id(
    client: TestClient, admin: Headers
) -> None:
    response = client.post(f"/v1/operations/{unknown_id()}/pause", headers=admin)

    assert_problem(response, 404, "not_found", field="operation_id")


def test_malformed_cadences_are_422_naming_the_cadence_field(
    client: TestClient, admin: Headers, org: Org
) -> None:
    cases: dict[str, dict[str, Any]] = {
        "cadence.day_of_month": {"every": "month"},
        "cadence.weekdays": {"every": "day", "weekdays": ["monday"]},
        "cadence.interval": {"every": "day", "interval": 0},
        "cadence.every": {"every": "fortnight"},
        "cadence.weekdays.0": {"every": "week", "weekdays": ["someday"]},
    }

    for field, cadence in cases.items():
        body = operation_body(org.team_id, org.member_id, cadence)

        response = client.post("/v1/operations", json=body, headers=admin)

        assert_problem(response, 422, "validation_error", field=field)


def test_an_operation_ending_before_it_starts_is_422_naming_end_date(
    client: TestClient, admin: Headers, org: Org
) -> None:
    body = operation_body(org.team_id, org.member_id, end_date="2026-03-01")

    response = client.post("/v1/operations", json=body, headers=admin)

    assert_problem(response, 422, "validation_error", field="end_date")


def test_unknown_ids_in_the_body_of_a_new_operation_are_404_naming_the_field(
    client: TestClient, admin: Headers, runtime: Runtime, org: Org
) -> None:
    cases = {
        "team_id": operation_body(unknown_id(), org.member_id),
        "owner_id": operation_body(org.team_id, unknown_id()),
        "assignee_id": operation_body(org.team_id, org.member_id, assignee_id=unknown_id()),
    }
    before = last_position(runtime)

    for field, body in cases.items():
        response = client.post("/v1/operations", json=body, headers=admin)

        assert_problem(response, 404, "not_found", field=field)
    assert events_after(runtime, before) == []


def test_an_operation_for_a_deactivated_assignee_is_409_member_deactivated(
    client: TestClient, admin: Headers, org: Org
) -> None:
    gone_id = create_member(client, admin)
    client.post(f"/v1/members/{gone_id}/deactivate", headers=admin)
    body = operation_body(org.team_id, org.member_id, assignee_id=gone_id)

    response = client.post("/v1/operations", json=body, headers=admin)

    assert_problem(response, 409, "member_deactivated", field="assignee_id")
