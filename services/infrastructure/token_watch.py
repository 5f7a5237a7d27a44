"""Ends a live event stream once its token is revoked or expires.

A request is authenticated once, when it arrives; an event stream (``/v1/events/stream``) goes
on for hours. So before each chunk of a stream is sent, its token is checked again: from the
process's lease on it (``TokenStore.cached``, no lookup), or, once that has run out, from the
database. A token no longer valid ends the response there, and the stream stops as it does when
its client goes away; the client's reconnection is then refused with ``401`` like any request.
"""

from __future__ import annotations

import anyio
import anyio.to_thread
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.infrastructure.tokens import TokenStore

WATCHED_PATHS = frozenset({"/v1/events/stream"})


class TokenWithdrawn(OSError):
    """Raised into a stream whose token is no longer valid: what a stream meets when its client
    has gone, so it stops the same way."""


class TokenWatch:
    """Checks the token of a watched streaming response before each chunk it sends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in WATCHED_PATHS:
            await self.app(scope, receive, send)
            return
        tokens: TokenStore = scope["app"].state.tokens
        authorization = dict(scope.get("headers", ())).get(b"authorization", b"")
        token = authorization.decode("latin-1").partition(" ")[2].strip()
        withdrawn = False

        async def still_valid() -> bool:
            if tokens.cached(token) is not None:
                return True
            # Shielded: a stream cancelled here would leave its generator suspended and
            # unfinished, counted as open; cancelled after it, the stream ends as it would have.
            with anyio.CancelScope(shield=True):
                principal = await anyio.to_thread.run_sync(tokens.authenticate, token)
            return principal is not None

        async def watched_send(message: Message) -> None:
            nonlocal withdrawn
            chunk = message["type"] == "http.response.body" and message.get("more_body")
            if chunk and not await still_valid():
                withdrawn = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                raise TokenWithdrawn("the stream's token was revoked or has expired")
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except (TokenWithdrawn, ClientDisconnect):
            # The response was ended above; anything else is the app's to report.
            if not withdrawn:
                raise
