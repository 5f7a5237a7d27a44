"""Rate limits per token: a token bucket for each token's commands and another for its queries.

A bucket holds up to ``burst`` requests and refills at ``rate`` a second; a request takes one,
and a request that finds less than one is answered ``429 rate_limited`` with ``Retry-After``.
Buckets live in the API process, so with N processes a token may send N times the rate: the
limit protects each process from one token's flood, and is documented as such.

Every answer to a limited request says where the token stands, in the fields of the IETF draft
*RateLimit header fields for HTTP* (draft-ietf-httpapi-ratelimit-headers, the three-field form):
``RateLimit-Limit`` (the burst), ``RateLimit-Remaining`` (requests it may still send at once) and
``RateLimit-Reset`` (seconds until the bucket is full again).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.infrastructure.http import problem_response
from services.infrastructure.settings import Settings
from services.infrastructure.tokens import Principal

Kind = Literal["command", "query"]
COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Past this many buckets, those that are full again (idle tokens) are forgotten.
MAX_BUCKETS = 100_000


@dataclass(frozen=True)
class Limit:
    """``rate`` requests a second on average, up to ``burst`` at once."""

    rate: float
    burst: int

    @classmethod
    def of(cls, rate: float, burst: int) -> Limit | None:
        """The limit of a rate and a burst as the settings give them (``None`` for no limit)."""
        if rate <= 0:
            return None
        return cls(rate, burst or max(1, math.ceil(rate)))


@dataclass(frozen=True)
class Decision:
    """Whether a request may go on, and the header fields that say where its token stands."""

    allowed: bool
    headers: dict[str, str]


@dataclass
class _Bucket:
    level: float
    at: float


class RateLimiter:
    """The buckets of one process: one per token and kind of request."""

    def __init__(
        self,
        commands: Limit | None,
        queries: Limit | None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits: dict[Kind, Limit | None] = {"command": commands, "query": queries}
        self._clock = clock
        self._buckets: dict[tuple[UUID, Kind], _Bucket] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter | None:
        """The limiter the settings ask for; ``None`` when they limit nothing."""
        commands = Limit.of(
            settings.rate_limit_commands_per_second, settings.rate_limit_commands_burst
        )
        queries = Limit.of(
            settings.rate_limit_queries_per_second, settings.rate_limit_queries_burst
        )
        if commands is None and queries is None:
            return None
        return cls(commands, queries)

    def take(self, token_id: UUID, kind: Kind) -> Decision | None:
        """Takes one request from the token's bucket of ``kind``; ``None`` if it has no limit."""
        limit = self._limits[kind]
        if limit is None:
            return None
        now = self._clock()
        bucket = self._buckets.get((token_id, kind))
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._forget_full(now)
            bucket = self._buckets[(token_id, kind)] = _Bucket(float(limit.burst), now)
        bucket.level = min(limit.burst, bucket.level + (now - bucket.at) * limit.rate)
        bucket.at = now
        allowed = bucket.level >= 1
        if allowed:
            bucket.level -= 1
        headers = {
            "RateLimit-Limit": str(limit.burst),
            "RateLimit-Remaining": str(math.floor(bucket.level)),
            "RateLimit-Reset": str(math.ceil((limit.burst - bucket.level) / limit.rate)),
        }
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil((1 - bucket.level) / limit.rate)))
        return Decision(allowed, headers)

    def _forget_full(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            limit = self._limits[key[1]]
            if limit is None or bucket.level + (now - bucket.at) * limit.rate >= limit.burst:
                del self._buckets[key]
        if len(self._buckets) >= MAX_BUCKETS:
            self._buckets.clear()


class RateLimits:
    """Applies a ``RateLimiter`` to every authenticated request, after ``HttpEdge`` has found
    its token: commands (``POST``, ``PUT``, ``PATCH``, ``DELETE``) and queries counted apart."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get("principal") if scope["type"] == "http" else None
        if not isinstance(principal, Principal):
            await self.app(scope, receive, send)
            return
        kind: Kind = "command" if scope["method"] in COMMAND_METHODS else "query"
        decision = self.limiter.take(principal.token_id, kind)
        if decision is None:
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            refused = problem_response(
                429,
                "rate_limited",
                f"this token sent more {kind}s than its limit allows; try again after "
                f"{decision.headers['Retry-After']} s",
                headers=decision.headers,
            )
            await refused(scope, receive, send)
            return
        fields = [(name.encode(), value.encode()) for name, value in decision.headers.items()]

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *fields]}
            await send(message)

        await self.app(scope, receive, send_with_fields)
