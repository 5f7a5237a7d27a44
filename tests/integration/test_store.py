"""The event store's group commit, on SQLite and on PostgreSQL.

``EventStore.commit`` writes a batch of independent commands in one transaction, and answers each
command on its own: committed, version conflict, claim taken or replayed. The group committer
feeds it batches of whatever commands are waiting.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from domain import member, team
from services.app import make_codec
from services.infrastructure.codec import EventMetadata
from services.infrastructure.committer import CommitterStopped, GroupCommitter
from services.infrastructure.postgres import PostgresBackend
from services.infrastructure.sqlite import SQLiteBackend
from services.infrastructure.store import (
    Backend,
    Claim,
    ClaimTaken,
    CommitOutcome,
    Committed,
    EventStore,
    HeldLock,
    IdempotencyKey,
    NewEvent,
    PendingCommit,
    Replayed,
    Statement,
    StoredResponse,
    StreamAppend,
    VersionConflict,
    iter_pages,
)
from services.infrastructure.tokens import TokenStore
from services.projections.runner import ensure_projection
from services.projections.views.queue import PROJECTION as QUEUE
from services.stream.relay_positions import RelayPositions
from tests.conftest import FrozenClock, create_database, drop_database, wait_until

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
EMAIL = "member.email"


@pytest.fixture
def store(backend: Backend) -> EventStore:
    return EventStore(backend, make_codec(), FrozenClock())


def new(event: Any) -> NewEvent:
    return NewEvent(event, EventMetadata(uuid4(), "member:test", NOW, uuid4(), uuid4()))


def create_team(stream_id: UUID, name: str = "Payments", *renames: str) -> StreamAppend:
    """Creates a team stream, then renames it once for each of ``renames``."""
    created = new(team.TeamCreated(stream_id, name, None))
    events = (created, *(new(team.TeamRenamed(rename)) for rename in renames))
    return StreamAppend(stream_id, 0, events)


def rename_team(stream_id: UUID, expected_version: int, *names: str) -> StreamAppend:
    return StreamAppend(stream_id, expected_version, tuple(new(team.TeamRenamed(n)) for n in names))


def command(
    *appends: StreamAppend,
    observed: dict[UUID, int] | None = None,
    claims: Sequence[Claim] = (),
    key: str | None = None,
    principal: str = "alice",
    fingerprint: str = "",
    tag: str = "",
) -> PendingCommit:
    """A pending command whose rendered response names its tag and its own positions."""

    def render(positions: Sequence[int], _batch_last: int) -> StoredResponse:
        return StoredResponse(201, {"tag": tag, "positions": list(positions)}, fingerprint)

    return PendingCommit(
        appends=list(appends),
        observed=dict(observed or {}),
        claims=list(claims),
        idempotency=IdempotencyKey(principal, key, fingerprint) if key else None,
        render=render,
    )


def committed(outcome: CommitOutcome) -> Committed:
    assert isinstance(outcome, Committed), outcome
    return outcome


def log(store: EventStore) -> list[tuple[int, UUID, int, Any]]:
    """The whole log as (position, stream, version, event)."""
    return [(e.position, e.stream_id, e.version, e.data) for e in store.read(0, 10_000)]


def names(store: EventStore, stream_id: UUID) -> list[str]:
    return [
        e.data.name
        for e in store.load(stream_id)
        if isinstance(e.data, team.TeamCreated | team.TeamRenamed)
    ]


def claim(value: str, owner: UUID, scope: str = EMAIL) -> Claim:
    return Claim(scope, value, owner)


# Independent commands


def test_independent_commands_of_a_batch_all_commit_with_consecutive_positions_in_batch_order(
    store: EventStore,
) -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    outcomes = store.commit(
        [
            command(create_team(a, "A"), tag="a"),
            command(create_team(b, "B", "B2", "B3"), tag="b"),
            command(create_team(c, "C"), tag="c"),
        ]
    )
    positions = [committed(outcome).positions for outcome in outcomes]
    first = positions[0][0]
    assert positions == [(first,), (first + 1, first + 2, first + 3), (first + 4,)]
    assert [committed(o).response for o in outcomes] == [
        StoredResponse(201, {"tag": tag, "positions": list(p)}, "")
        for tag, p in zip("abc", positions, strict=True)
    ]
    assert [(stream, version) for _, stream, version, _ in log(store)] == [
        (a, 1),
        (b, 1),
        (b, 2),
        (b, 3),
        (c, 1),
    ]
    assert names(store, b) == ["B", "B2", "B3"]


def test_one_command_may_write_to_several_streams_at_once(store: EventStore) -> None:
    a, b = uuid4(), uuid4()
    [outcome] = store.commit([command(create_team(a, "A", "A2"), create_team(b, "B"))])
    first = committed(outcome).positions[0]
    assert committed(outcome).positions == (first, first + 1, first + 2)
    assert [(stream, version) for _, stream, version, _ in log(store)] == [(a, 1), (a, 2), (b, 1)]


def test_a_command_that_writes_nothing_still_commits_and_answers(store: EventStore) -> None:
    a = uuid4()
    store.commit([command(create_team(a))])
    [outcome] = store.commit([command(observed={a: 1}, key="k1", tag="noop")])
    assert committed(outcome).positions == ()
    assert committed(outcome).response == StoredResponse(201, {"tag": "noop", "positions": []})
    assert store.stored_response("alice", "k1") == StoredResponse(
        201, {"tag": "noop", "positions": []}
    )


# Expected versions


def test_of_two_commands_expecting_the_same_version_in_one_batch_only_the_first_commits(
    store: EventStore,
) -> None:
    a = uuid4()
    store.commit([command(create_team(a))])
    before = log(store)
    first, second = store.commit(
        [command(rename_team(a, 1, "First")), command(rename_team(a, 1, "Second"))]
    )
    committed(first)
    assert second == VersionConflict(a, 1, 2)
    assert names(store, a) == ["Payments", "First"]
    assert len(log(store)) == len(before) + 1


def test_of_two_commands_creating_the_same_stream_in_one_batch_only_the_first_commits(
    store: EventStore,
) -> None:
    a, b = uuid4(), uuid4()
    first, second = store.commit(
        [command(create_team(a, "First")), command(create_team(b, "B"), create_team(a, "Second"))]
    )
    committed(first)
    assert second == VersionConflict(a, 0, 1)
    assert names(store, a) == ["First"]
    assert store.load(b) == [], "a refused command writes none of its streams"


def test_a_command_expecting_a_version_the_stream_has_left_conflicts_and_writes_nothing(
    store: EventStore,
) -> None:
    a = uuid4()
    store.commit([command(create_team(a, "A", "A2"))])
    [outcome] = store.commit([command(rename_team(a, 1, "Stale"))])
    assert outcome == VersionConflict(a, 1, 2)
    assert names(store, a) == ["A", "A2"]


def test_a_command_expecting_a_version_the_stream_has_not_reached_conflicts(
    store: EventStore,
) -> None:
    a = uuid4()
    [outcome] = store.commit([command(rename_team(a, 3, "Ahead"))])
    assert outcome == VersionConflict(a, 3, 0)
    assert log(store) == []


def test_a_refused_command_does_not_stop_the_later_commands_of_its_batch(
    store: EventStore,
) -> None:
    a, b = uuid4(), uuid4()
    store.commit([command(create_team(a))])
    stale, fresh = store.commit([command(rename_team(a, 5, "Stale")), command(create_team(b))])
    assert stale == VersionConflict(a, 5, 1)
    committed(fresh)
    assert names(store, b) == ["Payments"]


# Observed streams


def test_a_command_whose_observed_stream_moved_since_it_was_read_conflicts(
    store: EventStore,
) -> None:
    read, written = uuid4(), uuid4()
    store.commit([command(create_team(read))])
    store.commit([command(rename_team(read, 1, "Moved"))])
    [outcome] = store.commit([command(create_team(written), observed={read: 1})])
    assert outcome == VersionConflict(read, 1, 2)
    assert store.load(written) == []


def test_a_command_whose_observed_stream_moves_earlier_in_the_same_batch_conflicts(
    store: EventStore,
) -> None:
    read, written = uuid4(), uuid4()
    store.commit([command(create_team(read))])
    mover, reader = store.commit(
        [
            command(rename_team(read, 1, "Moved")),
            command(create_team(written), observed={read: 1}),
        ]
    )
    committed(mover)
    assert reader == VersionConflict(read, 1, 2)
    assert store.load(written) == []


def test_a_command_that_saw_a_stream_missing_conflicts_once_it_is_created_in_the_batch(
    store: EventStore,
) -> None:
    read, written = uuid4(), uuid4()
    creator, reader = store.commit(
        [command(create_team(read)), command(create_team(written), observed={read: 0})]
    )
    committed(creator)
    assert reader == VersionConflict(read, 0, 1)


def test_a_command_whose_observed_streams_did_not_move_commits(store: EventStore) -> None:
    read, missing, written = uuid4(), uuid4(), uuid4()
    store.commit([command(create_team(read))])
    [outcome] = store.commit([command(create_team(written), observed={read: 1, missing: 0})])
    committed(outcome)
    assert names(store, written) == ["Payments"]


# Idempotency keys


def test_the_second_of_two_commands_with_the_same_key_in_one_batch_replays_the_first(
    store: EventStore,
) -> None:
    a, b = uuid4(), uuid4()
    first, second = store.commit(
        [
            command(create_team(a), key="k1", fingerprint="f", tag="first"),
            command(create_team(b), key="k1", fingerprint="f", tag="second"),
        ]
    )
    response = committed(first).response
    assert response is not None
    assert second == Replayed(response)
    assert store.load(b) == [], "a replayed command writes nothing"
    assert len(log(store)) == 1


def test_a_replay_in_the_same_batch_carries_the_first_commands_fingerprint(
    store: EventStore,
) -> None:
    """So the handler can tell a retry from a different request under the same key."""
    first, second = store.commit(
        [
            command(create_team(uuid4()), key="k1", fingerprint="original", tag="first"),
            command(create_team(uuid4()), key="k1", fingerprint="different", tag="second"),
        ]
    )
    assert isinstance(second, Replayed)
    assert second.response.fingerprint == "original"
    assert second.response.body == {"tag": "first", "positions": list(committed(first).positions)}


def test_a_key_committed_in_an_earlier_batch_replays_the_stored_response(
    store: EventStore,
) -> None:
    [first] = store.commit([command(create_team(uuid4()), key="k1", fingerprint="f", tag="one")])
    b = uuid4()
    [again] = store.commit([command(create_team(b), key="k1", fingerprint="f", tag="two")])
    original = {"tag": "one", "positions": list(committed(first).positions)}
    assert again == Replayed(StoredResponse(201, original, "f"))
    assert store.load(b) == []
    assert store.stored_response("alice", "k1") == again.response


def test_the_same_key_of_another_principal_is_another_key(store: EventStore) -> None:
    first, second = store.commit(
        [
            command(create_team(uuid4()), key="k1", principal="alice"),
            command(create_team(uuid4()), key="k1", principal="bob"),
        ]
    )
    committed(first)
    committed(second)
    assert store.stored_response("carol", "k1") is None


def test_the_key_of_a_refused_command_is_not_recorded(store: EventStore) -> None:
    a = uuid4()
    store.commit([command(create_team(a))])
    refused, retried = store.commit(
        [
            command(rename_team(a, 9, "Stale"), key="k1", tag="refused"),
            command(rename_team(a, 1, "Fresh"), key="k1", tag="retried"),
        ]
    )
    assert refused == VersionConflict(a, 9, 1)
    assert committed(retried).response == StoredResponse(
        201, {"tag": "retried", "positions": list(committed(retried).positions)}
    )
    stored = store.stored_response("alice", "k1")
    assert stored is not None
    assert stored.body["tag"] == "retried"


# Unique claims


def test_a_value_claimed_in_an_earlier_batch_is_taken(store: EventStore) -> None:
    alice, other = uuid4(), uuid4()
    store.commit([command(create_team(alice), claims=[claim("a@example.com", alice)])])
    [outcome] = store.commit([command(create_team(other), claims=[claim("a@example.com", other)])])
    assert outcome == ClaimTaken(claim("a@example.com", other), alice)
    assert store.load(other) == []


def test_a_value_claimed_earlier_in_the_same_batch_is_taken(store: EventStore) -> None:
    alice, other = uuid4(), uuid4()
    first, second = store.commit(
        [
            command(create_team(alice), claims=[claim("a@example.com", alice)]),
            command(create_team(other), claims=[claim("a@example.com", other)]),
        ]
    )
    committed(first)
    assert second == ClaimTaken(claim("a@example.com", other), alice)
    assert store.load(other) == []


def test_the_same_value_in_another_scope_is_free(store: EventStore) -> None:
    a, b = uuid4(), uuid4()
    first, second = store.commit(
        [
            command(create_team(a), claims=[claim("PAY", a, scope="project.key")]),
            command(create_team(b), claims=[claim("PAY", b, scope=EMAIL)]),
        ]
    )
    committed(first)
    committed(second)


def test_the_claim_of_a_refused_command_stays_free(store: EventStore) -> None:
    a, b, taken = uuid4(), uuid4(), uuid4()
    store.commit([command(create_team(taken))])
    refused, later = store.commit(
        [
            command(create_team(taken), claims=[claim("a@example.com", a)]),
            command(create_team(b), claims=[claim("a@example.com", b)]),
        ]
    )
    assert refused == VersionConflict(taken, 0, 1)
    committed(later)
    [again] = store.commit([command(create_team(a), claims=[claim("a@example.com", a)])])
    assert again == ClaimTaken(claim("a@example.com", a), b)


def test_reclaiming_a_value_its_owner_holds_already_commits_with_the_rest_of_the_batch(
    store: EventStore,
) -> None:
    alice, bystander = uuid4(), uuid4()
    store.commit([command(create_team(alice), claims=[claim("a@example.com", alice)])])
    reclaim, other = store.commit(
        [
            command(rename_team(alice, 1, "Alice"), claims=[claim("a@example.com", alice)]),
            command(create_team(bystander)),
        ]
    )
    committed(reclaim)
    committed(other)


# Failing batches


class RenderFailed(Exception):
    pass


def failing_render(positions: Sequence[int], _batch_last: int) -> StoredResponse:
    raise RenderFailed(f"can't answer for {list(positions)}")


def test_a_batch_that_fails_after_its_rows_are_inserted_writes_nothing(store: EventStore) -> None:
    a, b = uuid4(), uuid4()
    store.commit([command(create_team(a))])
    before = log(store)
    broken = command(create_team(b), key="k2")
    broken.render = failing_render
    with pytest.raises(RenderFailed):
        store.commit(
            [
                command(rename_team(a, 1, "Renamed"), claims=[claim("a@example.com", a)], key="k1"),
                broken,
            ]
        )
    assert log(store) == before
    assert store.stored_response("alice", "k1") is None
    # The claim was not kept either: another owner may take the value.
    [outcome] = store.commit([command(create_team(b), claims=[claim("a@example.com", b)])])
    committed(outcome)


def test_a_batch_that_the_database_refuses_writes_nothing(store: EventStore) -> None:
    """Two appends at the same version of one stream break the log's primary key."""
    a, b = uuid4(), uuid4()
    duplicate = command(create_team(a, "One"), create_team(a, "Two"))
    with pytest.raises(Exception, match=r"(?i)unique|constraint|duplicate"):
        store.commit([command(create_team(b)), duplicate])
    assert log(store) == []
    [outcome] = store.commit([command(create_team(b))])
    committed(outcome)
    assert names(store, b) == ["Payments"]


