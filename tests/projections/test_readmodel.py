"""Versioned read-model tables whose events' times go backwards along a key (writers that race,
history imported late): each key's versions stay in order and never overlap, so ``as_of`` any
moment sees at most one of them, however the log is applied: in one page or a page per event, by
workers restarted with a cold cache or with every row loaded, with a cache too small to keep a
key, by a rebuild, and by a rebuild that hands its last events on to a live writer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import uuid4

from domain import team
from services.app import make_codec
from services.infrastructure.codec import EventMetadata, RecordedEvent
from services.infrastructure.store import Backend, EventStore, NewEvent, PendingCommit, StreamAppend
from services.projections.page_writer import PageWriter, RowCache
from services.projections.readmodel import Column, Snapshot, Table, micros, tables_by_name
from services.projections.rebuild_writer import OpenVersions, RebuildWriter
from services.projections.runner import (
    apply_page,
    ensure_projection,
    event_time,
    read_state,
    rebuild,
)
from services.projections.state import load_current_rows

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = 60_000_000


class ScriptedProjection:
    """Each event is a step of a script, spelled in the name of the team it creates: ``put A 1``
    makes 1 the value of key A, ``delete A`` deletes A's row."""

    schema_version = 1
    event_types: frozenset[str] | None = None
    # Folded as recorded: what these tests check is how the tables keep times that go back.
    occurred_order = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = Table(name, key=("key",), columns=(Column("key"), Column("value", "int")))
        self.tables: tuple[Table, ...] = (self.rows,)

    def apply(self, writer: PageWriter, event: RecordedEvent) -> None:
        verb, key, *value = event.data.name.split()
        if verb == "put":
            row = {"key": key, "value": int(value[0])}
            writer.put(self.rows.name, row, event_time(event), event.position)
        else:
            writer.delete(self.rows.name, (key,), event_time(event), event.position)


@dataclass(frozen=True)
class Step:
    spelled: str
    minute: int


def put(key: str, value: int, minute: int) -> Step:
    return Step(f"put {key} {value}", minute)


def delete(key: str, minute: int) -> Step:
    return Step(f"delete {key}", minute)


# A stored version: key, value, and the minutes it was valid from and to (None: still is).
Version = tuple[str, int, int, int | None]


def _write(store: EventStore, steps: Sequence[Step]) -> None:
    """The script as an imported history: each step keeps the time it says it occurred."""
    pending = []
    for step in steps:
        stream, correlation = uuid4(), uuid4()
        moment = START + timedelta(minutes=step.minute)
        metadata = EventMetadata(uuid4(), "system", moment, correlation, correlation)
        event = team.TeamCreated(stream, step.spelled, None)
        pending.append(PendingCommit([StreamAppend(stream, 0, (NewEvent(event, metadata),))]))
    store.commit(pending)


def _pages(events: list[RecordedEvent], size: int) -> list[list[RecordedEvent]]:
    return [events[start : start + size] for start in range(0, len(events), size)]


# A way of applying the log to a projection's tables, and the cache a restarted worker starts
# with, given the one it had.
Applier = Callable[[Backend, EventStore, ScriptedProjection], None]
Restart = Callable[[Backend, ScriptedProjection, RowCache], RowCache]


def _live(size: int, restart: Restart, capacity: int | None = None) -> Applier:
    """Pages of ``size`` events applied by a live writer whose cache starts empty, holding up to
    ``capacity`` rows; ``restart`` answers the cache the next page starts with, given the last
    one's."""

    def apply(backend: Backend, store: EventStore, projection: ScriptedProjection) -> None:
        generation = ensure_projection(backend, projection).generation
        cache = RowCache(capacity)
        for page in _pages(store.read(0, 1000), size):
            with backend.transaction() as cursor:
                apply_page(cursor, projection, generation, cache, page)
            cache = restart(backend, projection, cache)

    return apply


def _kept(_: Backend, __: ScriptedProjection, cache: RowCache) -> RowCache:
    return cache


def _cold(_: Backend, __: ScriptedProjection, ___: RowCache) -> RowCache:
    return RowCache()


def _loaded(backend: Backend, projection: ScriptedProjection, _: RowCache) -> RowCache:
    return load_current_rows(backend, projection)[1]


def _rebuilt(backend: Backend, store: EventStore, projection: ScriptedProjection) -> None:
    ensure_projection(backend, projection)
    rebuild(store, backend, projection, page_size=2)


def _rebuilt_then_live(backend: Backend, store: EventStore, projection: ScriptedProjection) -> None:
    """As a rebuild does: its writer takes the log up to where it started, writes the versions
    still current, and hands its cache on to a live writer for the events that came meanwhile."""
    generation = ensure_projection(backend, projection).generation
    tables = tables_by_name(projection.tables)
    cache, opened = RowCache(capacity=None), OpenVersions()
    events = store.read(0, 1000)
    middle = len(events) // 2
    for page in _pages(events[:middle], 2):
        with backend.transaction() as cursor:
            writer = RebuildWriter(cursor, tables, generation, cache, opened)
            for event in page:
                projection.apply(writer, event)
            writer.flush()
    with backend.transaction() as cursor:
        RebuildWriter(cursor, tables, generation, cache, opened).write_current()
    for page in _pages(events[middle:], 1):
        with backend.transaction() as cursor:
            apply_page(cursor, projection, generation, cache, page)


