"""What each scope shows (docs/insights.md, "Asking"): a team's items, members (their load counts
their work in every team), projects, operations and the goals it owns; a project's items and the
project; a member's assigned items, their load, and the goals, projects and operations they own;
a goal, the work it depends on, and the projects linked to it. Then unknown and malformed
scopes, the ``kind`` and ``severity`` filters, the order, and paging.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from fastapi.testclient import TestClient

from services.app import Runtime
from tests.projections.insights.history import (
    Document,
    History,
    ago,
    imported,
    insights,
    iso,
)

KIND_ORDER = ("goal_at_risk", "work_on_goal_at_risk", "project_slipping", "overloaded",
              "operation_unhealthy", "aging_work", "stale_work", "due_date_churn",
              "idle_capacity", "triage")  # fmt: skip
SEVERITY_ORDER = ("critical", "warning", "info")


@dataclass
class World:
    """Two teams and the people, goals, projects, work and operation between them."""

    position: int
    ids: dict[str, UUID]

    def __getitem__(self, name: str) -> UUID:
        return self.ids[name]


def _world(runtime: Runtime) -> World:
    h = History()
    made: dict[str, UUID] = {}
    alpha = made["alpha"] = h.team(ago(120), "Alpha")
    beta = made["beta"] = h.team(ago(120), "Beta")
    ada = made["ada"] = h.member(ago(120), "Ada", 10, [alpha])
    ben = made["ben"] = h.member(ago(120), "Ben", 10, [beta])
    cal = made["cal"] = h.member(ago(120), "Cal", 10, [alpha, beta])
    # Alpha finishes one unestimated issue a week: enough to forecast its projects.
    h.pace(alpha, [1] * 12)
    # Two goals behind their period: Alpha's (Ada's), and Ben's of no team.
    for name, owner, team in (("ga", ada, alpha), ("gb", ben, None)):
        goal = made[name] = h.goal(
            ago(70), f"Goal {name.upper()}", owner, team, date(2026, 1, 1), date(2026, 4, 30)
        )
        kr = h.key_result(ago(70), goal, "Measure", 0, 10)
        h.activate(ago(69), goal)
        h.check_in(ago(30), goal, kr, 2)
    # Alpha's project towards goal GB cannot finish its two open issues by next Monday.
    app = made["alpha_app"] = h.project(
        ago(60), "Alpha app", "ALP", ada, alpha, date(2026, 3, 9), [made["gb"]]
    )
    for number in range(2):
        h.issue(ago(50), f"App part {number}", alpha, project_id=app)
    site = made["alpha_site"] = h.project(ago(60), "Alpha site", "ALS", ada, alpha,
                                          date(2026, 12, 31))  # fmt: skip
    beta_app = made["beta_app"] = h.project(ago(60), "Beta app", "BET", ben, beta,
                                            date(2026, 12, 31))  # fmt: skip
    # Alpha's site: a stale issue of Cal's, and one whose due date churns.
    stale = made["stale_page"] = h.issue(ago(30), "Stale page", alpha, project_id=site,
                                         assignee_id=cal)  # fmt: skip
    h.move(ago(20), stale, "todo")
    churn = made["churny"] = h.issue(ago(40), "Churny", alpha, project_id=site,
                                     due_date=date(2026, 6, 1))  # fmt: skip
    for number in range(3):
        h.due(ago(30 - number), churn, date(2026, 6, 2 + number))
    # Beta: Cal's overdue work for goal GA, Cal's big job, Ben's aging issue, a bug in triage.
    overdue = made["beta_overdue"] = h.issue(
        ago(30), "Beta overdue", beta, assignee_id=cal, goal_ids=[made["ga"]],
        due_date=date(2026, 2, 20),
    )  # fmt: skip
    h.comment(ago(2), overdue, "Nearly")
    big = made["big_job"] = h.issue(ago(10), "Big job", beta, assignee_id=cal, estimate=30,
                                    due_date=date(2026, 3, 5))  # fmt: skip
    h.move(ago(9), big, "todo")
    h.comment(ago(1), big, "Started on it")
    aging = made["beta_aging"] = h.issue(ago(25), "Beta aging", beta, assignee_id=ben)
    h.move(ago(21), aging, "todo")
    h.move(ago(20), aging, "in_progress")
    made["beta_bug"] = h.issue(ago(4), "Beta bug", beta, "bug", project_id=beta_app)
    # Alpha's operation, owned by Ben (not one of Alpha's members), never done.
    made["backups"] = h.operation(ago(60), "Alpha backups", alpha, ben, date(2026, 1, 5))
    h.tick(ago(59), date(2026, 3, 9))
    return World(imported(runtime, h.lines), made)


def _found(client: TestClient, headers: dict[str, str], world: World, scope: str) -> set[Any]:
    """The insights of ``scope`` as (kind, first object's name in ``world``)."""
    names = {str(value): key for key, value in world.ids.items()}
    items = insights(client, headers, world.position, scope=scope)["items"]
    return {(item["kind"], names.get(item["objects"][0]["id"], "?")) for item in items}


def test_each_scope_shows_what_belongs_to_it(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    world = _world(runtime)
    everything = {
        ("goal_at_risk", "ga"),
        ("goal_at_risk", "gb"),
        ("work_on_goal_at_risk", "beta_overdue"),
        ("project_slipping", "alpha_app"),
        ("overloaded", "cal"),
        ("operation_unhealthy", "backups"),
        ("aging_work", "beta_aging"),
        ("stale_work", "beta_aging"),
        ("stale_work", "stale_page"),
        ("due_date_churn", "churny"),
        ("idle_capacity", "alpha"),
        ("triage", "beta_bug"),
    }
    expected: dict[str, set[tuple[str, str]]] = {
        "org": everything,
        # Its items, its member Cal's load (work in Beta included), its project, its operation
        # (whoever owns it), the goal it owns, and itself.
        f"team:{world['alpha']}": {
            ("goal_at_risk", "ga"),
            ("project_slipping", "alpha_app"),
            ("overloaded", "cal"),
            ("operation_unhealthy", "backups"),
            ("stale_work", "stale_page"),
            ("due_date_churn", "churny"),
            ("idle_capacity", "alpha"),
        },
        f"team:{world['beta']}": {
            ("work_on_goal_at_risk", "beta_overdue"),
            ("overloaded", "cal"),
            ("aging_work", "beta_aging"),
            ("stale_work", "beta_aging"),
            ("triage", "beta_bug"),
        },
        f"project:{world['alpha_app']}": {("project_slipping", "alpha_app")},
        f"project:{world['alpha_site']}": {
            ("stale_work", "stale_page"),
            ("due_date_churn", "churny"),
        },
        f"project:{world['beta_app']}": {("triage", "beta_bug")},
        # Assigned items, their load, and the goals, projects and operations they own.
        f"member:{world['cal']}": {
            ("stale_work", "stale_page"),
            ("work_on_goal_at_risk", "beta_overdue"),
            ("overloaded", "cal"),
        },
        f"member:{world['ben']}": {
            ("aging_work", "beta_aging"),
            ("stale_work", "beta_aging"),
            ("goal_at_risk", "gb"),
            ("operation_unhealthy", "backups"),
        },
        f"member:{world['ada']}": {("goal_at_risk", "ga"), ("project_slipping", "alpha_app")},
        # The goal, the work it depends on, and the projects linked to it.
        f"goal:{world['ga']}": {("goal_at_risk", "ga"), ("work_on_goal_at_risk", "beta_overdue")},
        f"goal:{world['gb']}": {("goal_at_risk", "gb"), ("project_slipping", "alpha_app")},
    }

    found = {scope: _found(client, admin, world, scope) for scope in expected}

    assert found == expected


def test_a_scope_shows_its_insights_exactly_as_the_organisation_does(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    world = _world(runtime)
    org = {
        item["id"]: item
        for item in insights(client, admin, world.position)["items"]
    }  # fmt: skip

    for name in ("alpha", "beta", "alpha_app", "alpha_site", "cal", "ben", "ada", "ga", "gb"):
        kind = {"alpha": "team", "beta": "team", "cal": "member", "ben": "member",
                "ada": "member", "ga": "goal", "gb": "goal"}.get(name, "project")  # fmt: skip
        scoped = insights(client, admin, world.position, scope=f"{kind}:{world[name]}")
        for item in scoped["items"]:
            assert item == org[item["id"]], f"{item['kind']} differs in {kind} {name}"


def test_an_id_that_names_nothing_then_is_404_and_a_malformed_scope_422(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    world = _world(runtime)

    for kind in ("team", "project", "goal", "member"):
        answer = client.get(
            "/v1/insights",
            params={"scope": f"{kind}:{uuid4()}", "min_position": world.position},
            headers=admin,
        )
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "not_found"
    # Alpha was created 120 days ago: before that, it named nothing.
    before = client.get(
        "/v1/insights",
        params={"scope": f"team:{world['alpha']}", "as_of": iso(ago(121))},
        headers=admin,
    )
    assert before.status_code == 404, before.text
    for scope in ("team:abc", "bogus", "team", f"org:{world['alpha']}", f"teams:{world['alpha']}",
                  f"team:{world['alpha']}0", "member:"):  # fmt: skip
        answer = client.get("/v1/insights", params={"scope": scope}, headers=admin)
        assert answer.status_code == 422, f"{scope}: {answer.text}"
        assert answer.json()["code"] == "validation_error"
    for wrong in ({"kind": "late"}, {"severity": "urgent"}, {"limit": 0}):
        assert client.get("/v1/insights", params=wrong, headers=admin).status_code == 422
    malformed = client.get("/v1/insights", params={"cursor": "not-one"}, headers=admin)
    assert malformed.status_code == 400


def _rank(item: Document) -> tuple[int, int, float, str]:
    score = -float(item["score"]["total"]) if item["score"] else 0.0
    return (
        SEVERITY_ORDER.index(item["severity"]),
        KIND_ORDER.index(item["kind"]),
        score,
        item["since"],
    )


def test_kind_and_severity_filter_and_counts_count_every_match(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    world = _world(runtime)
    everything = insights(client, admin, world.position)
    items = everything["items"]
    # Most severe first, then by kind in the table's order, then the longest held.
    assert [_rank(item) for item in items] == sorted(_rank(item) for item in items)
    assert everything["counts"] == {
        severity: sum(1 for item in items if item["severity"] == severity)
        for severity in SEVERITY_ORDER
    }

    two_kinds = client.get(
        "/v1/insights",
        params=[("kind", "stale_work"), ("kind", "triage"), ("min_position", world.position)],
        headers=admin,
    ).json()
    assert two_kinds["items"] == [
        item for item in items if item["kind"] in ("stale_work", "triage")
    ]
    assert sum(two_kinds["counts"].values()) == 3

    severe = insights(client, admin, world.position, severity="critical")
    assert severe["items"] == [item for item in items if item["severity"] == "critical"]
    assert severe["counts"] == {"critical": everything["counts"]["critical"], "warning": 0,
                                "info": 0}  # fmt: skip
    both = client.get(
        "/v1/insights",
        params=[("severity", "warning"), ("severity", "info"), ("kind", "stale_work"),
                ("kind", "idle_capacity")],
        headers=admin,
    ).json()  # fmt: skip
    assert both["items"] == [
        item
        for item in items
        if item["severity"] in ("warning", "info")
        and item["kind"] in ("stale_work", "idle_capacity")
    ]


def test_pages_give_every_insight_once_in_order(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    world = _world(runtime)
    whole = insights(client, admin, world.position)
    assert len({item["id"] for item in whole["items"]}) == len(whole["items"]) == 12
    for limit in (1, 2, 5, 12):
        paged: list[Document] = []
        cursor: str | None = None
        pages = 0
        while True:
            query: dict[str, Any] = {"limit": limit}
            if cursor is not None:
                query["cursor"] = cursor
            page = insights(client, admin, world.position, **query)
            assert len(page["items"]) <= limit
            assert page["counts"] == whole["counts"]
            paged.extend(page["items"])
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert paged == whole["items"], f"pages of {limit}"
        assert pages == -(-12 // limit)


def test_a_page_as_of_a_past_moment_pages_that_moments_insights(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    world = _world(runtime)
    then = iso(ago(10) + timedelta(hours=1))
    whole = insights(client, admin, world.position, as_of=then)
    first = insights(client, admin, world.position, as_of=then, limit=3)
    rest = insights(client, admin, world.position, as_of=then, cursor=first["next_cursor"])
    assert first["items"] + rest["items"] == whole["items"]
    assert whole["now"] == then


def test_a_goals_scope_shows_the_insights_about_the_work_it_depends_on(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    h = History()
    team = h.team(ago(120), "Growth")
    ada = h.member(ago(120), "Ada", 10, [team])
    goal = h.goal(ago(70), "Launch in Spain", ada, team, date(2026, 1, 1), date(2026, 4, 30))
    kr = h.key_result(ago(70), goal, "Cities", 0, 10)
    h.activate(ago(69), goal)
    h.check_in(ago(1), goal, kr, 5)
    project = h.project(ago(60), "Spain", "ESP", ada, team, date(2026, 12, 31), [goal])
    # Directly linked and stale; in the linked project, churning and aging.
    stale = h.issue(ago(40), "Translate checkout", team, assignee_id=ada, goal_ids=[goal])
    h.move(ago(20), stale, "todo")
    churn = h.issue(ago(40), "Tax rules", team, project_id=project, due_date=date(2026, 6, 1))
    for number in range(3):
        h.due(ago(30 - number), churn, date(2026, 6, 2 + number))
    aging = h.issue(ago(40), "Local payments", team, project_id=project)
    h.move(ago(21), aging, "todo")
    h.move(ago(20), aging, "in_progress")
    position = imported(runtime, h.lines)

    def found(scope: str) -> set[tuple[str, str]]:
        items = insights(client, admin, position, scope=scope)["items"]
        return {(item["kind"], item["objects"][0]["id"]) for item in items}

    assert found(f"project:{project}") == {
        ("due_date_churn", str(churn)),
        ("aging_work", str(aging)),
    }
    assert found(f"goal:{goal}") == {
        ("stale_work", str(stale)),
        ("due_date_churn", str(churn)),
        ("aging_work", str(aging)),
    }