# The log


def test_positions_follow_commit_order_across_batches(store: EventStore) -> None:
    streams = [uuid4() for _ in range(6)]
    batches = [streams[0:2], streams[2:3], streams[3:6]]
    positions: list[int] = []
    for batch in batches:
        outcomes = store.commit([command(create_team(s, "T", "T2")) for s in batch])
        positions.extend(p for outcome in outcomes for p in committed(outcome).positions)
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    entries = log(store)
    assert [position for position, *_ in entries] == positions
    assert [stream for _, stream, *_ in entries] == [s for s in streams for _ in range(2)]
    assert store.last_position() == positions[-1]


def test_read_pages_the_log(store: EventStore) -> None:
    streams = [uuid4() for _ in range(7)]
    store.commit([command(create_team(s)) for s in streams])
    everything = store.read(0, 100)
    assert [e.stream_id for e in everything] == streams
    first = store.read(0, 3)
    second = store.read(first[-1].position, 3)
    third = store.read(second[-1].position, 3)
    assert [len(page) for page in (first, second, third)] == [3, 3, 1]
    assert first + second + third == everything
    assert store.read(everything[-1].position, 3) == []
    pages = list(iter_pages(store, 0, 3))
    assert [e for page in pages for e in page] == everything
    assert store.read(0, 100, until=everything[2].position) == everything[:3]


