"""A process that starts beside others on PostgreSQL sets its views up without taking locks the
others' writes hold: an API process started while the worker writes the views neither waits for
those writes nor deadlocks with them, and what is missing is still made."""

from __future__ import annotations

import threading

import psycopg
import pytest

from services.infrastructure.store import Backend
from services.projections.runner import ensure_projection
from tests.projections.test_runner import SEEN, STREAMS, CountingProjection

pytestmark = pytest.mark.postgres


def _indexes(url: str, table: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", (table,))
        return {name for (name,) in rows.fetchall()}


def _set_up_beside_a_write(backend: Backend, url: str, written: str) -> bool:
    """Whether setting the projection up finishes while another transaction holds an
    uncommitted write to ``written`` (a worker's page, with its tables' row-exclusive locks,
    which conflict with the share lock ``CREATE INDEX`` takes even when the index is there)."""
    with psycopg.connect(url) as writer:
        writer.execute(
            f"INSERT INTO {written} (stream_id, events, valid_from, position) VALUES ('s', 1, 0, 1)"
        )
        done = threading.Event()
        failures: list[BaseException] = []

        def set_up() -> None:
            try:
                ensure_projection(backend, CountingProjection())
            except BaseException as error:  # reported below, in the test's own thread
                failures.append(error)
            finally:
                done.set()

        threading.Thread(target=set_up, daemon=True).start()
        finished = done.wait(10)
        writer.rollback()
    done.wait(10)
    assert failures == []
    return finished


def test_setting_up_views_that_are_there_waits_for_no_write_in_progress(
    postgres_backend: Backend, postgres_url: str
) -> None:
    state = ensure_projection(postgres_backend, CountingProjection())
    written = STREAMS.physical(state.generation)
    assert _set_up_beside_a_write(postgres_backend, postgres_url, written), (
        "setting up waited for a write in progress on a view's table"
    )
    assert ensure_projection(postgres_backend, CountingProjection()) == state


def test_a_missing_index_is_made_again_without_locking_the_other_tables(
    postgres_backend: Backend, postgres_url: str
) -> None:
    state = ensure_projection(postgres_backend, CountingProjection())
    physical = SEEN.physical(state.generation)
    made = _indexes(postgres_url, physical)
    assert made == set(SEEN.index_names(state.generation))
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP INDEX {physical}_key")
    written = STREAMS.physical(state.generation)
    assert _set_up_beside_a_write(postgres_backend, postgres_url, written), (
        "making one table's index waited for a write in progress on another table"
    )
    assert _indexes(postgres_url, physical) == made
