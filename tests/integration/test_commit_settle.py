"""A commit whose reply is lost is settled by reading the log back, never retried blind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Literal
from uuid import uuid4

import pytest

from services.app import make_codec
from services.infrastructure.committer import GroupCommitter
from services.infrastructure.store import (
    Backend,
    CommitOutcomeUnknown,
    Committed,
    EventStore,
    WriteTransaction,
)
from tests.conftest import FrozenClock
from tests.integration.test_store import command, create_team, gather_behind_a_held_batch, log

Loss = Literal["before_commit", "after_commit"]


class ConnectionLost(Exception):
    """Stands for the driver's error when the server's connection ends mid-commit."""


def losing(
    real: Callable[[], AbstractContextManager[WriteTransaction]], loss: Loss
) -> Callable[[], AbstractContextManager[WriteTransaction]]:
    """A write transaction that loses its connection just before, or just after, it commits."""

    @contextmanager
    def transaction() -> Iterator[WriteTransaction]:
        with real() as tx:
            yield tx
            if loss == "before_commit":
                raise ConnectionLost("the connection ended before the COMMIT reached the server")
        if loss == "after_commit":
            raise ConnectionLost("the connection ended before the COMMIT's reply came back")

    return transaction


@pytest.fixture
def store(backend: Backend) -> EventStore:
    return EventStore(backend, make_codec(), FrozenClock(), settle_seconds=0.3)


def test_a_batch_written_before_its_reply_was_lost_is_answered_as_committed(
    store: EventStore, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.commit([command(create_team(uuid4()))])
    monkeypatch.setattr(
        backend, "write_transaction", losing(backend.write_transaction, "after_commit")
    )
    batch = [command(create_team(uuid4()), tag=f"t{n}", key=f"k{n}") for n in range(3)]

    outcomes = store.commit(batch)

    events = log(store)
    assert [type(o) for o in outcomes] == [Committed] * 3
    assert [p for o in outcomes if isinstance(o, Committed) for p in o.positions] == [
        position for position, *_ in events[1:]
    ]
    for n, outcome in enumerate(outcomes):
        assert isinstance(outcome, Committed)
        assert outcome.response is not None
        assert outcome.response.body["tag"] == f"t{n}"
        assert store.stored_response("alice", f"k{n}") == outcome.response


def test_a_batch_lost_before_its_commit_raises_and_writes_nothing(
    store: EventStore, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        backend, "write_transaction", losing(backend.write_transaction, "before_commit")
    )

    with pytest.raises(ConnectionLost):
        store.commit([command(create_team(uuid4()), key="k")])

    assert log(store) == []
    assert store.stored_response("alice", "k") is None


def test_a_batch_of_answers_alone_is_settled_by_its_idempotency_records(
    store: EventStore, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        backend, "write_transaction", losing(backend.write_transaction, "after_commit")
    )
    answer_only = command(key="tick")

    [outcome] = store.commit([answer_only])

    assert isinstance(outcome, Committed)
    assert outcome.positions == ()
    assert store.stored_response("alice", "tick") == outcome.response


def test_a_batch_whose_fate_cant_be_read_back_is_outcome_unknown_and_never_tried_again(
    store: EventStore, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        backend, "write_transaction", losing(backend.write_transaction, "after_commit")
    )

    def unreachable(*_: object) -> None:
        raise ConnectionLost("the database is out of reach")

    monkeypatch.setattr(backend, "select_events_at", unreachable)
    committer = GroupCommitter(store)
    committer.start()
    try:
        held, futures = gather_behind_a_held_batch(
            committer, [command(create_team(uuid4())) for _ in range(3)]
        )
    finally:
        committer.stop()

    for future in [held, *futures]:
        assert isinstance(future.exception(), CommitOutcomeUnknown)
    # Each was written once: none was tried alone again after its unknown outcome.
    assert [type(event).__name__ for *_, event in log(store)] == ["TeamCreated"] * 4