def test_read_can_keep_to_some_event_types(store: EventStore) -> None:
    a, b = uuid4(), uuid4()
    store.commit([command(create_team(a, "A", "A2")), command(create_team(b, "B"))])
    renamed = store.read(0, 100, types=["TeamRenamed"])
    assert [(e.stream_id, e.data) for e in renamed] == [(a, team.TeamRenamed("A2"))]


def test_a_recorded_event_keeps_its_data_and_metadata(store: EventStore) -> None:
    a = uuid4()
    event = new(team.TeamCreated(a, "Payments", 12.5))
    [outcome] = store.commit([command(StreamAppend(a, 0, (event,)))])
    [recorded] = store.load(a)
    assert recorded.position == committed(outcome).positions[0]
    assert (recorded.stream_id, recorded.version, recorded.type) == (a, 1, "TeamCreated")
    assert recorded.data == event.event
    assert recorded.metadata == event.metadata


def test_a_stream_is_loaded_after_a_version(store: EventStore) -> None:
    a = uuid4()
    store.commit([command(create_team(a, "A", "A2", "A3"))])
    assert [e.version for e in store.load(a, after_version=1)] == [2, 3]
    assert store.load(a, after_version=3) == []


def test_streams_created_by_lists_the_streams_whose_first_event_has_that_type(
    store: EventStore,
) -> None:
    first, second, person = uuid4(), uuid4(), uuid4()
    registered = member.MemberRegistered(person, "Alice", "a@example.com", "member", 10.0)
    store.commit([command(create_team(first, "A", "A2"))])
    store.commit(
        [command(StreamAppend(person, 0, (new(registered),))), command(create_team(second))]
    )
    assert store.streams_created_by("TeamCreated") == [first, second]
    assert store.streams_created_by("MemberRegistered") == [person]
    assert store.streams_created_by("TeamRenamed") == []


