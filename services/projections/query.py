"""What every query shares: ``as_of`` and ``min_position``, snapshots, cursors, the registry.

A query names the read model it reads. With ``min_position`` it first waits (bounded) until that
read model has applied the position a command answered, so a client reads its own writes; with
``as_of`` it sees the versions that were valid at that moment instead of the current ones.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

import anyio.to_thread
import orjson
from fastapi import Depends, Query, Request

from services.infrastructure.http import CurrentPrincipal, ProblemError
from services.infrastructure.parameters import DIGITS, parse_time, time_query
from services.infrastructure.store import MAX_POSITION, Backend, EventStore, SqlCursor, Statement
from services.infrastructure.tokens import Principal
from services.projections.readmodel import Snapshot, micros
from services.projections.runner import Projection, read_state

T = TypeVar("T")

# The longest a query waits for ``min_position`` before answering 409.
MAX_WAIT_SECONDS = 5.0
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# A cursor is base64url of a short JSON list; none this API gives out comes near this long.
MAX_CURSOR_LENGTH = 1024
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"
_CURSOR = re.compile(CURSOR_PATTERN)
# What a value of a cursor may be, to reach SQL: a 64-bit integer, a string without NUL.
_SMALLEST, _LARGEST = -(2**63), 2**63 - 1


class ReadModels:
    """The read models of this process and where each one stands."""

    def __init__(
        self,
        backend: Backend,
        store: EventStore,
        projections: Sequence[Projection],
        *,
        max_wait: float = MAX_WAIT_SECONDS,
    ) -> None:
        self.backend = backend
        self.store = store
        self.projections = {projection.name: projection for projection in projections}
        self.max_wait = max_wait

    def projection(self, name: str) -> Projection:
        return self.projections[name]

    def snapshot(self, name: str, as_of: datetime | None) -> Snapshot:
        state = read_state(self.backend, name)
        if state is None:
            raise ProblemError(503, "unavailable", f"the {name} view is not built yet")
        known = self.projections[name].schema_version
        if state.schema_version != known:
            # Another release's copy: its tables are not the ones this process reads.
            raise ProblemError(
                503,
                "unavailable",
                f"the {name} view is at schema version {state.schema_version}; this release "
                f"reads version {known}, which is being built from the log: ask again shortly",
                headers={"Retry-After": "5"},
            )
        moment = micros(as_of) if as_of is not None else None
        return Snapshot(state.generation, moment, state.position)

    def position(self, name: str) -> int:
        state = read_state(self.backend, name)
        return state.position if state else 0

    def wait_for(self, name: str, min_position: int) -> None:
        """Blocks until the read model has applied ``min_position``, for up to ``max_wait``
        seconds; 409 with the position it has applied if it has not by then."""
        deadline = time.monotonic() + self.max_wait
        while True:
            position = self.position(name)
            if position >= min_position:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProblemError(
                    409,
                    "not_caught_up",
                    f"the {name} view has applied position {position}, not yet "
                    f"{min_position}; ask again shortly",
                    extra={"position": position, "min_position": min_position},
                    headers={"Retry-After": "1"},
                )
            # Projection commits don't signal; a short sleep is cheap and bounded.
            time.sleep(min(0.005, remaining))


def parse_as_of(value: str | None) -> datetime | None:
    return None if value is None else parse_time(value, "as_of")


@dataclass
class ViewRequest:
    """One query's reading conditions."""

    read_models: ReadModels
    principal: Principal
    as_of: datetime | None
    min_position: int | None
    now: datetime
    """The moment the view describes: ``as_of`` when given, else the clock's now. "Overdue",
    "late" and "this week" are judged against it."""

    async def answer(self, name: str, read: Callable[[Snapshot], T]) -> T:
        """What ``read`` finds in the named view's snapshot, once the view has applied
        ``min_position``: waiting, finding the snapshot and reading all happen on one worker
        thread, so a query is handed off from the event loop once."""

        def run() -> T:
            if self.min_position is not None:
                self.read_models.wait_for(name, self.min_position)
            return read(self.read_models.snapshot(name, self.as_of))

        return await anyio.to_thread.run_sync(run)

    def fetchall(
        self, sql: str, params: Sequence[Any] = (), *, prepare: bool = False
    ) -> list[tuple[Any, ...]]:
        """The rows of one statement. ``prepare`` for statements whose best plan does not depend
        on their values (lookups by key): PostgreSQL then plans them once per connection, which
        for a join costs more than running it."""
        return self.read_models.backend.fetchall(sql, params, prepare=prepare)

    def fetch_each(self, *statements: Statement) -> list[list[tuple[Any, ...]]]:
        """The rows of each of several independent statements: on PostgreSQL, pipelined."""
        return self.read_models.backend.fetch_each(statements)

    def read(self, queries: Callable[[SqlCursor], T]) -> T:
        """Runs ``queries`` in one read-only transaction, so they all see one snapshot."""
        with self.read_models.backend.read_transaction() as cursor:
            return queries(cursor)


