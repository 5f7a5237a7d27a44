"""The Jira converter's lines imported through the command API's importer: each line decided by
the same actions and deciders as a live command, at its original time."""

from __future__ import annotations

from pathlib import Path

from domain import issue
from services.app import build_runtime
from services.importing.jira import convert, load_export
from services.importing.lines import dump_lines
from services.infrastructure.codec import RecordedEvent
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from tests.conftest import FrozenClock

FIXTURES = Path(__file__).parent / "fixtures" / "jira"
V3 = FIXTURES / "cloud_v3_page.json"
V2 = FIXTURES / "cloud_v2_pages.json"


def test_imported_through_the_command_api_the_issues_keep_their_history(
    sqlite_backend: Backend, clock: FrozenClock, tmp_path: Path
) -> None:
    conversion = convert(load_export(V3))
    runtime = build_runtime(Settings(data_dir=tmp_path), clock=clock, backend=sqlite_backend)
    runtime.start()
    try:
        report = runtime.importer.run("jira-acme", dump_lines(conversion.lines))
        retried = runtime.importer.run("jira-acme", dump_lines(conversion.lines))
        history = {
            key: runtime.store.load(issue_id) for key, issue_id in conversion.issue_ids.items()
        }
    finally:
        runtime.stop()

    assert report.error is None, report.as_dict()
    assert (report.applied, retried.applied) == (len(conversion.lines), 0)
    states = {key: _folded(events) for key, events in history.items()}
    assert {key: state.status for key, state in states.items()} == {
        "PAY-1": "done",
        "PAY-2": "in_progress",
        "PAY-3": "done",
    }
    assert states["PAY-2"].parent_id == conversion.issue_ids["PAY-1"]
    assert states["PAY-3"].blocked_by == {conversion.issue_ids["PAY-1"]}
    pay1 = [
        (event.metadata.occurred_at.isoformat(), event.data.to_status)
        for event in history["PAY-1"]
        if isinstance(event.data, issue.IssueTransitioned)
    ]
    assert pay1 == [
        ("2024-01-08T08:00:00+00:00", "todo"),
        ("2024-01-09T09:00:00+00:00", "in_progress"),
        ("2024-01-20T15:00:00+00:00", "done"),
        ("2024-01-22T08:00:00+00:00", "todo"),
        ("2024-01-22T08:00:00+00:00", "in_progress"),
        ("2024-01-25T16:30:00+00:00", "done"),
    ]


def test_every_line_of_a_v2_export_is_accepted_by_the_importer(
    sqlite_backend: Backend, clock: FrozenClock, tmp_path: Path
) -> None:
    conversion = convert(load_export(V2))
    runtime = build_runtime(Settings(data_dir=tmp_path), clock=clock, backend=sqlite_backend)
    runtime.start()
    try:
        report = runtime.importer.run("jira-acme-ops", dump_lines(conversion.lines))
        ops1 = _folded(runtime.store.load(conversion.issue_ids["OPS-1"]))
    finally:
        runtime.stop()

    assert report.error is None, report.as_dict()
    assert report.applied == len(conversion.lines)
    assert (ops1.kind, ops1.status, ops1.priority) == ("incident", "done", "urgent")


def _folded(events: list[RecordedEvent]) -> issue.Issue:
    state: issue.Issue | None = None
    for event in events:
        state = issue.evolve(state, event.data)
    assert state is not None
    return state