# The group committer


class Gate:
    """Holds the committer inside one batch until released, so the next batch can gather."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def hold(self, pending: PendingCommit) -> PendingCommit:
        render = pending.render
        assert render is not None

        def held(positions: Sequence[int], batch_last: int) -> StoredResponse:
            self.entered.set()
            assert self.release.wait(10)
            return render(positions, batch_last)

        pending.render = held
        return pending


@pytest.fixture
def committer(store: EventStore) -> Iterator[GroupCommitter]:
    started = GroupCommitter(store)
    started.start()
    yield started
    started.stop()


def gather_behind_a_held_batch(
    committer: GroupCommitter, pendings: Sequence[PendingCommit]
) -> tuple[Future[CommitOutcome], list[Future[CommitOutcome]]]:
    """Submits ``pendings`` while the committer is held in an earlier batch, then lets it go.

    They are all waiting when the committer comes back for more, so they form one batch.
    """
    gate = Gate()
    pool = ThreadPoolExecutor(max_workers=len(pendings) + 1)
    try:
        held = pool.submit(committer.submit, gate.hold(command(create_team(uuid4()))))
        assert gate.entered.wait(10)
        futures = [pool.submit(committer.submit, pending) for pending in pendings]
        wait_until(lambda: committer._queue.qsize() == len(pendings))
        gate.release.set()
        for future in [held, *futures]:
            future.exception(timeout=10)
    finally:
        gate.release.set()
        pool.shutdown(wait=True)
    return held, futures


def test_commands_waiting_together_are_committed_as_one_batch_each_with_its_own_outcome(
    store: EventStore, committer: GroupCommitter
) -> None:
    contested = uuid4()
    pendings = [command(create_team(uuid4()), tag=f"own-{n}") for n in range(20)]
    pendings += [command(create_team(contested, f"Contender {n}"), tag="c") for n in range(2)]
    held, futures = gather_behind_a_held_batch(committer, pendings)
    committed(held.result())
    assert (committer.batches, committer.commands) == (2, 23)
    outcomes = [future.result() for future in futures]
    for n, outcome in enumerate(outcomes[:20]):
        response = committed(outcome).response
        assert response is not None
        assert response.body == {"tag": f"own-{n}", "positions": list(committed(outcome).positions)}
    assert outcomes[21] == VersionConflict(contested, 0, 1)
    committed(outcomes[20])
    positions = [p for outcome in outcomes[:21] for p in committed(outcome).positions]
    assert positions == list(range(positions[0], positions[0] + 21))
    assert names(store, contested) == ["Contender 0"]


def test_many_threads_submitting_at_once_share_batches_and_each_hears_its_own_outcome(
    store: EventStore, committer: GroupCommitter
) -> None:
    threads = 48
    contested = [uuid4() for _ in range(threads // 4)]
    pendings = [
        command(create_team(contested[(n // 2) % len(contested)], f"Team {n}"), tag=str(n))
        if n % 2
        else command(create_team(uuid4()), tag=str(n))
        for n in range(threads)
    ]
    start = threading.Barrier(threads)

    def submit(pending: PendingCommit) -> CommitOutcome:
        start.wait(10)
        return committer.submit(pending)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(submit, pendings))
    assert committer.commands == threads
    assert committer.batches < threads
    for n, outcome in enumerate(outcomes):
        if isinstance(outcome, Committed):
            assert outcome.response is not None
            assert outcome.response.body["tag"] == str(n)
        else:
            assert n % 2 == 1
            assert outcome == VersionConflict(contested[(n // 2) % len(contested)], 0, 1)
    winners = [o for n, o in enumerate(outcomes) if n % 2 and isinstance(o, Committed)]
    assert len(winners) == len(contested)
    all_positions = [p for o in outcomes if isinstance(o, Committed) for p in o.positions]
    assert sorted(all_positions) == [e.position for e in store.read(0, 1_000)]


def test_when_a_batch_fails_each_command_is_tried_alone_and_only_the_faulty_one_fails(
    store: EventStore, committer: GroupCommitter
) -> None:
    broken = command(create_team(uuid4()))
    broken.render = failing_render
    pendings = [command(create_team(uuid4())), broken, command(create_team(uuid4()))]
    held, (first, faulty, last) = gather_behind_a_held_batch(committer, pendings)
    assert isinstance(faulty.exception(), RenderFailed)
    written = [
        *committed(held.result()).positions,
        *committed(first.result()).positions,
        *committed(last.result()).positions,
    ]
    assert sorted(written) == [e.position for e in store.read(0, 100)]
    committed(committer.submit(command(create_team(uuid4()))))


def test_a_command_whose_events_can_not_be_stored_fails_alone(
    store: EventStore, committer: GroupCommitter
) -> None:
    good, bad = uuid4(), uuid4()
    unencodable = StreamAppend(bad, 0, (new(team.TeamCreated(bad, "Pay\ud800", None)),))
    _, (good_future, bad_future) = gather_behind_a_held_batch(
        committer, [command(create_team(good)), command(unencodable)]
    )
    assert bad_future.exception() is not None
    committed(good_future.result())


def test_a_claim_the_database_refuses_fails_only_its_own_command(
    postgres_backend: Backend,
) -> None:
    store = EventStore(postgres_backend, make_codec(), FrozenClock())
    committer = GroupCommitter(store)
    committer.start()
    try:
        good, bad = uuid4(), uuid4()
        nul_claim = [claim("a\x00b@example.com", bad)]
        _, (good_future, bad_future) = gather_behind_a_held_batch(
            committer, [command(create_team(good)), command(create_team(bad), claims=nul_claim)]
        )
    finally:
        committer.stop()
    assert bad_future.exception() is not None
    committed(good_future.result())


def test_a_stopped_committer_refuses_commands(store: EventStore) -> None:
    committer = GroupCommitter(store)
    with pytest.raises(CommitterStopped):
        committer.submit(command(create_team(uuid4())))
    committer.start()
    committer.stop()
    with pytest.raises(CommitterStopped):
        committer.submit(command(create_team(uuid4())))
    assert log(store) == []


class HeldQueue(queue.SimpleQueue[Any]):
    """A committer queue that holds the first command at the door until released."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.release = threading.Event()
        self._held_one = False

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is not None and not self._held_one:
            self._held_one = True
            self.holding.set()
            self.release.wait(10)
        super().put(item, block, timeout)


