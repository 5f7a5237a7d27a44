"""Signing in to the web workspace: a token kept in a cookie, and forms only this site can send.

A person pastes a token once (or opens the link ``workledger token create --web`` prints). The
token is kept in an ``HttpOnly`` cookie (no script can read it) with ``SameSite=Strict`` (no other
site's page can make the browser send it), and checked on every page exactly as a bearer token
is checked on the API: revoked or expired, it is refused at once.

Every request that changes anything also carries a form token derived from the session's token
(an HMAC of it), which only a page of this site can have read, and comes from this site's own
origin when the browser says where it comes from. Either check alone stops a cross-site form;
both together still hold where an old browser ignores ``SameSite``.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

import anyio.to_thread
from fastapi import Request
from fastapi.responses import Response

from services.infrastructure.tokens import Principal, TokenStore

COOKIE = "workledger_session"
FORM_TOKEN_FIELD = "form_token"
FORM_TOKEN_HEADER = "x-form-token"
# A person signs in on a shared machine rarely; the token's own expiry and revocation bound it.
COOKIE_MAX_AGE = 30 * 24 * 3600


class SignInNeeded(Exception):
    """The request has no valid session: the person is sent to the sign-in page."""


class ForeignRequest(Exception):
    """A request to change something that did not come from a page of this site."""


def session_token(request: Request) -> str | None:
    token = request.cookies.get(COOKIE)
    return token.strip() if token and token.strip() else None


async def principal_of(tokens: TokenStore, token: str) -> Principal | None:
    """Who the token speaks for, checked as the API checks a bearer token."""
    principal = tokens.cached(token)
    if principal is None:
        principal = await anyio.to_thread.run_sync(tokens.authenticate, token)
    return principal


async def signed_in(request: Request) -> tuple[Principal, str]:
    """The person signed in, and their session's token; ``SignInNeeded`` otherwise."""
    token = session_token(request)
    if token is None:
        raise SignInNeeded
    tokens: TokenStore = request.app.state.tokens
    principal = await principal_of(tokens, token)
    if principal is None:
        raise SignInNeeded
    return principal, token


def form_token(session: str) -> str:
    """The token a page of this site puts in its forms: only one that read the page knows it."""
    return hmac.new(session.encode(), b"workledger web form", hashlib.sha256).hexdigest()


def check_form(request: Request, session: str, sent: str | None) -> None:
    """``ForeignRequest`` unless the request carries the session's form token (in the form or
    the ``X-Form-Token`` header) and, when the browser names its origin, comes from this one."""
    origin = request.headers.get("origin")
    if origin is not None and origin != _own_origin(request):
        raise ForeignRequest
    sent = sent or request.headers.get(FORM_TOKEN_HEADER)
    if sent is None or not hmac.compare_digest(sent, form_token(session)):
        raise ForeignRequest


def _own_origin(request: Request) -> str:
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}"


def keep_session(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def sign_in_location(request: Request) -> str:
    """The sign-in page, asked to come back to where the person was going."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return "/sign-in?next=" + quote(target, safe="")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this site, never another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
