"""The one command handler: load, decide, append with expected versions, answer.

Every command runs as an *action* against a ``Session``: the action loads the streams it needs,
asks the domain to decide, and names the object it answers for. The handler then submits what the
session wrote to the group committer. A command whose streams moved on meanwhile (another writer
got there first) is decided again by the committer, under the write lock, on the state that holds
then: commands that don't contradict each other never fail for having run at the same time. With
``If-Match`` it is a ``412`` instead, because the caller asked to change exactly the version it saw.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as replaced
from datetime import datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from domain.catalog import MEMBER, Aggregate
from domain.errors import DomainError, NotFound
from services.command.authority import EVERY_TEAM, Authority
from services.command.outcomes import (
    Accepted,
    ClaimConflict,
    ConcurrencyConflict,
    IdempotencyKeyReused,
    PreconditionFailed,
)
from services.command.streams import Loaded, StreamCache, StreamReader
from services.infrastructure.codec import EventMetadata
from services.infrastructure.committer import GroupCommitter
from services.infrastructure.ids import new_id
from services.infrastructure.store import (
    Claim,
    ClaimTaken,
    Committed,
    EventStore,
    IdempotencyKey,
    LockedReads,
    NewEvent,
    PendingCommit,
    Refused,
    Render,
    Replayed,
    StoredResponse,
    StreamAppend,
    VersionConflict,
)

S = TypeVar("S")
C = TypeVar("C")
E = TypeVar("E")


@dataclass(frozen=True)
class CommandContext:
    """Who is acting, when, and as part of what."""

    actor: str
    principal: str
    now: datetime
    correlation_id: UUID
    causation_id: UUID
    authority: Authority = EVERY_TEAM


@dataclass(frozen=True)
class Reply:
    """What an action answers: the object it acted on, whether it was created, and extras."""

    id: UUID
    created: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Session:
    """One attempt at one command: what it read, and what it wants to write.

    A session decided again under the write lock reads through the batch (``LockedReads``),
    which includes events not committed yet: it must not ``remember`` what it loads.
    """

    def __init__(
        self,
        store: StreamReader,
        cache: StreamCache,
        context: CommandContext,
        *,
        trust_cache: bool = True,
        remember: bool = True,
    ) -> None:
        self.context = context
        self._trust_cache = trust_cache
        self._remember = remember
        self._store = store
        self._cache = cache
        self._loaded: dict[tuple[str, UUID], Loaded[Any]] = {}
        self._writers: dict[UUID, Aggregate[Any, Any, Any]] = {}
        self._read_versions: dict[UUID, int] = {}
        self._new: dict[UUID, list[NewEvent]] = {}
        self._claims: list[Claim] = []

    @property
    def now(self) -> datetime:
        return self.context.now

    def load(self, aggregate: Aggregate[S, C, E], stream_id: UUID) -> Loaded[S]:
        """The current state of a stream as ``aggregate``; its version is checked at commit."""
        known = self._loaded.get((aggregate.kind, stream_id))
        if known is not None:
            return cast(Loaded[S], known)
        cached = self._cache.get(aggregate.kind, stream_id)
        if cached is not None and self._trust_cache:
            # Optimistic: the commit re-checks this version, and a stale one is retried fresh.
            trusted: Loaded[S] = Loaded(cached.state, cached.version, cached.position)
            self._loaded[(aggregate.kind, stream_id)] = trusted
            self._read_versions[stream_id] = cached.version
            return trusted
        state: S | None = cached.state if cached else None
        version = cached.version if cached else 0
        position = cached.position if cached else 0
        newer = self._store.load(stream_id, after_version=version)
        if newer and not isinstance(newer[0].data, aggregate.event_classes):
            # The id belongs to another kind of object: as this kind, it does not exist.
            self._read_versions[stream_id] = newer[-1].version
            missing: Loaded[S] = Loaded(None, 0, 0)
            self._loaded[(aggregate.kind, stream_id)] = missing
            return missing
        for recorded in newer:
            state = aggregate.evolve(state, recorded.data)
            version, position = recorded.version, recorded.position
        loaded: Loaded[S] = Loaded(state, version, position)
        if newer and self._remember:
            self._cache.put(aggregate.kind, stream_id, Loaded(state, version, position))
        self._loaded[(aggregate.kind, stream_id)] = loaded
        self._read_versions[stream_id] = version
        return loaded

    def require(self, aggregate: Aggregate[S, C, E], stream_id: UUID, field: str) -> S:
        """The state of an object the command refers to; ``NotFound`` naming ``field`` if none."""
        state = self.load(aggregate, stream_id).state
        if state is None:
            raise NotFound(f"no {aggregate.kind} with id {stream_id}", field=field)
        return state

    def decide(self, aggregate: Aggregate[S, C, E], stream_id: UUID, command: C) -> list[E]:
        """Decides ``command`` against the stream and records the resulting events."""
        loaded = self.load(aggregate, stream_id)
        events = list(aggregate.decide(command, loaded.state, self.context.now))
        if events:
            self._writers[stream_id] = aggregate
            pending = self._new.setdefault(stream_id, [])
            for event in events:
                loaded.state = aggregate.evolve(loaded.state, event)
                pending.append(NewEvent(event, self._metadata()))
            loaded.version += len(events)
        return events

    def written_states(self) -> list[Any]:
        """The state, as this session leaves it, of every object it writes."""
        return [self._loaded[(w.kind, stream_id)].state for stream_id, w in self._writers.items()]

    def claim(self, scope: str, value: str, owner_id: UUID) -> None:
        """Reserves a unique value for ``owner_id``, atomically with the events."""
        self._claims.append(Claim(scope, value, owner_id))

    def _current(self, stream_id: UUID) -> Loaded[Any] | None:
        writer = self._writers.get(stream_id)
        if writer is not None:
            return self._loaded[(writer.kind, stream_id)]
        for (_, loaded_id), loaded in self._loaded.items():
            if loaded_id == stream_id and loaded.state is not None:
                return loaded
        return None

    def version_of(self, stream_id: UUID) -> int:
        current = self._current(stream_id)
        return current.version if current else 0

    def position_of(self, stream_id: UUID) -> int:
        current = self._current(stream_id)
        return current.position if current else 0

    def _metadata(self) -> EventMetadata:
        return EventMetadata(
            event_id=new_id(),
            actor=self.context.actor,
            occurred_at=self.context.now,
            correlation_id=self.context.correlation_id,
            causation_id=self.context.causation_id,
        )

    def pending(self) -> PendingCommit:
        appends = [
            StreamAppend(stream_id, self._read_versions[stream_id], tuple(events))
            for stream_id, events in self._new.items()
        ]
        observed = {
            stream_id: version
            for stream_id, version in self._read_versions.items()
            if stream_id not in self._new
        }
        return PendingCommit(appends=appends, observed=observed, claims=list(self._claims))

    def remember_committed(self, positions: Sequence[int]) -> None:
        """After a commit, the written streams' new states go to the cache."""
        cursor = 0
        for stream_id, events in self._new.items():
            aggregate = self._writers[stream_id]
            loaded = self._loaded[(aggregate.kind, stream_id)]
            cursor += len(events)
            loaded.position = positions[cursor - 1]
            self._cache.put(
                aggregate.kind, stream_id, Loaded(loaded.state, loaded.version, loaded.position)
            )


