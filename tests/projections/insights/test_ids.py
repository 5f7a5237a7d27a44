"""An insight's id is the same for the same kind on the same objects, in every store and every
answer while it holds (docs/insights.md, "Asking"): later unrelated events, the clock moving on,
the condition lapsing and holding again, and a second store fed the same history keep it."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from fastapi.testclient import TestClient

from services.app import Runtime, create_app
from services.importing.lines import ImportLine
from tests.conftest import FrozenClock, bearer
from tests.projections.insights.conftest import Stores
from tests.projections.insights.history import (
    MONDAY,
    Document,
    History,
    ago,
    imported,
    insights,
    iso,
)


def _history() -> tuple[History, dict[str, UUID]]:
    """Work of several kinds: stale, churning, untriaged, an overloaded member, a goal behind."""
    h = History()
    team = h.team(ago(90), "Payments")
    ada = h.member(ago(90), "Ada", 5, [team])
    stale = h.issue(ago(30), "Reconcile ledgers", team, assignee_id=ada)
    h.move(ago(20), stale, "todo")
    churn = h.issue(ago(40), "Quarterly report", team, due_date=date(2026, 4, 1))
    for days in (30, 25, 20):
        h.due(ago(days), churn, date(2026, 4, 1) + timedelta(days=40 - days))
    big = h.issue(ago(10), "Big job", team, assignee_id=ada, estimate=20, due_date=date(2026, 3, 5))
    h.move(ago(9), big, "todo")
    h.comment(ago(1), big, "On it")
    h.issue(ago(3), "Checkout bug", team, "bug", priority="high")
    goal = h.goal(ago(70), "Grow revenue", ada, team, date(2026, 1, 1), date(2026, 4, 30))
    kr = h.key_result(ago(70), goal, "Customers", 0, 100)
    h.activate(ago(69), goal)
    h.check_in(ago(30), goal, kr, 10)
    return h, {"team": team, "ada": ada, "stale": stale, "goal": goal, "kr": kr}


def _held(document: Document) -> dict[str, tuple[str, list[Document], str]]:
    items: list[Document] = document["items"]
    return {item["id"]: (item["kind"], item["objects"], item["since"]) for item in items}


def test_the_same_condition_keeps_its_id_across_later_unrelated_events_and_time(
    client: TestClient, runtime: Runtime, admin: dict[str, str], clock: FrozenClock
) -> None:
    h, made = _history()
    before = insights(client, admin, imported(runtime, h.lines))
    assert {item["kind"] for item in before["items"]} >= {
        "goal_at_risk", "overloaded", "stale_work", "due_date_churn", "triage"
    }  # fmt: skip
    assert all(UUID(item["id"]).version == 5 for item in before["items"])

    later = History()
    clock.advance(timedelta(hours=5))
    other = later.team(MONDAY + timedelta(hours=1), "Elsewhere")
    elsewhere = later.issue(MONDAY + timedelta(hours=2), "Unrelated", other)
    later.comment(MONDAY + timedelta(hours=3), elsewhere, "Nothing to do with the rest")
    later.check_in(MONDAY + timedelta(hours=4), made["goal"], made["kr"], 10)
    after = insights(client, admin, imported(runtime, later.lines))

    assert _held(after) == _held(before)


def test_a_condition_that_lapses_and_holds_again_has_the_same_id(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(90), "Payments")
    ada = h.member(ago(90), "Ada", 10, [team])
    issue = h.issue(ago(60), "Reconcile ledgers", team, assignee_id=ada)
    h.comment(ago(30), issue, "Back on it")
    position = imported(runtime, h.lines)

    def stale_at(moment: str | None) -> list[tuple[str, str]]:
        query = {"as_of": moment} if moment else {}
        found = insights(client, admin, position, kind="stale_work", **query)["items"]
        return [(item["id"], item["since"]) for item in found]

    [(first, first_since)] = stale_at(iso(ago(31)))
    assert stale_at(iso(ago(29))) == []
    [(again, again_since)] = stale_at(None)
    assert again == first
    assert (first_since, again_since) == (iso(ago(46)), iso(ago(16)))


def _answer(runtime: Runtime, lines: list[ImportLine]) -> Document:
    position = imported(runtime, lines)
    client = TestClient(create_app(runtime))
    return insights(client, bearer(runtime.tokens.create("viewer")), position)


def test_the_same_history_in_two_stores_gives_the_same_insights_and_ids(
    stores: Stores,
) -> None:
    h, _ = _history()
    with (
        stores.runtime(0, FrozenClock(MONDAY)) as one,
        stores.runtime(1, FrozenClock(MONDAY)) as other,
    ):
        first = _answer(one, h.lines)
        second = _answer(other, h.lines)

    assert len(first["items"]) >= 5
    assert second == first
