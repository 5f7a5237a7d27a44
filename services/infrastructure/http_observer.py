"""What is observed of every HTTP request: the correlation id it carries, its duration and outcome
in the metrics, and its log line; and ``/metrics``, where the metrics are scraped."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Final
from uuid import UUID

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import SecretStr
from starlette.routing import replace_params
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.inputs import canonical_uuid
from services.infrastructure.ids import new_id
from services.infrastructure.logs import request_correlation
from services.infrastructure.metrics import HttpMetrics, Metrics
from services.infrastructure.metrics_server import bearer_matches

log = logging.getLogger("workledger.http")

CORRELATION_HEADER: Final = b"x-correlation-id"
# A request answered before any route took it: an unknown path, or one turned away at the edge
# (no valid token, a body too large or not JSON).
UNMATCHED: Final = "unmatched"
# A method outside these is counted as ``other``, so that no caller can add label values.
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
COMMAND_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def correlation_of(request: Request) -> UUID:
    """The correlation id of ``request``: the one it brought in ``X-Correlation-ID`` if that is
    a UUID, else the one the edge made for it."""
    given = request.scope.get("state", {}).get("correlation_id")
    return given if isinstance(given, UUID) else new_id()


def outcome(status: int) -> str:
    """What a command's answer says happened to it."""
    if status >= 500:
        return "error"
    if status in (409, 412):
        return "conflict"
    if status >= 400:
        return "rejected"
    return "accepted"


class RequestObserver:
    """Gives every request a correlation id (the one it sent, when it is a UUID), answers it in
    ``X-Correlation-ID``, and once the answer's status is sent counts the request in the
    metrics and writes its line: at INFO for a command, at DEBUG for anything else."""

    def __init__(self, app: ASGIApp, metrics: Callable[[], HttpMetrics]) -> None:
        self.app = app
        self.metrics = metrics
        # Route templates by route (a route's own path lacks the prefix it was included under).
        self._templates: dict[int, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        correlation = _given_correlation(scope) or new_id()
        scope.setdefault("state", {})["correlation_id"] = correlation
        correlation_text = str(correlation)
        header = (CORRELATION_HEADER, correlation_text.encode())
        # Without an answer sent, the exception on its way out is answered 500 outside.
        status = 500
        answered_at: float | None = None

        async def observed_send(message: Message) -> None:
            nonlocal status, answered_at
            if message["type"] == "http.response.start":
                status, answered_at = message["status"], time.perf_counter()
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        reset = request_correlation.set(correlation_text)
        try:
            await self.app(scope, receive, observed_send)
        finally:
            seconds = (answered_at or time.perf_counter()) - started
            self._observe(scope, status, seconds, correlation_text)
            request_correlation.reset(reset)

    def _observe(self, scope: Scope, status: int, seconds: float, correlation: str) -> None:
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = scope.get("route")
        template = self._template(scope, route) if route is not None else UNMATCHED
        metrics = self.metrics()
        metrics.request_seconds.labels(method, template, f"{status // 100}xx").observe(seconds)
        command = method in COMMAND_METHODS and template.startswith("/v1/")
        if command:
            metrics.commands.labels(getattr(route, "name", template), outcome(status)).inc()
        level = logging.INFO if command else logging.DEBUG
        if log.isEnabledFor(level):
            log.log(
                level,
                "%s %s %d",
                method,
                scope["path"],
                status,
                extra={
                    "route": template,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "correlation_id": correlation,
                },
            )

    def _template(self, scope: Scope, route: Any) -> str:
        known = self._templates.get(id(route))
        if known is not None:
            return known
        own = str(getattr(route, "path_format", None) or getattr(route, "path", ""))
        template = own
        convertors = getattr(route, "param_convertors", None)
        if convertors is not None:
            # The path less what the route matched of it is the prefix it was included under.
            matched, _ = replace_params(own, convertors, dict(scope.get("path_params", {})))
            path: str = scope["path"]
            if path.endswith(matched):
                template = path[: len(path) - len(matched)] + own
        self._templates[id(route)] = template
        return template


def _given_correlation(scope: Scope) -> UUID | None:
    for name, value in scope.get("headers", ()):
        if name == CORRELATION_HEADER:
            try:
                return canonical_uuid(value.decode("latin-1"))
            except ValueError:
                return None
    return None


def install_observability(
    app: FastAPI, metrics: Callable[[], Metrics], token: SecretStr | None
) -> None:
    """``GET /metrics`` (behind ``token`` when one is set), and the observer of every request;
    installed last, so that it sees the requests the edge turns away too. ``metrics`` gives the
    metrics of the runtime the app serves, looked up at each request."""

    @app.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        if not bearer_matches(request.headers.get("authorization"), token):
            return Response(
                b"a bearer token is required\n",
                401,
                headers={"WWW-Authenticate": 'Bearer realm="workledger-metrics"'},
                media_type="text/plain",
            )
        body, content_type = await anyio.to_thread.run_sync(metrics().exposition)
        return Response(body, media_type=content_type)

    app.add_middleware(RequestObserver, metrics=lambda: metrics().http)
