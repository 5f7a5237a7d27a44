"""How long the database may keep silent, once asked, before the work at hand gives up on it.

A database that stops answering without closing its connections (a host gone dark, a network
dropping packets, a server frozen) would hold every statement waiting on it for as long as that
lasts. While a request is answered, or the group committer writes a batch, each round trip to
PostgreSQL may take at most the limit set here: past it the connection is dropped and the
statement fails as if the database were down, so the request is answered ``503`` within
``WORKLEDGER_DATABASE_WAIT_SECONDS``. Work that is long by nature (a view's pages, a rebuild,
the relay, the command line) sets no limit and waits as long as a statement takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

ANSWER_LIMIT: ContextVar[float | None] = ContextVar("workledger_answer_limit", default=None)


@contextmanager
def answers_within(seconds: float | None) -> Iterator[None]:
    """Each round trip to the database in this context waits at most ``seconds`` for its answer
    (``None``: as long as it takes)."""
    token = ANSWER_LIMIT.set(seconds)
    try:
        yield
    finally:
        ANSWER_LIMIT.reset(token)


class RequestAnswerLimit:
    """Sets the limit for everything a request runs, the threads it hands work to included
    (they run in a copy of its context)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with answers_within(self.seconds):
            await self.app(scope, receive, send)
