"""The HTTP edge both APIs share: problem details, bearer authentication, bounded bodies."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Annotated, Any

import anyio
import anyio.to_thread
import orjson
from eventsourcing.persistence import DataError, PersistenceError
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from psycopg import DataError as PsycopgDataError
from psycopg import Error as PsycopgError
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.answers import Problem
from services.infrastructure.screening import Refused, parse_json, screen_request
from services.infrastructure.tokens import Principal, TokenStore

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("workledger.http")

# RFC 9110's names, which Python spells the older way before 3.13.
_RENAMED = {413: "Content Too Large", 422: "Unprocessable Content"}


def title(status: int) -> str:
    """The standard name of an HTTP status, a problem document's ``title``."""
    try:
        return _RENAMED.get(status) or HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ProblemError(Exception):
    """An error that is answered as a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: Sequence[Mapping[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    errors: Sequence[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"https://workledger.dev/problems/{code.replace('_', '-')}",
        "title": title(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = list(errors)
    body.update(extra or {})
    return Response(orjson.dumps(body), status, headers=headers, media_type=PROBLEM_JSON)


def _field_name(location: Sequence[Any]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _on_problem(_: Request, error: Exception) -> Response:
    assert isinstance(error, ProblemError)
    return problem_response(
        error.status,
        error.code,
        error.detail,
        errors=error.errors,
        headers=error.headers,
        extra=error.extra,
    )


async def _on_validation(_: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    details = error.errors()
    if any(d.get("type") == "json_invalid" for d in details):
        return problem_response(400, "malformed_json", "the request body is not valid JSON")
    errors = [
        {"field": _field_name(d.get("loc", ())), "message": str(d.get("msg"))} for d in details
    ]
    return problem_response(422, "validation_error", "the request is not valid", errors=errors)


async def _on_http(_: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 400 and isinstance(error.__cause__, ValueError | RecursionError):
        # FastAPI's own parsing of a body the edge let through (it screens JSON bodies first).
        return problem_response(400, "malformed_json", "the request body is not valid JSON")
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
    return problem_response(
        error.status_code,
        codes.get(error.status_code, "http_error"),
        str(error.detail),
        headers=dict(error.headers or {}),
    )


# What the store raises when it can't be reached, or gives no connection in time.
STORE_ERRORS = (PersistenceError, PsycopgError)
# What it raises for a value it can't hold: never an outage, so never a 503 a client retries.
DATA_ERRORS = (DataError, PsycopgDataError)


def _unavailable(error: Exception) -> Response:
    log.warning("storage unavailable: %s", error)
    return problem_response(
        503,
        "unavailable",
        "the store can't be reached right now; try again",
        headers={"Retry-After": "1"},
    )


async def _on_unavailable(request: Request, error: Exception) -> Response:
    if isinstance(error, DATA_ERRORS):
        return await _on_unexpected(request, error)
    return _unavailable(error)


async def _on_unexpected(_: Request, error: Exception) -> Response:
    log.exception("unexpected error", exc_info=error)
    return problem_response(500, "internal_error", "an unexpected error occurred")


# What any route under /v1 may answer: a request the edge refuses (``screening``), no valid
# token, a request that is not valid, a token past its rate limit (``ratelimit``, when set),
# and the store out of reach.
EVERY_ROUTE_PROBLEMS = (400, 401, 422, 429, 503)


def problem_responses(
    *statuses: int, described: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A route's error answers for the OpenAPI document: those every route may give, and
    ``statuses``; ``described`` words some of them for this route."""
    notes = described or {}
    return {
        status: {"model": Problem, "description": notes.get(status, title(status))}
        for status in sorted({*EVERY_ROUTE_PROBLEMS, *statuses, *notes})
    }


