"""What every page of the workspace shares: who is signed in, the moment it shows, rendering.

Every page reads ``as_of`` (show the page as it was then) and ``compare`` (and what changed since
that other moment), and ``min_position`` (first wait until the views have applied that position,
as a live update asks). A page that fails answers a page saying what went wrong, with the status
the API would have answered, never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment

from services.command.errors import COMMAND_ERRORS, problem_of
from services.infrastructure.http import STORE_ERRORS, ProblemError
from services.infrastructure.parameters import parse_time
from services.infrastructure.store import MAX_POSITION
from services.infrastructure.tokens import Principal
from services.projections.query import ReadModels, ViewRequest
from services.web.render import templates
from services.web.session import (
    ForeignRequest,
    SignInNeeded,
    form_token,
    sign_in_location,
    signed_in,
)

log = logging.getLogger("workledger.web")

# Sent by the workspace's own script when it asks for a page's main part alone (a live update,
# a time-travel step): the answer is that part, not the whole document.
PART_HEADER = "x-page-part"
PAGE_PARAMETERS = ("as_of", "compare")


@dataclass
class Page:
    """One page request: the person, the moment shown, and how to render."""

    request: Request
    principal: Principal
    session: str
    as_of: datetime | None
    compare: datetime | None
    min_position: int | None
    now: datetime
    kept: dict[str, str] = field(default_factory=dict)

    @property
    def environment(self) -> Environment:
        return templates()

    @property
    def moment(self) -> datetime:
        """The moment the page describes: ``as_of`` when given, else now."""
        return self.as_of or self.now

    @property
    def live(self) -> bool:
        """A page of the present follows the log; a page of the past stays as it was."""
        return self.as_of is None

    @property
    def may_change_work(self) -> bool:
        """Whether to show controls that change work: never to a viewer, never in the past."""
        return self.principal.may("member") and self.as_of is None

    @property
    def own_parameters(self) -> dict[str, str]:
        """The page's own query parameters (which team, which scope), without its moments."""
        return {
            name: value
            for name, value in self.request.query_params.items()
            if name not in (*PAGE_PARAMETERS, "min_position")
        }

    @property
    def present_url(self) -> str:
        """This page, now."""
        own = self.own_parameters
        return self.request.url.path + ("?" + urlencode(own) if own else "")

    def url(self, path: str, **parameters: Any) -> str:
        """A link to ``path`` at this page's moments, with ``parameters``."""
        merged = {**self.kept, **{k: v for k, v in parameters.items() if v is not None}}
        return path + ("?" + urlencode(merged) if merged else "")

    def view(self, as_of: datetime | None = None, *, present: bool = False) -> ViewRequest:
        """The reading conditions of a query for this page: its moment (or ``as_of``, or the
        present with ``present``), after ``min_position`` when a live update asked for it."""
        read_models: ReadModels = self.request.app.state.read_models
        moment = None if present else (as_of or self.as_of)
        return ViewRequest(
            read_models, self.principal, moment, self.min_position, moment or self.now
        )

    def render(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        """The page, or its main part alone when the workspace's script asked for that."""
        loaded = self.environment.get_template(template)
        values = {**self.context(), **context}
        if self.request.headers.get(PART_HEADER) == "main" and "main" in loaded.blocks:
            body = "".join(loaded.blocks["main"](loaded.new_context(values)))
        else:
            body = loaded.render(values)
        return HTMLResponse(body, status_code=status, headers=_NO_STORE)

    def context(self) -> dict[str, Any]:
        return {
            "page": self,
            "principal": self.principal,
            "form_token": form_token(self.session),
            "as_of": self.as_of,
            "compare": self.compare,
            "now": self.now,
            "kept": self.kept,
            "path": self.request.url.path,
            "live": self.live,
            "may_change_work": self.may_change_work,
            "position": None,
        }


# A page shows one person's work at one moment: no cache may keep it for another.
_NO_STORE = {"Cache-Control": "no-store"}


def _moment(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    return parse_time(value, name) if value else None


def _position(request: Request) -> int | None:
    value = request.query_params.get("min_position")
    if value is None:
        return None
    if not value.isdigit() or len(value) > 19 or int(value) > MAX_POSITION:
        raise ProblemError(400, "validation_error", "min_position must be a log position")
    return int(value)


async def page_of(request: Request) -> Page:
    principal, session = await signed_in(request)
    as_of = _moment(request, "as_of")
    compare = _moment(request, "compare")
    clock: Callable[[], datetime] = request.app.state.clock
    now = clock()
    if as_of is not None and as_of > now:
        raise ProblemError(422, "validation_error", "as_of is in the future: pick a past moment")
    kept = {
        name: request.query_params[name] for name in PAGE_PARAMETERS if name in request.query_params
    }
    return Page(request, principal, session, as_of, compare, _position(request), now, kept)


CurrentPage = Annotated[Page, Depends(page_of)]


class WebRoute(APIRoute):
    """A workspace route: its failures answer pages a person reads (or, for the workspace's own
    script, the same words in a part it shows), never a problem document or a stack trace."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInNeeded:
                return _to_sign_in(request)
            except ForeignRequest:
                return error_page(request, 403, "This form did not come from this workspace.")
            except ProblemError as refusal:
                return error_page(request, refusal.status, refusal.detail, refusal.headers)
            except RequestValidationError:
                return error_page(request, 400, "The address holds a value this page can't read.")
            except COMMAND_ERRORS as error:
                problem = problem_of(error)
                return error_page(request, problem.status, problem.detail, problem.headers)
            except STORE_ERRORS:
                log.exception("the store is out of reach")
                return error_page(
                    request, 503, "The database is out of reach; try again in a moment."
                )

        return answer


def _to_sign_in(request: Request) -> Response:
    location = sign_in_location(request)
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


_TITLES = {
    400: "That address isn't one this page reads",
    403: "Not allowed",
    404: "Not found",
    409: "Changed meanwhile",
    412: "Changed since you opened it",
    422: "Not accepted",
    429: "Too many requests",
    503: "Unavailable",
}


def error_page(
    request: Request, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    """The page (or, for the workspace's script, the part) saying what went wrong."""
    environment = templates()
    kept = {key: value for key, value in dict(headers or {}).items() if key == "Retry-After"}
    title = _TITLES.get(status, "Something went wrong")
    if request.headers.get("hx-request") or request.headers.get(PART_HEADER):
        body = environment.get_template("parts/alert.html").render(
            title=title, detail=detail, status=status
        )
    else:
        body = environment.get_template("error.html").render(
            title=title, detail=detail, status=status, path=request.url.path
        )
    return HTMLResponse(body, status_code=status, headers={**kept, **_NO_STORE})


def problem_title(status: int) -> str:
    """What an error page or alert of ``status`` is headed with."""
    return _TITLES.get(status, "Something went wrong")
