"""A process that starts beside others on PostgreSQL sets its views up without taking locks the
others' writes hold: an API process started while the worker writes the views neither waits for
those writes nor deadlocks with them, and what is missing is still made."""

from __future__ import annotations

import threading

import psycopg
import pytest

from services.infrastructure.store import Backend
from services.projections.runner import ensure_projection
from tests.projections.test_runner import STREAMS, CountingProjection

pytestmark = pytest.mark.postgres


def _indexes(url: str, table: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", (table,))
        return {name for (name,) in rows.fetchall()}


def test_setting_up_views_that_are_there_waits_for_no_write_in_progress(
    postgres_backend: Backend, postgres_url: str
) -> None:
    state = ensure_projection(postgres_backend, CountingProjection())
    physical = STREAMS.physical(state.generation)
    with psycopg.connect(postgres_url) as writer:
        # A worker's page, not yet committed: it holds its tables' row-exclusive locks, which
        # conflict with the share lock CREATE INDEX takes even when the index is there.
        writer.execute(
            f"INSERT INTO {physical} (stream_id, events, valid_from, position)"
            " VALUES ('s', 1, 0, 1)"
        )
        done = threading.Event()
        failures: list[BaseException] = []

        def set_up() -> None:
            try:
                assert ensure_projection(postgres_backend, CountingProjection()) == state
            except BaseException as error:  # reported below, in the test's own thread
                failures.append(error)
            finally:
                done.set()

        threading.Thread(target=set_up, daemon=True).start()
        finished = done.wait(10)
        writer.rollback()
    done.wait(10)
    assert finished, "setting up waited for a write in progress on a view's table"
    assert failures == []


def test_a_missing_index_is_made_again(postgres_backend: Backend, postgres_url: str) -> None:
    state = ensure_projection(postgres_backend, CountingProjection())
    physical = STREAMS.physical(state.generation)
    made = _indexes(postgres_url, physical)
    assert made == set(STREAMS.index_names(state.generation))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP INDEX {physical}_versions")
    ensure_projection(postgres_backend, CountingProjection())
    assert _indexes(postgres_url, physical) == made
