"""Signing in and out, the session cookie, and forms only the workspace's own pages can send."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.app import Runtime
from services.cli_tokens import sign_in_link
from services.infrastructure.tokens import Role
from services.web.session import COOKIE, form_token
from tests.web.conftest import Person, sign_in


def test_a_page_without_a_session_sends_the_person_to_sign_in_and_back(web_app: FastAPI) -> None:
    client = TestClient(web_app)
    answer = client.get("/portfolio?as_of=2026-11-01T00:00", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Fportfolio%3Fas_of%3D2026-11-01T00%3A00"
    form = client.get(answer.headers["location"])
    assert form.status_code == 200
    assert 'value="/portfolio?as_of=2026-11-01T00:00"' in form.text


def test_signing_in_keeps_the_token_in_a_strict_http_only_cookie(
    web_app: FastAPI, demo_runtime: Runtime
) -> None:
    client = TestClient(web_app)
    token = demo_runtime.tokens.create("viewer")
    answer = client.post(
        "/sign-in", data={"token": token, "next": "/portfolio"}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portfolio"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={token};")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Path=/" in cookie
    assert client.get("/portfolio").status_code == 200


def test_a_wrong_token_is_refused_on_the_sign_in_page(web_app: FastAPI) -> None:
    client = TestClient(web_app)
    answer = client.post("/sign-in", data={"token": "wl_nothing", "next": "/"})
    assert answer.status_code == 401
    assert "not valid" in answer.text
    assert COOKIE not in answer.headers.get("set-cookie", "")


def test_after_signing_in_a_person_never_leaves_for_another_site(
    web_app: FastAPI, demo_runtime: Runtime
) -> None:
    token = demo_runtime.tokens.create("viewer")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        answer = TestClient(web_app).post(
            "/sign-in", data={"token": token, "next": target}, follow_redirects=False
        )
        assert answer.headers["location"] == "/"


def test_a_sign_in_from_another_origin_is_refused(web_app: FastAPI, demo_runtime: Runtime) -> None:
    token = demo_runtime.tokens.create("viewer")
    answer = TestClient(web_app).post(
        "/sign-in",
        data={"token": token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers


def test_a_revoked_token_ends_the_session_at_once(web_app: FastAPI, demo_runtime: Runtime) -> None:
    person = sign_in(web_app, demo_runtime, "viewer")
    assert person.get("/portfolio").status_code == 200
    principal = demo_runtime.tokens.authenticate(person.token)
    assert principal is not None
    demo_runtime.tokens.revoke(principal.token_id)
    answer = person.get("/portfolio", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in")


def test_signing_out_needs_the_form_token_and_forgets_the_cookie(
    web_app: FastAPI, demo_runtime: Runtime
) -> None:
    person = sign_in(web_app, demo_runtime, "viewer")
    forged = person.client.post("/sign-out", data={"form_token": "0" * 64}, follow_redirects=False)
    assert forged.status_code == 403
    assert person.get("/portfolio").status_code == 200
    answer = person.post("/sign-out", {})
    assert answer.status_code == 303
    assert COOKIE in answer.headers["set-cookie"]
    assert "Max-Age=0" in answer.headers["set-cookie"]
    assert person.get("/portfolio", follow_redirects=False).status_code == 303


def test_the_form_token_is_bound_to_the_session() -> None:
    assert form_token("wl_a") != form_token("wl_b")
    assert form_token("wl_a") == form_token("wl_a")
    assert len(form_token("wl_a")) == 64


def test_a_sign_in_link_carries_the_token_where_no_server_sees_it() -> None:
    link = sign_in_link("http://127.0.0.1:8000/", "wl_abc")
    assert link == "http://127.0.0.1:8000/sign-in#token=wl_abc"


def test_each_role_starts_on_its_own_page(web_app: FastAPI, demo_runtime: Runtime) -> None:
    starts: dict[Role, str] = {
        "admin": "/portfolio",
        "viewer": "/portfolio",
        "manager": "/team",
        "member": "/my-work",
    }
    for role, page in starts.items():
        person: Person = sign_in(web_app, demo_runtime, role)
        answer = person.get("/", follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, page)
