"""Coming in and going out: signing in and out, and the start page each role lands on."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.infrastructure.tokens import TokenStore
from services.web.page import CurrentPage, WebRoute
from services.web.render import templates
from services.web.session import (
    ForeignRequest,
    check_form,
    end_session,
    keep_session,
    principal_of,
    safe_next,
    session_token,
    signed_in,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# Where each role starts: executives and viewers on the portfolio, managers on their team,
# everyone else on their own work.
START = {"admin": "/portfolio", "viewer": "/portfolio", "manager": "/team", "member": "/my-work"}


def _sign_in_page(
    request: Request, *, next_path: str, problem: str | None, status: int
) -> Response:
    environment = templates()
    body = environment.get_template("sign_in.html").render(next=next_path, problem=problem)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/")
async def start(page: CurrentPage) -> Response:
    return RedirectResponse(START[page.principal.role], status_code=303)


@router.get("/sign-in")
async def sign_in_form(request: Request) -> Response:
    return _sign_in_page(
        request, next_path=safe_next(request.query_params.get("next")), problem=None, status=200
    )


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
        raise ForeignRequest
    fields = parse_qs((await request.body())[:4096].decode(errors="replace"))
    token = (fields.get("token") or [""])[-1].strip()
    next_path = safe_next((fields.get("next") or ["/"])[-1])
    tokens: TokenStore = request.app.state.tokens
    principal = await principal_of(tokens, token) if token else None
    if principal is None:
        return _sign_in_page(
            request,
            next_path=next_path,
            problem="That token is not valid: it may be mistyped, expired or revoked.",
            status=401,
        )
    response = RedirectResponse(next_path, status_code=303)
    keep_session(response, request, token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    if session_token(request) is not None:
        _, session = await signed_in(request)
        fields = parse_qs((await request.body())[:4096].decode(errors="replace"))
        sent = fields.get("form_token")
        check_form(request, session, sent[-1] if sent else None)
    response = RedirectResponse("/sign-in", status_code=303)
    end_session(response)
    return response