def test_a_command_submitted_while_the_committer_stops_is_answered_or_refused(
    sqlite_backend: Backend,
) -> None:
    store = EventStore(sqlite_backend, make_codec(), FrozenClock())
    committer = GroupCommitter(store)
    held = HeldQueue()
    committer._queue = held
    committer.start()
    answer: list[CommitOutcome | BaseException] = []

    def submit() -> None:
        try:
            answer.append(committer.submit(command(create_team(uuid4()))))
        except CommitterStopped as error:
            answer.append(error)

    submitter = threading.Thread(target=submit, daemon=True)
    submitter.start()
    stopper = threading.Thread(target=committer.stop, daemon=True)
    try:
        assert held.holding.wait(10)
        stopper.start()
        stopper.join(timeout=0.5)
        held.release.set()
        stopper.join(timeout=10)
        submitter.join(timeout=1)
        assert not submitter.is_alive(), "the command was never answered"
        assert len(answer) == 1
    finally:
        held.release.set()
        # Answer a command stranded behind the stop marker, so its thread can end.
        while not held.empty():
            job = held.get_nowait()
            if job is not None:
                job.future.set_exception(CommitterStopped("stranded"))
        submitter.join(timeout=10)


# Independent reads sent together


def test_statements_read_together_answer_each_its_own_rows_in_order(
    backend: Backend, store: EventStore
) -> None:
    committed(store.commit([command(create_team(uuid4(), "Payments", "Billing", "Ledger"))])[0])
    committed(store.commit([command(create_team(uuid4(), "Platform"))])[0])
    count = Statement("SELECT COUNT(*) FROM workledger_events")
    later = Statement(
        "SELECT originator_version FROM workledger_events WHERE originator_version > %s "
        "ORDER BY originator_version",
        (1,),
        prepare=True,
    )
    nothing = Statement("SELECT originator_version FROM workledger_events WHERE 1 = 0")

    assert backend.fetch_each([count, later, nothing, later]) == [
        [(4,)],
        [(2,), (3,)],
        [],
        [(2,), (3,)],
    ]
    assert backend.fetch_each([]) == []


