"""The command line's history commands: `import FILE`, `import jira FILE` and `demo`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import orjson
import pytest

from services.app import make_codec, open_backend
from services.cli import main
from services.importing.lines import dump_lines, line
from services.infrastructure.settings import Settings
from services.infrastructure.store import EventStore

FIXTURES = Path(__file__).resolve().parent.parent / "importing" / "fixtures" / "jira"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty SQLite store, named by the settings as an operator's shell would."""
    monkeypatch.delenv("WORKLEDGER_DATABASE_URL", raising=False)
    monkeypatch.delenv("WORKLEDGER_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("WORKLEDGER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _events(data_dir: Path) -> list[tuple[str, datetime]]:
    backend = open_backend(Settings(data_dir=data_dir))
    try:
        store = EventStore(backend, make_codec())
        return [
            (type(event.data).__name__, event.metadata.occurred_at)
            for event in store.read(0, 1_000_000)
        ]
    finally:
        backend.close()


def _history_file(path: Path, *, broken_at: int | None = None) -> list[datetime]:
    start = datetime(2025, 5, 5, 9, tzinfo=UTC)
    team, member, issue = uuid4(), uuid4(), uuid4()
    member_body = {
        "name": "Ada",
        "email": "ada@example.com",
        "role": "member",
        "weekly_capacity": 20,
        "team_ids": [str(team)],
    }
    issue_body = {"title": "Refund API", "kind": "task", "team_id": str(team)}
    made = [
        line("POST /v1/teams", start, None, {"name": "Payments"}, id=team),
        line("POST /v1/members", start + timedelta(hours=1), None, member_body, id=member),
        line("POST /v1/issues", start + timedelta(days=1), member, issue_body, id=issue),
        line(f"POST /v1/issues/{issue}/transition", start + timedelta(days=2), member,
             {"status": "done" if broken_at == 4 else "todo"}),
    ]  # fmt: skip
    path.write_bytes(b"".join(dump_lines(made)))
    return [datetime.fromisoformat(item["occurred_at"]) for item in made]


def test_import_writes_each_line_at_its_time_and_a_second_run_writes_nothing(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history.jsonl"
    times = _history_file(history)

    assert main(["import", str(history)]) == 0
    assert "imported 4 lines (0 were in already), 5 events" in capsys.readouterr().out
    events = _events(data_dir)
    assert [name for name, _ in events] == [
        "TeamCreated",
        "MemberRegistered",
        "TeamMemberAdded",
        "IssueCreated",
        "IssueTransitioned",
    ]
    assert [moment for _, moment in events] == [times[0], times[1], times[1], *times[2:]]

    assert main(["import", str(history)]) == 0
    assert "imported 0 lines (4 were in already), 0 events" in capsys.readouterr().out
    assert len(_events(data_dir)) == 5


def test_import_stops_at_a_refused_line_and_resumes_there_once_it_is_fixed(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history.jsonl"
    _history_file(history, broken_at=4)

    assert main(["import", str(history), "--id", "season-1"]) == 1
    err = capsys.readouterr().err
    assert "line 4 was refused (409 invalid_transition)" in err
    assert "3 lines are in the log; fix line 4" in err
    assert len(_events(data_dir)) == 4

    lines = history.read_bytes().splitlines()
    fixed = orjson.loads(lines[3])
    fixed["body"]["status"] = "todo"
    lines[3] = orjson.dumps(fixed)
    history.write_bytes(b"\n".join(lines) + b"\n")
    assert main(["import", str(history), "--id", "season-1"]) == 0
    assert "imported 1 lines (3 were in already), 1 events" in capsys.readouterr().out
    assert [name for name, _ in _events(data_dir)][-1] == "IssueTransitioned"


def test_import_jira_prints_its_mapping_and_report_and_imports_the_history(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = FIXTURES / "cloud_v3_page.json"

    assert main(["import", "jira", str(export), "--dry-run"]) == 0
    dry = capsys.readouterr()
    assert "status" in dry.err.lower()
    assert _events(data_dir) == []

    assert main(["import", "jira", str(export)]) == 0
    out = capsys.readouterr().out
    assert "imported" in out
    names = [name for name, _ in _events(data_dir)]
    assert "IssueCreated" in names
    assert "IssueTransitioned" in names
    assert "CommentAdded" in names or "IssueCommented" in names


def test_import_jira_refuses_a_status_mapping_it_cannot_use(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = FIXTURES / "cloud_v3_page.json"
    assert main(["import", "jira", str(export), "--status", "QA"]) == 2
    assert "--status takes JIRA=STATUS" in capsys.readouterr().err
    assert main(["import", "jira", str(export), "--status", "QA=testing"]) == 2
    assert "status_map" in capsys.readouterr().err


def test_demo_loads_an_organisation_once_and_refuses_a_store_that_holds_work(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--scale", "0.02", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    assert "A demo organisation of" in captured.err
    loaded = len(_events(data_dir))
    assert loaded > 1_000

    assert main(["demo", "--scale", "0.02"]) == 1
    assert "already holds" in capsys.readouterr().err
    assert main(["demo", "--scale", "0.02", "--if-empty"]) == 0
    assert capsys.readouterr().err == ""
    assert len(_events(data_dir)) == loaded
