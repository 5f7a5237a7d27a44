"""The personal queue page: the same answer as ``GET /v1/views/queue/{member_id}``, in its
order, at any moment."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import pytest
from fastapi import FastAPI
from markupsafe import escape

from services.app import Runtime
from services.web.pages.my_work import item_name, queue_moves
from tests.web.conftest import Api, Person, days_ago, main_part, past_page, sign_in


@pytest.fixture(scope="module")
def busy_member(api: Api) -> dict[str, Any]:
    """The active member with the longest queue."""
    members = api.get("/v1/members?active=true&limit=500")["items"]
    queues = [api.get(f"/v1/views/queue/{m['id']}") for m in members]
    longest = max(queues, key=lambda queue: (queue["total"], queue["member"]["id"]))
    assert longest["total"] > 2, "the demo gives someone a queue"
    member: dict[str, Any] = longest["member"]
    return member


def _rows(text: str) -> list[str]:
    return re.findall(r'<li data-row data-row-id="([^"]+)" tabindex="-1"', text)


def _assert_items_shown(text: str, items: list[dict[str, Any]]) -> None:
    """Each item in the queue's order, with its reasons and its context."""
    assert _rows(text) == [item["id"] for item in items]
    for item in items:
        row = text.split(f'data-row-id="{item["id"]}"')[1].split("</li>\n", maxsplit=1)[0]
        for reason in item["reasons"]:
            assert f'<span class="reason">{escape(reason)}</span>' in row
        if item["kind"] == "occurrence":
            assert item["operation"]
            assert escape(item["operation"]["title"]) in row
        else:
            assert f'href="/issues/{item["id"]}" data-open' in row
        if item["project"]:
            assert f'href="/projects/{item["project"]["id"]}"' in row
        for goal in item["goals"]:
            assert f'href="/goals/{goal["id"]}"' in row
        for blocked in item["blocks"]:
            assert f'href="/issues/{blocked["id"]}"' in row
        for waiting in item["waiting"]:
            assert f"/my-work?member={waiting['id']}" in row
        assert f"priority: {item['priority']}" in row
        assert ('tag bad">overdue' in row) == item["overdue"]
        assert ('tag bad">blocked' in row) == item["blocked"]


def test_my_work_shows_the_signed_in_members_queue_in_its_order(
    api: Api, web_app: FastAPI, demo_runtime: Runtime, busy_member: dict[str, Any]
) -> None:
    member = sign_in(web_app, demo_runtime, "member", busy_member["id"])
    page = member.get("/my-work")
    assert page.status_code == 200
    assert "<h1>My work</h1>" in page.text
    answer = api.get(f"/v1/views/queue/{busy_member['id']}?limit=100")
    _assert_items_shown(page.text, answer["items"])
    assert f"{answer['total']} open items" in page.text


def test_every_queue_shows_its_items_reasons_and_context(admin: Person, api: Api) -> None:
    members = api.get("/v1/members?active=true&limit=500")["items"]
    seen: set[str] = set()
    for member in members:
        answer = api.get(f"/v1/views/queue/{member['id']}?limit=100")
        page = admin.get(f"/my-work?member={member['id']}")
        assert page.status_code == 200
        _assert_items_shown(page.text, answer["items"])
        for item in answer["items"]:
            seen |= {part for part in ("project", "goals", "blocks") if item[part]}
    # Whether an item of the demo blocks another depends on the day the demo ends (today): the
    # next test makes an item that does.
    assert {"project", "goals"} <= seen, "the demo's queues have projects and goals"


