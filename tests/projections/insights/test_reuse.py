"""Live insights answered again from their judgement (docs/insights.md, "Asking again"): at the
same position within ``insight_reuse_seconds``, stated as of the moment judged, and equal to the
answer ``as_of`` that moment; judged afresh once the log or the clock moves on."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from fastapi.testclient import TestClient

from services.app import create_app
from services.projections.readmodel import Snapshot
from services.projections.views.insights.facts import _facts
from services.projections.views.insights.judgements import Judgement, Judgements
from services.projections.views.insights.rules import DEFAULT_RULES, Rules
from services.projections.views.insights.scope import Scope
from services.projections.views.insights.statements import Moment
from tests.conftest import FrozenClock
from tests.projections.insights.conftest import Stores
from tests.projections.insights.history import (
    MONDAY,
    History,
    ago,
    imported,
    insights,
    iso,
    viewer,
)

SECOND = timedelta(seconds=1)


def _stale_soon(h: History, team: Any, member: Any, seconds: int, title: str) -> None:
    """An issue assigned to ``member`` that turns stale ``seconds`` after the frozen clock's
    moment."""
    h.issue(ago(14) + seconds * SECOND, title, team, assignee_id=member)


def test_asked_again_at_the_same_position_the_answer_is_the_judgement_as_of_its_moment(
    stores: Stores,
) -> None:
    clock = FrozenClock(MONDAY)
    with stores.runtime(0, clock) as runtime:
        h = History()
        team = h.team(ago(60), "Payments")
        bob = h.member(ago(60), "Bob", 10, [team])
        _stale_soon(h, team, bob, 5, "Rotate keys")
        position = imported(runtime, h.lines)
        client, headers = TestClient(create_app(runtime)), viewer(runtime)

        first = insights(client, headers, position, kind="stale_work")
        assert (first["now"], first["items"]) == (iso(MONDAY), [])

        # Eight seconds on, Rotate keys has been stale for three; the answer is still the one
        # judged at MONDAY, and says so, and is exactly what as_of MONDAY answers.
        clock.advance(8 * SECOND)
        again = insights(client, headers, position, kind="stale_work")
        assert again == first
        assert insights(client, headers, position, kind="stale_work", as_of=iso(MONDAY)) == again

        # Past the reuse window it is judged afresh.
        clock.advance(3 * SECOND)
        later = insights(client, headers, position, kind="stale_work")
        assert later["now"] == iso(MONDAY + 11 * SECOND)
        assert [item["objects"][0]["name"] for item in later["items"]] == ["Rotate keys"]

        # An event moves the view's position: judged afresh at once, whatever the clock.
        h2 = History()
        h2.issue(ago(30), "Renew certificate", team, assignee_id=bob)
        moved = imported(runtime, h2.lines)
        assert moved > position
        after_write = insights(client, headers, moved, kind="stale_work")
        assert after_write["now"] == later["now"]
        assert sorted(item["objects"][0]["name"] for item in after_write["items"]) == [
            "Renew certificate",
            "Rotate keys",
        ]


def test_with_reuse_off_every_question_is_judged_at_its_own_moment(stores: Stores) -> None:
    clock = FrozenClock(MONDAY)
    with stores.runtime(0, clock, settings={"insight_reuse_seconds": 0}) as runtime:
        h = History()
        team = h.team(ago(60), "Payments")
        bob = h.member(ago(60), "Bob", 10, [team])
        _stale_soon(h, team, bob, 1, "Rotate keys")
        position = imported(runtime, h.lines)
        client, headers = TestClient(create_app(runtime)), viewer(runtime)

        assert insights(client, headers, position, kind="stale_work")["items"] == []
        clock.advance(2 * SECOND)
        answer = insights(client, headers, position, kind="stale_work")
        assert answer["now"] == iso(MONDAY + 2 * SECOND)
        assert [item["objects"][0]["name"] for item in answer["items"]] == ["Rotate keys"]


def test_pages_filters_and_counts_drawn_from_one_judgement_agree_with_a_single_page(
    stores: Stores,
) -> None:
    clock = FrozenClock(MONDAY)
    with stores.runtime(0, clock) as runtime:
        h = History()
        team = h.team(ago(90), "Payments")
        ada = h.member(ago(90), "Ada", 10, [team])
        bob = h.member(ago(90), "Bob", 10, [team])
        for number in range(7):
            issue = h.issue(ago(60 - number), f"Quiet {number}", team, assignee_id=ada)
            if number % 2:
                h.move(ago(50 - number), issue, "todo", "in_progress")
        for number in range(4):
            h.issue(ago(3 + number), f"Untriaged {number}", team, "bug")
        h.issue(ago(40), "Bob's", team, assignee_id=bob)
        position = imported(runtime, h.lines)
        client, headers = TestClient(create_app(runtime)), viewer(runtime)

        whole = insights(client, headers, position)
        assert len(whole["items"]) >= 10, whole["items"]
        kinds = {item["kind"] for item in whole["items"]}
        assert {"stale_work", "aging_work", "triage"} <= kinds

        # Paging two at a time while the clock moves within the reuse window: every page is
        # the same judgement's (the same `now`), and together they are the single page.
        paged: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            clock.advance(SECOND)
            query: dict[str, Any] = {"limit": 2}
            if cursor is not None:
                query["cursor"] = cursor
            answer = client.get(
                "/v1/insights", params={"min_position": position, **query}, headers=headers
            ).json()
            assert answer["now"] == whole["now"]
            assert answer["counts"] == whole["counts"]
            paged.extend(answer["items"])
            cursor = answer["next_cursor"]
            if cursor is None:
                break
        assert paged == whole["items"]

        for kind in sorted(kinds):
            only = insights(client, headers, position, kind=kind)
            expected = [item for item in whole["items"] if item["kind"] == kind]
            assert only["items"] == expected
            assert sum(only["counts"].values()) == len(expected)
        warnings = insights(client, headers, position, severity="warning")
        assert warnings["items"] == [i for i in whole["items"] if i["severity"] == "warning"]
        assert warnings["counts"] == {"critical": 0, "warning": len(warnings["items"]), "info": 0}


# The store of judgements itself.


def _judgement(position: int, moment: datetime, generation: int = 1) -> Judgement:
    rules = DEFAULT_RULES
    facts = _facts(Moment.of(moment, rules), Scope("org"), rules)
    return Judgement(facts, [], generation, position, moment)


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_only_live_questions_at_the_judged_position_and_generation_reuse_a_judgement() -> None:
    judgement = _judgement(40, NOW)
    assert judgement.holds_for(Snapshot(1, None, 40), NOW + 10 * SECOND, 10)
    assert not judgement.holds_for(Snapshot(1, None, 40), NOW + 11 * SECOND, 10)
    # A clock set back is not "within the window".
    assert not judgement.holds_for(Snapshot(1, None, 40), NOW - SECOND, 10)
    assert not judgement.holds_for(Snapshot(1, None, 41), NOW, 10)
    assert not judgement.holds_for(Snapshot(2, None, 40), NOW, 10)
    assert not judgement.holds_for(Snapshot(1, 123, 40), NOW, 10)
    assert not judgement.holds_for(Snapshot(1, None, None), NOW, 10)


def test_one_scope_is_judged_once_while_many_ask_and_other_scopes_are_not_held_up() -> None:
    judgements = Judgements(reuse_seconds=10)
    calls: list[str] = []
    started = threading.Event()

    def slow() -> Judgement:
        calls.append("org")
        started.set()
        time.sleep(0.2)
        return _judgement(7, NOW)

    answers: list[Judgement] = []

    def ask() -> None:
        answers.append(
            judgements.judgement(Snapshot(1, None, 7), NOW, Scope("org"), DEFAULT_RULES, slow)
        )

    askers = [threading.Thread(target=ask) for _ in range(8)]
    for asker in askers:
        asker.start()
    assert started.wait(5)
    # Another scope meanwhile is judged at once, not after the organisation's.
    began = time.monotonic()
    judgements.judgement(
        Snapshot(1, None, 7),
        NOW,
        Scope("team", "1" * 32),
        DEFAULT_RULES,
        lambda: _judgement(7, NOW),
    )
    assert time.monotonic() - began < 0.15
    for asker in askers:
        asker.join()
    assert calls == ["org"]
    assert len({id(answer) for answer in answers}) == 1


def test_the_most_recently_asked_scopes_are_kept_and_as_of_questions_never_are() -> None:
    judgements = Judgements(reuse_seconds=10, kept=2)
    made: list[str] = []

    def judge(name: str) -> Judgement:
        made.append(name)
        return _judgement(7, NOW)

    live = Snapshot(1, None, 7)
    scopes = {name: Scope("team", name * 32) for name in "abc"}
    for name in "abab":
        judgements.judgement(live, NOW, scopes[name], DEFAULT_RULES, partial(judge, name))
    assert made == ["a", "b"]
    judgements.judgement(live, NOW, scopes["c"], DEFAULT_RULES, lambda: judge("c"))
    judgements.judgement(live, NOW, scopes["b"], DEFAULT_RULES, lambda: judge("b"))
    judgements.judgement(live, NOW, scopes["a"], DEFAULT_RULES, lambda: judge("a"))
    assert made == ["a", "b", "c", "a"]
    assert len(judgements) == 2

    other = Rules(stale_days=3)
    judgements.judgement(live, NOW, scopes["a"], other, lambda: judge("a, other rules"))
    then = Snapshot(1, 1_000, 7)
    for _ in range(2):
        judgements.judgement(then, NOW, scopes["a"], DEFAULT_RULES, lambda: judge("a as of"))
    assert made[4:] == ["a, other rules", "a as of", "a as of"]

    off = Judgements(reuse_seconds=0)
    for _ in range(2):
        off.judgement(live, NOW, scopes["a"], DEFAULT_RULES, lambda: judge("a, reuse off"))
    assert made[-2:] == ["a, reuse off", "a, reuse off"]
    assert len(off) == 0