def _document_problems(document: dict[str, Any]) -> None:
    """Every error answer in ``document`` becomes what the app sends: a ``Problem`` as
    ``application/problem+json`` (FastAPI would say ``application/json``, and describe its own
    validation error, which this app never sends)."""
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for item in document.get("paths", {}).values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                if not status.startswith(("2", "3")):
                    response["content"] = problem
    schemas = document.get("components", {}).get("schemas", {})
    text = orjson.dumps(document).decode()
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{unused}"' not in text:
            schemas.pop(unused, None)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error the app can raise becomes an ``application/problem+json`` answer, and the
    OpenAPI document says so."""
    build_document = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            _document_problems(build_document())
        return app.openapi_schema or {}

    app.openapi = document  # type: ignore[method-assign]
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(HTTPException, _on_http)
    for store_error in STORE_ERRORS:
        app.add_exception_handler(store_error, _on_unavailable)
    app.add_exception_handler(Exception, _on_unexpected)


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="workledger"'}
_JSON_TYPES = (b"application/json",)


async def _principal_of(tokens: TokenStore, authorization: str) -> Principal:
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(401, "unauthorized", "a bearer token is required", headers=_CHALLENGE)
    principal = tokens.cached(token)
    if principal is None:
        principal = await anyio.to_thread.run_sync(tokens.authenticate, token)
    if principal is None:
        raise ProblemError(401, "unauthorized", "the token is not valid", headers=_CHALLENGE)
    return principal


# Request bodies that are not one JSON document but a stream of lines (an import).
STREAMED_PATHS = frozenset({"/v1/import"})


class HttpEdge:
    """What every request to the API meets before any route: who is calling, and what they sent.

    What no route takes is refused first (``screening``: NUL in the path, query or headers, a
    header repeated that is read as one). Under ``/v1`` the bearer token is checked next, so an
    anonymous caller hears ``401`` whatever its body. A body is read whole (it is small, and
    bounded): over ``limit`` bytes it is a ``413``, whether declared or streamed, one that takes
    longer than ``body_timeout`` seconds to arrive a ``408``, one under ``/v1`` that is not JSON
    a ``415``, and malformed JSON a ``400``. An import's lines (``STREAMED_PATHS``) are left to
    their route, which reads them as they arrive, each part within ``body_timeout`` of the last.
    """

    def __init__(self, app: ASGIApp, limit: int, body_timeout: float = 30.0) -> None:
        self.app = app
        self.limit = limit
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))
        try:
            screen_request(scope)
            api = scope["path"].startswith("/v1/") or scope["path"] == "/v1"
            if api:
                tokens: TokenStore = scope["app"].state.tokens
                authorization = headers.get(b"authorization", b"").decode("latin-1")
                principal = await _principal_of(tokens, authorization)
                scope.setdefault("state", {})["principal"] = principal
            if scope["path"] in STREAMED_PATHS and scope["method"] == "POST":
                # Read by its route as it streams in, line by line, each line bounded.
                await self.app(scope, self._timed_stream(receive), send)
                return
            declared = headers.get(b"content-length", b"0")
            if not declared.isdigit() or int(declared) > self.limit:
                raise ProblemError(
                    413,
                    "payload_too_large",
                    f"the request body is larger than {self.limit} bytes",
                )
            has_body = int(declared) > 0 or b"transfer-encoding" in headers
            if not has_body:
                await self.app(scope, receive, send)
                return
            try:
                with anyio.fail_after(self.body_timeout):
                    body = await self._read_body(receive)
            except TimeoutError:
                raise self._too_slow() from None
            content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            json = content_type in _JSON_TYPES or content_type.endswith(b"+json")
            # The workspace's pages send forms, which their own routes read (``services.web``).
            if body and api and not json:
                raise ProblemError(
                    415,
                    "unsupported_media_type",
                    "send the request body as JSON, with Content-Type: application/json",
                )
            if body and json:
                parse_json(body)
        except ProblemError as error:
            response = problem_response(
                error.status, error.code, error.detail, errors=error.errors, headers=error.headers
            )
            await response(scope, receive, send)
            return
        except Refused as refusal:
            response = problem_response(
                refusal.status, refusal.code, refusal.detail, errors=refusal.errors
            )
            await response(scope, receive, send)
            return
        except STORE_ERRORS as error:
            # A token not seen yet is looked up in the store; outside the app, the exception
            # handlers would not answer for it.
            await _unavailable(error)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_slow(self) -> ProblemError:
        # The rest of the body is never read: the connection closes after the answer.
        return ProblemError(
            408,
            "request_timeout",
            f"the request body did not arrive within {self.body_timeout:g} s",
            headers={"Connection": "close"},
        )

    def _timed_stream(self, receive: Receive) -> Receive:
        """``receive`` for a body read as it streams in: each part must come within the body
        timeout of the one before (an import may stream for as long as it keeps sending)."""
        done = False

        async def timed() -> Message:
            nonlocal done
            if done:
                return await receive()
            try:
                with anyio.fail_after(self.body_timeout):
                    message = await receive()
            except TimeoutError:
                raise self._too_slow() from None
            done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        return timed

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise ProblemError(
                    413,
                    "payload_too_large",
                    f"the request body is larger than {self.limit} bytes",
                )
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


async def authenticate(request: Request) -> Principal:
    """The caller, as ``HttpEdge`` found them from ``Authorization: Bearer <token>``."""
    principal = request.scope.get("state", {}).get("principal")
    if isinstance(principal, Principal):
        return principal
    tokens: TokenStore = request.app.state.tokens
    return await _principal_of(tokens, request.headers.get("authorization", ""))


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


class Routes(APIRouter):
    """An ``APIRouter`` that turns a request away at once when its path can match none of its
    routes, because it starts with none of their fixed beginnings (``/v1/issues`` of
    ``/v1/issues/{issue_id}/assign``).

    FastAPI tries an included router by trying its routes one by one, and every router in turn
    until one has the route: route matching was about a tenth of the API's CPU time on a command,
    and a query is tried against every command route first. A prefix test leaves the matching to
    the routers that may have the route. ``include_routes`` tells the router its beginnings.
    """

    beginnings: tuple[str, ...] = ()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.beginnings:
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            if not path.startswith(self.beginnings):
                return Match.NONE, {}
        return super().matches(scope)


def include_routes(app: FastAPI, routes: Routes, prefix: str = "") -> None:
    """Adds ``routes`` to ``app`` under ``prefix``."""
    beginnings: set[str] = set()
    for route in routes.routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            # A route without a path (a host, say) may match anything: no beginnings at all.
            beginnings.clear()
            break
        beginnings.add((prefix + path).split("{", 1)[0])
    # "/v1/teams" covers "/v1/teams/": the shortest beginnings suffice.
    routes.beginnings = tuple(
        sorted(
            beginning
            for beginning in beginnings
            if not any(beginning.startswith(other) for other in beginnings - {beginning})
        )
    )
    app.include_router(routes, prefix=prefix)
