"""A release that changes a view's schema version (docs/deploy.md, "Upgrading"): the new copy is
built beside the one serving and switched in when it has caught up; the new release's queries
answer 503 meanwhile; an older release never steps a newer copy back."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from services.app import make_codec
from services.infrastructure.http import ProblemError
from services.infrastructure.store import Backend, EventStore
from services.projections.query import ReadModels
from services.projections.readmodel import Snapshot
from services.projections.runner import (
    ProjectionWorker,
    RebuildProgress,
    ensure_projection,
    read_state,
    rebuild,
)
from services.projections.state import NewerSchema
from tests.projections.test_runner import (
    STREAMS,
    CountingProjection,
    CountingProjectionV2,
    _dump,
    _write,
)


@pytest.fixture
def store(backend: Backend) -> EventStore:
    return EventStore(backend, make_codec())


def _events_per_stream(backend: Backend, generation: int) -> dict[str, int]:
    rows = backend.fetchall(
        f"SELECT stream_id, events FROM {STREAMS.physical(generation)} WHERE valid_to IS NULL"
    )
    return {str(stream): int(events) for stream, events in rows}


def test_a_new_schema_version_is_built_beside_the_copy_serving_and_switched_in(
    store: EventStore, backend: Backend
) -> None:
    versions: dict[UUID, int] = {}
    streams = [uuid4() for _ in range(3)]
    for _ in range(4):
        _write(store, streams, versions)
    ProjectionWorker(store, backend, CountingProjection()).catch_up()
    before = read_state(backend, CountingProjection.name)
    assert before is not None
    serving = _events_per_stream(backend, before.generation)

    # The new release prepares its tables: the old copy is left as it was.
    assert ensure_projection(backend, CountingProjectionV2()) == before
    assert _events_per_stream(backend, before.generation) == serving

    # While the new copy is built, the old one still answers in full at its generation.
    # (The last progress report comes after the switch.)
    during: list[tuple[int, int, dict[str, int]]] = []

    def look(_: RebuildProgress) -> None:
        state = read_state(backend, CountingProjection.name)
        assert state is not None
        during.append(
            (state.generation, state.schema_version, _events_per_stream(backend, before.generation))
        )

    upgraded = ProjectionWorker(store, backend, CountingProjectionV2())
    upgraded.prepare()
    rebuild(store, backend, CountingProjectionV2(), page_size=2, progress=look)
    assert len(during) > 2
    assert all(seen == (before.generation, 1, serving) for seen in during[:-1])

    after = read_state(backend, CountingProjection.name)
    assert after is not None
    assert (after.generation, after.schema_version) == (before.generation + 1, 2)
    assert _events_per_stream(backend, after.generation) == serving
    # The new release's worker goes on from there.
    _write(store, streams, versions)
    upgraded.catch_up()
    assert set(_events_per_stream(backend, after.generation).values()) == {5}


def test_a_worker_of_the_new_release_builds_its_copy_itself(
    store: EventStore, backend: Backend
) -> None:
    versions: dict[UUID, int] = {}
    for _ in range(3):
        _write(store, [uuid4(), uuid4()], versions)
    ProjectionWorker(store, backend, CountingProjection()).catch_up()
    old = read_state(backend, CountingProjection.name)
    assert old is not None

    ProjectionWorker(store, backend, CountingProjectionV2()).catch_up()

    new = read_state(backend, CountingProjection.name)
    assert new is not None
    assert (new.generation, new.schema_version, new.position) == (
        old.generation + 1,
        2,
        store.last_position(),
    )
    _, seen = _dump(backend, new.generation)
    assert [row[0] for row in seen] == list(range(1, store.last_position() + 1))


def test_an_older_release_never_steps_a_newer_copy_back(
    store: EventStore, backend: Backend
) -> None:
    versions: dict[UUID, int] = {}
    _write(store, [uuid4()], versions)
    ProjectionWorker(store, backend, CountingProjectionV2()).catch_up()
    state = read_state(backend, CountingProjection.name)

    with pytest.raises(NewerSchema, match="schema version 2, newer than this release's 1"):
        ensure_projection(backend, CountingProjection())
    with pytest.raises(NewerSchema):
        ProjectionWorker(store, backend, CountingProjection()).catch_up()
    assert read_state(backend, CountingProjection.name) == state


def test_queries_of_a_release_whose_schema_is_not_the_views_answer_503_with_retry_after(
    store: EventStore, backend: Backend
) -> None:
    _write(store, [uuid4()], {})
    ProjectionWorker(store, backend, CountingProjection()).catch_up()
    state = read_state(backend, CountingProjection.name)
    assert state is not None

    same = ReadModels(backend, store, [CountingProjection()])
    assert same.snapshot(CountingProjection.name, None) == Snapshot(
        state.generation, None, state.position
    )
    newer = ReadModels(backend, store, [CountingProjectionV2()])
    with pytest.raises(ProblemError) as refused:
        newer.snapshot(CountingProjection.name, None)
    assert refused.value.status == 503
    assert "schema version 1; this release reads version 2" in refused.value.detail
    assert refused.value.headers == {"Retry-After": "5"}