def test_a_failing_statement_read_together_is_an_error_and_the_next_reads_work(
    backend: Backend, store: EventStore
) -> None:
    committed(store.commit([command(create_team(uuid4()))])[0])
    count = Statement("SELECT COUNT(*) FROM workledger_events")

    with pytest.raises(Exception, match="no_such_table"):
        backend.fetch_each([count, Statement("SELECT * FROM no_such_table"), count])

    for _ in range(3):
        assert backend.fetch_each([count, count]) == [[(1,)], [(1,)]]


# Locks across processes

_HOLD_LOCK = """
import sys
kind, where, name = sys.argv[1:]
if kind == "sqlite":
    from services.infrastructure.sqlite import SQLiteBackend
    backend = SQLiteBackend(where)
else:
    from services.infrastructure.postgres import PostgresBackend
    backend = PostgresBackend.from_url(where, pool_size=1, max_overflow=0)
lock = backend.try_lock(name)
print("held" if lock else "refused", flush=True)
sys.stdin.read()
"""


def _where(backend: Backend) -> tuple[str, str]:
    if isinstance(backend, SQLiteBackend):
        return "sqlite", backend.path
    assert isinstance(backend, PostgresBackend)
    return "postgresql", backend.url


def _try_until(backend: Backend, name: str, seconds: float) -> HeldLock | None:
    deadline = time.monotonic() + seconds
    while (lock := backend.try_lock(name)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return lock


def test_a_lock_is_its_holders_alone_until_released(backend: Backend) -> None:
    first = backend.try_lock("relay:orders")
    assert first is not None
    assert first.held()

    assert backend.try_lock("relay:orders") is None
    other = backend.try_lock("relay:invoices")
    assert other is not None

    first.release()
    assert not first.held()
    again = backend.try_lock("relay:orders")
    assert again is not None
    assert again.held()
    for lock in (other, again):
        lock.release()


def test_a_lock_is_free_as_soon_as_the_process_holding_it_dies(backend: Backend) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, *_where(backend), "relay:orders"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"held\n"
        assert backend.try_lock("relay:orders") is None
    finally:
        holder.kill()
        holder.wait()

    lock = _try_until(backend, "relay:orders", 5.0)
    assert lock is not None, "the dead holder's lock was not released"
    lock.release()


def test_a_lock_whose_connection_is_terminated_is_lost_and_free(
    postgres_backend: Backend, postgres_url: str
) -> None:
    lock = postgres_backend.try_lock("relay:orders")
    assert lock is not None
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        terminated = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchall()
    assert terminated == [(True,)]

    assert not lock.held()
    taken = _try_until(postgres_backend, "relay:orders", 5.0)
    assert taken is not None
    taken.release()


# Setting up a database

STARTING_AT_ONCE = 6


def test_processes_starting_at_once_on_one_database_all_set_it_up(
    postgres_server_url: str,
) -> None:
    """``api`` and ``worker`` started together both create what they need if it is missing:
    the log's table, its notification function (replaced on every start), tokens, relay
    positions, views. Concurrent DDL on one catalog entry fails ("tuple concurrently updated"),
    so they must take turns."""
    url = create_database(postgres_server_url, "workledger_setup")
    try:
        for _ in range(3):
            ready = threading.Barrier(STARTING_AT_ONCE)

            def start(ready: threading.Barrier) -> None:
                ready.wait()
                backend = PostgresBackend.from_url(url, pool_size=1, max_overflow=1)
                try:
                    TokenStore(backend)
                    RelayPositions(backend)
                    ensure_projection(backend, QUEUE)
                finally:
                    backend.close()

            with ThreadPoolExecutor(STARTING_AT_ONCE) as pool:
                for started in [pool.submit(start, ready) for _ in range(STARTING_AT_ONCE)]:
                    started.result()
    finally:
        drop_database(postgres_server_url, url)