APPLIERS: dict[str, Applier] = {
    "in one page": _live(100, _kept),
    "a page per event": _live(1, _kept),
    "a page per event, each by a worker restarted with a cold cache": _live(1, _cold),
    "a page per event, each by a worker restarted with every row loaded": _live(1, _loaded),
    "a page per event, with a cache that keeps one row": _live(1, _kept, capacity=1),
    "by a rebuild": _rebuilt,
    "by a rebuild that hands its last events on to a live writer": _rebuilt_then_live,
}


def _minute(value: int) -> int:
    return (value - micros(START)) // MINUTE


def _stored(backend: Backend, projection: ScriptedProjection) -> list[Version]:
    state = read_state(backend, projection.name)
    assert state is not None
    rows = backend.fetchall(
        f"SELECT key, value, valid_from, valid_to FROM {projection.rows.physical(state.generation)}"
        " ORDER BY key, valid_from"
    )
    return [
        (key, value, _minute(since), None if until is None else _minute(until))
        for key, value, since, until in rows
    ]


def _seen_as_of(backend: Backend, projection: ScriptedProjection, minute: int) -> list[Any]:
    state = read_state(backend, projection.name)
    assert state is not None
    snapshot = Snapshot(state.generation, micros(START) + minute * MINUTE)
    condition, params = snapshot.visible()
    rows = backend.fetchall(
        f"SELECT key FROM {snapshot.name(projection.rows)} WHERE {condition}", params
    )
    return [key for (key,) in rows]


def then_every_way_stores(backend: Backend, steps: Sequence[Step], expected: list[Version]) -> None:
    """Given ``steps`` in the log, each way of applying it stores ``expected``, versions that
    follow one another without overlap, so that as of any minute each key has one at most."""
    store = EventStore(backend, make_codec())
    _write(store, steps)
    last = max(step.minute for step in steps) + 2
    for number, (way, applier) in enumerate(APPLIERS.items()):
        projection = ScriptedProjection(f"kit_{number}")
        applier(backend, store, projection)

        stored = _stored(backend, projection)
        assert stored == expected, f"applied {way}"
        for (key, _, since, until), (next_key, _, next_since, _) in pairwise(stored):
            if key == next_key:
                assert until is not None, f"applied {way}"
                assert since < until <= next_since, f"applied {way}"
        for minute in range(-1, last):
            seen = _seen_as_of(backend, projection, minute)
            assert len(seen) == len(set(seen)), f"applied {way}: as of minute {minute}: {seen}"


def test_a_version_that_occurred_before_the_current_one_began_starts_when_it_began(
    backend: Backend,
) -> None:
    then_every_way_stores(backend, [put("A", 1, 10), put("A", 2, 5)], [("A", 2, 10, None)])


def test_versions_that_go_ever_further_back_all_start_when_the_first_began(
    backend: Backend,
) -> None:
    then_every_way_stores(
        backend,
        [put("A", 1, 10), put("A", 2, 8), put("A", 3, 6), put("A", 4, 12)],
        [("A", 3, 10, 12), ("A", 4, 12, None)],
    )


def test_a_row_created_again_before_it_was_deleted_starts_when_it_was_deleted(
    backend: Backend,
) -> None:
    then_every_way_stores(
        backend,
        [put("A", 1, 10), delete("A", 20), put("A", 2, 15)],
        [("A", 1, 10, 20), ("A", 2, 20, None)],
    )


def test_a_deletion_that_occurred_before_the_current_version_began_ends_it_when_it_began(
    backend: Backend,
) -> None:
    then_every_way_stores(
        backend,
        [put("A", 1, 10), put("A", 2, 20), delete("A", 15), put("A", 3, 18)],
        [("A", 1, 10, 20), ("A", 3, 20, None)],
    )


def test_a_row_deleted_at_the_instant_it_was_created_leaves_the_key_where_it_last_ended(
    backend: Backend,
) -> None:
    # Nothing of the row made at minute 40 is stored, so nothing can tell a worker that starts
    # afresh about it: the key's floor stays minute 20, for every writer alike.
    then_every_way_stores(
        backend,
        [put("A", 1, 10), delete("A", 20), put("A", 2, 40), delete("A", 30), put("A", 3, 30)],
        [("A", 1, 10, 20), ("A", 3, 30, None)],
    )


def test_a_version_replaced_at_the_instant_it_began_is_never_stored(backend: Backend) -> None:
    then_every_way_stores(
        backend,
        [put("A", 1, 10), put("A", 2, 10), put("A", 3, 11)],
        [("A", 2, 10, 11), ("A", 3, 11, None)],
    )


def test_one_key_going_back_in_time_moves_no_other_key(backend: Backend) -> None:
    then_every_way_stores(
        backend,
        [put("A", 1, 10), put("B", 1, 5), put("A", 2, 12), put("B", 2, 3), delete("A", 11)],
        [("A", 1, 10, 12), ("B", 2, 5, None)],
    )


def test_a_row_cache_forgets_a_key_s_floor_with_its_row() -> None:
    cache = RowCache(capacity=1)
    cache.put("t", ("a",), None, (10, 10))
    cache.put("t", ("b",), {"n": 1}, (20, None))

    assert cache.get("t", ("a",)) == (False, None)
    assert cache.floor("t", ("a",)) is None
    assert cache.floor("t", ("b",)) == (20, None)