Action = Callable[[Session], Reply]


class CommandHandler:
    """Runs actions with retries, conflict detection and idempotency."""

    def __init__(
        self,
        store: EventStore,
        committer: GroupCommitter,
        *,
        retries: int = 5,
        cache: StreamCache | None = None,
    ) -> None:
        self.store = store
        self._committer = committer
        self._retries = retries
        self._cache = cache or StreamCache()

    def execute(
        self,
        context: CommandContext,
        action: Action,
        *,
        target: tuple[Aggregate[Any, Any, Any], UUID] | None = None,
        if_match: int | None = None,
        idempotency_key: str | None = None,
        fingerprint: str = "",
    ) -> Accepted:
        """Runs ``action`` until it commits, and answers ``{id, version, position}``."""
        action = context.authority.guard(action, target)
        key = (
            IdempotencyKey(context.principal, idempotency_key, fingerprint)
            if idempotency_key
            else None
        )
        if key is not None:
            stored = self.store.stored_response(key.principal, key.key)
            if stored is not None:
                return self._replay(key, stored)
        for attempt in range(self._retries):
            session = Session(self.store, self._cache, context, trust_cache=attempt == 0)
            if target is not None and if_match is not None:
                aggregate, stream_id = target
                current = session.load(aggregate, stream_id)
                if current.version != if_match and attempt == 0:
                    # The cache may lag other processes: judge the precondition on a fresh read.
                    session = Session(self.store, self._cache, context, trust_cache=False)
                    current = session.load(aggregate, stream_id)
                if current.state is None:
                    raise NotFound(f"no {aggregate.kind} with id {stream_id}")
                if current.version != if_match:
                    raise PreconditionFailed(if_match, current.version)
            reply = action(session)
            decided = [session]
            pending = session.pending()
            pending.idempotency = key
            pending.render = _renderer(session, reply, fingerprint)
            pending.occurs_at_commit = True
            pending.redecide = self._redecider(
                context, action, target, if_match, key, fingerprint, decided
            )
            outcome = self._committer.submit(pending)
            match outcome:
                case Committed(positions=positions, response=response):
                    decided[-1].remember_committed(positions)
                    assert response is not None
                    return Accepted(response.status, response.body)
                case Replayed(response=stored):
                    assert key is not None
                    return self._replay(key, stored)
                case ClaimTaken(claim=claim, owner_id=owner_id):
                    raise ClaimConflict(claim, owner_id)
                case Refused(error=error):
                    raise error
                case VersionConflict(stream_id=stream_id, actual=actual):
                    if if_match is not None and target is not None and stream_id == target[1]:
                        raise PreconditionFailed(if_match, actual)
                    # Decided again under the lock and still refused: only a writer in another
                    # process that does not take the same lock can cause this. Back off a little.
                    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                    continue
        raise ConcurrencyConflict("the objects kept changing under this command; try again")

    def _redecider(
        self,
        context: CommandContext,
        action: Action,
        target: tuple[Aggregate[Any, Any, Any], UUID] | None,
        if_match: int | None,
        key: IdempotencyKey | None,
        fingerprint: str,
        decided: list[Session],
    ) -> Callable[[LockedReads], PendingCommit | Refused]:
        """The command decided again on the latest state, inside the batch's transaction."""

        def redecide(reads: LockedReads) -> PendingCommit | Refused:
            session = Session(
                reads,
                self._cache,
                replaced(context, now=reads.now),
                trust_cache=False,
                remember=False,
            )
            try:
                if target is not None and if_match is not None:
                    aggregate, stream_id = target
                    current = session.load(aggregate, stream_id)
                    if current.state is None:
                        raise NotFound(f"no {aggregate.kind} with id {stream_id}")
                    if current.version != if_match:
                        raise PreconditionFailed(if_match, current.version)
                reply = action(session)
            except (DomainError, PreconditionFailed) as error:
                return Refused(error)
            decided.append(session)
            pending = session.pending()
            pending.idempotency = key
            pending.render = _renderer(session, reply, fingerprint)
            pending.occurs_at_commit = True
            return pending

        return redecide

    def answer_once(
        self,
        context: CommandContext,
        run: Callable[[], tuple[int, dict[str, Any]]],
        *,
        idempotency_key: str | None = None,
        fingerprint: str = "",
    ) -> Accepted:
        """Answers ``run``'s ``(status, body)``: for a request whose work is itself safe to
        repeat (it commits as it goes), so that a retry with the same key answers what the
        first request answered rather than what is left to do."""
        if idempotency_key is None:
            status, body = run()
            return Accepted(status, body)
        key = IdempotencyKey(context.principal, idempotency_key, fingerprint)
        stored = self.store.stored_response(key.principal, key.key)
        if stored is not None:
            return self._replay(key, stored)
        status, body = run()
        answer = StoredResponse(status, body, fingerprint)
        # A commit of no events that records the key with its answer.
        outcome = self._committer.submit(
            PendingCommit([], idempotency=key, render=lambda _own, _last: answer)
        )
        match outcome:
            case Committed():
                return Accepted(status, body)
            case Replayed(response=first):
                # A concurrent request with the same key recorded its answer first.
                return self._replay(key, first)
        raise ConcurrencyConflict(f"the answer of key {idempotency_key} was not recorded")

    def member_is_active(self, context: CommandContext, member_id: UUID) -> bool:
        """Whether a member may still act (a deactivated member's tokens write nothing)."""
        member = Session(self.store, self._cache, context).load(MEMBER, member_id).state
        return member is not None and member.active

    @staticmethod
    def _replay(key: IdempotencyKey, stored: StoredResponse) -> Accepted:
        if stored.fingerprint != key.fingerprint:
            raise IdempotencyKeyReused(key.key)
        return Accepted(stored.status, stored.body, replayed=True)


def _renderer(session: Session, reply: Reply, fingerprint: str) -> Render:
    def render(positions: Sequence[int], batch_last: int) -> StoredResponse:
        # A command that writes nothing answers the position of the object's state it saw;
        # one written earlier in the same batch has no position yet but the batch's last.
        seen = session.position_of(reply.id)
        position = positions[-1] if positions else (seen if seen >= 0 else batch_last)
        body: dict[str, Any] = {
            "id": str(reply.id),
            "version": session.version_of(reply.id),
            "position": position,
            **reply.extra,
        }
        return StoredResponse(201 if reply.created else 200, body, fingerprint)

    return render