async def view_request(
    request: Request,
    principal: CurrentPrincipal,
    as_of: Annotated[str | None, time_query("Answer as the view was at this moment")] = None,
    min_position: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_POSITION,
            description="First wait (up to 5 s) until the view has applied this position.",
        ),
        DIGITS,
    ] = None,
) -> ViewRequest:
    read_models: ReadModels = request.app.state.read_models
    moment = parse_as_of(as_of)
    clock: Callable[[], datetime] = request.app.state.clock
    return ViewRequest(read_models, principal, moment, min_position, moment or clock())


View = Annotated[ViewRequest, Depends(view_request)]


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def _malformed_cursor() -> ProblemError:
    return ProblemError(
        400,
        "validation_error",
        "cursor is not one this API gave out",
        errors=[{"field": "cursor", "message": "malformed"}],
    )


def _storable(value: Any) -> bool:
    """Whether a cursor's value can be bound to a statement on every backend (SQLite's integers
    are 64-bit; PostgreSQL's text holds no NUL)."""
    if isinstance(value, int):
        return _SMALLEST <= value <= _LARGEST
    if isinstance(value, str):
        return "\x00" not in value
    return True


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if cursor is None:
        return None
    decoded = None
    if _CURSOR.fullmatch(cursor):
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            decoded = orjson.loads(base64.urlsafe_b64decode(padded))
        except (ValueError, orjson.JSONDecodeError):
            decoded = None
    if not isinstance(decoded, list) or not all(_storable(value) for value in decoded):
        raise _malformed_cursor()
    return decoded


def decode_cursor_of(cursor: str | None, kinds: Sequence[type]) -> list[Any] | None:
    """A cursor's values, checked to be exactly ``kinds`` (``True`` is no ``int`` here)."""
    values = decode_cursor(cursor)
    if values is None:
        return None
    if len(values) != len(kinds) or not all(
        type(value) is kind for value, kind in zip(values, kinds, strict=True)
    ):
        raise _malformed_cursor()
    return values


def decode_position_cursor(cursor: str | None) -> int | None:
    """The log position a cursor of one position carries."""
    values = decode_cursor_of(cursor, (int,))
    return None if values is None else int(values[0])


def one_of(view: ViewRequest, column: str, values: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
    """The condition that ``column`` is one of ``values`` (ids in text), and its parameters.

    The values travel as one parameter however many there are, so each statement keeps one
    shape: the driver parses it once and PostgreSQL reuses its prepared plan. An array literal
    takes UUIDs unquoted, and building it is much cheaper than the driver's adaptation of a
    list, which inspects every element.
    """
    if view.read_models.backend.name == "postgresql":
        return f"{column} = ANY(CAST(%s AS text[]))", ("{" + ",".join(values) + "}",)
    return f"{column} IN (SELECT value FROM json_each(%s))", (orjson.dumps(list(values)).decode(),)


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most items in one page."), DIGITS]
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        description="The `next_cursor` of the previous page.",
        json_schema_extra={"pattern": CURSOR_PATTERN},
    ),
]