def test_an_item_shows_what_it_blocks_and_who_waits_on_it(admin: Person, api: Api) -> None:

    def send(path: str, body: dict[str, Any]) -> dict[str, Any]:
        return api.call("POST", f"/v1{path}", body)

    team = api.get("/v1/teams?limit=1")["items"][0]["id"]
    people = [
        send(
            "/members",
            {
                "name": name,
                "email": f"{uuid4().hex}@example.com",
                "role": "member",
                "weekly_capacity": 5,
            },
        )["id"]
        for name in ("Queue Owner", "Blocked Assignee", "Watcher of the Work")
    ]
    owner, assignee, watcher = people
    first = send(
        "/issues",
        {
            "title": "Unblock the export",
            "kind": "task",
            "team_id": team,
            "assignee_id": owner,
            "priority": "high",
        },
    )["id"]
    second = send(
        "/issues",
        {"title": "Ship the export", "kind": "task", "team_id": team, "assignee_id": assignee},
    )["id"]
    send(f"/issues/{first}/transition", {"status": "todo"})
    send(f"/issues/{second}/dependencies", {"blocked_by_id": first})
    position = send(f"/issues/{first}/watchers", {"member_id": watcher})["position"]
    page = admin.get(f"/my-work?member={owner}&min_position={position}")
    assert page.status_code == 200
    answer = api.get(f"/v1/views/queue/{owner}?min_position={position}")
    assert [item["id"] for item in answer["items"]] == [first]
    assert {member["id"] for member in answer["items"][0]["waiting"]} == {assignee, watcher}
    _assert_items_shown(page.text, answer["items"])
    row = page.text.split(f'data-row-id="{first}"')[1]
    assert f'href="/issues/{second}">Ship the export</a>' in row
    assert f'href="/my-work?member={assignee}">Blocked Assignee</a>' in row
    assert f'href="/my-work?member={watcher}">Watcher of the Work</a>' in row


def test_an_admin_without_a_member_is_asked_to_pick_one(admin: Person, api: Api) -> None:
    page = admin.get("/my-work")
    assert page.status_code == 200
    assert "acts for no member" in page.text
    members = api.get("/v1/members?active=true&limit=500")["items"]
    picker = re.search(r'<select id="member-choice" name="member">(.*?)</select>', page.text, re.S)
    assert picker
    offered = re.findall(r'<option value="([^"]+)"', picker.group(1))
    assert sorted(offered) == sorted(member["id"] for member in members)
    assert '<label for="member-choice">' in page.text


def test_anyone_reads_a_members_queue_and_a_viewer_sees_no_controls(
    admin: Person,
    viewer: Person,
    api: Api,
    busy_member: dict[str, Any],
) -> None:
    answer = api.get(f"/v1/views/queue/{busy_member['id']}?limit=100")
    for person in (admin, viewer):
        page = person.get(f"/my-work?member={busy_member['id']}")
        assert page.status_code == 200
        assert f"<h1>Work of {escape(busy_member['name'])}</h1>" in page.text
        assert _rows(page.text) == [item["id"] for item in answer["items"]]
    assert "hx-post" not in page.text
    assert page.text.count('method="post"') == 1  # signing out


def test_the_queue_of_a_past_moment_is_the_queue_then(
    admin: Person, api: Api, busy_member: dict[str, Any]
) -> None:
    moment = days_ago(20)
    page = past_page(admin, f"/my-work?member={busy_member['id']}", moment)
    then = api.get(f"/v1/views/queue/{busy_member['id']}?limit=100&as_of={moment}")
    now = api.get(f"/v1/views/queue/{busy_member['id']}?limit=100")
    assert [i["id"] for i in then["items"]] != [i["id"] for i in now["items"]]
    assert _rows(page) == [item["id"] for item in then["items"]]


def test_comparing_two_moments_lists_what_entered_left_or_moved(
    admin: Person, api: Api, busy_member: dict[str, Any]
) -> None:
    shown, compared = days_ago(1), days_ago(15)
    base = f"/v1/views/queue/{busy_member['id']}?limit=100"
    later = api.get(f"{base}&as_of={shown}")["items"]
    earlier = api.get(f"{base}&as_of={compared}")["items"]
    moves = queue_moves(earlier, later)
    assert {move.change for move in moves} >= {"entered", "left"}
    page = admin.get(f"/my-work?member={busy_member['id']}&as_of={shown}&compare={compared}")
    assert page.status_code == 200
    section = page.text.split('id="changes-title"')[1].split("</section>")[0]
    listed = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td>", section)
    assert listed == [(str(escape(move.name)), move.change) for move in moves]
    entered = next(move for move in moves if move.change == "entered")
    assert entered.name == item_name(next(i for i in later if i["id"] == entered.item_id))


def test_bad_member_parameters_are_pages_saying_so(admin: Person) -> None:
    malformed = admin.get("/my-work?member=ada")
    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith("text/html")
    unknown = admin.get(f"/my-work?member={uuid4()}")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")


def test_a_live_update_asks_for_the_queues_main_part_alone(
    admin: Person, busy_member: dict[str, Any]
) -> None:
    part = main_part(admin, f"/my-work?member={busy_member['id']}")
    assert "<h1>Work of" in part
