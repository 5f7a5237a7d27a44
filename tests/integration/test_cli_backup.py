"""`workledger export` and `workledger restore` as an operator runs them: a demo organisation
exported from SQLite to a file and to standard output, checked, restored into PostgreSQL, and
refused there the second time."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from services.app import make_codec
from services.infrastructure.postgres import PostgresBackend
from services.infrastructure.sqlite import SQLiteBackend
from services.infrastructure.store import EventStore
from tests.conftest import create_database, drop_database

REPO = Path(__file__).resolve().parents[2]


def workledger(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )


def settings_env(data_dir: Path, database_url: str = "") -> dict[str, str]:
    """The environment of an operator's shell naming one store."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("WORKLEDGER_")}
    return env | {"WORKLEDGER_DATA_DIR": str(data_dir), "WORKLEDGER_DATABASE_URL": database_url}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A SQLite store holding a small demo organisation, loaded by `workledger demo`."""
    env = settings_env(tmp_path_factory.mktemp("demo"))
    loaded = workledger(env, "demo", "--scale", "0.01", "--seed", "5")
    assert loaded.returncode == 0, loaded.stderr.decode()
    return env


@pytest.fixture
def postgres_database(postgres_server_url: str) -> Iterator[str]:
    url = create_database(postgres_server_url, "workledger_cli_restore")
    yield url
    drop_database(postgres_server_url, url)


def _last_position(env: dict[str, str]) -> int:
    backend = SQLiteBackend(str(Path(env["WORKLEDGER_DATA_DIR"]) / "workledger.sqlite3"))
    try:
        return backend.max_position()
    finally:
        backend.close()


def test_export_writes_the_whole_log_to_a_file_and_says_how_much_and_where_to_go_on(
    demo_store: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "log.jsonl"
    last = _last_position(demo_store)

    done = workledger(demo_store, "export", str(target))

    assert done.returncode == 0, done.stderr.decode()
    said = done.stdout.decode()
    assert f"exported {last:,} events (positions 1 to {last:,})" in said
    assert f"`workledger export --after {last} FILE`" in said
    assert "100%" in done.stderr.decode()
    assert list(tmp_path.iterdir()) == [target]
    lines = target.read_bytes().splitlines()
    assert orjson.loads(lines[0])["kind"] == "header"
    assert orjson.loads(lines[-1])["events"] == last
    event = orjson.loads(lines[1])
    assert set(event) == {
        "kind",
        "position",
        "stream_id",
        "version",
        "type",
        "given_occurred",
        "envelope",
    }
    assert set(event["envelope"]) >= {
        "id",
        "type",
        "actor",
        "occurred_at",
        "recorded_at",
        "correlation_id",
        "causation_id",
        "data",
    }


def test_export_to_standard_output_keeps_it_for_the_log_alone(
    demo_store: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "log.jsonl"
    assert workledger(demo_store, "export", str(target)).returncode == 0

    piped = workledger(demo_store, "export", "-")

    assert piped.returncode == 0, piped.stderr.decode()
    assert "exported" in piped.stderr.decode()
    assert piped.stdout.splitlines()[1:] == target.read_bytes().splitlines()[1:]


def test_an_increment_holds_only_the_events_after_its_position(
    demo_store: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "increment.jsonl"
    last = _last_position(demo_store)

    done = workledger(demo_store, "export", "--after", str(last - 10), str(target))

    assert done.returncode == 0, done.stderr.decode()
    assert f"exported 10 events (positions {last - 9:,} to {last:,})" in done.stdout.decode()
    header = orjson.loads(target.read_bytes().splitlines()[0])
    assert (header["after"], header["base"]["position"]) == (last - 10, last - 10)


def test_restore_fills_an_empty_postgresql_store_and_refuses_it_the_second_time(
    demo_store: dict[str, str], tmp_path: Path, postgres_database: str
) -> None:
    target = tmp_path / "log.jsonl"
    assert workledger(demo_store, "export", str(target)).returncode == 0
    last = _last_position(demo_store)
    on_postgres = settings_env(tmp_path / "unused", postgres_database)

    done = workledger(on_postgres, "restore", str(target))

    assert done.returncode == 0, done.stderr.decode()
    said = done.stdout.decode()
    assert f"restored {last:,} events (positions 1 to {last:,})" in said
    assert "into PostgreSQL" in said
    assert "built from the restored log by their workers" in said
    backend = PostgresBackend.from_url(postgres_database, pool_size=1, max_overflow=1)
    try:
        assert EventStore(backend, make_codec()).last_position() == last
    finally:
        backend.close()

    again = workledger(on_postgres, "restore", str(target))

    assert again.returncode == 2
    told = again.stderr.decode()
    assert f"already holds a log, up to position {last:,}" in told
    assert "nothing was written" in told


def test_restore_check_reads_every_line_without_a_database_and_names_a_damaged_one(
    demo_store: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "log.jsonl"
    assert workledger(demo_store, "export", str(target)).returncode == 0
    nowhere = settings_env(tmp_path / "never-created")

    checked = workledger(nowhere, "restore", "--check", str(target))

    assert checked.returncode == 0, checked.stderr.decode()
    assert "as exported; this build can restore it" in checked.stdout.decode()
    lines = target.read_bytes().splitlines(keepends=True)
    lines[3], lines[4] = lines[4], lines[3]
    target.write_bytes(b"".join(lines))
    damaged = workledger(nowhere, "restore", "--check", str(target))
    assert damaged.returncode == 1
    assert "line 5: position 3 does not follow position 4" in damaged.stderr.decode()
    assert not (tmp_path / "never-created").exists()
