"""The route table of the route-by-role test: for every route of the app, its kind of call and
how to call it, with the fresh objects (made by an admin) that let the call succeed."""

from __future__ import annotations

from collections.abc import Callable

from tests.api.helpers import goal_body, member_body, operation_body, project_body
from tests.api.permissions_world import TODAY, Call, World

Make = Callable[[World], Call]


def get(path: Callable[[World], str], **params: str) -> Make:
    return lambda w: Call("GET", path(w), params=params)


def post(path: Callable[[World], str], body: Callable[[World], object] | None = None) -> Make:
    return lambda w: Call("POST", path(w), json=body(w) if body else None)


def _with(method: str, path: Callable[[World], str], body: object) -> Make:
    return lambda w: Call(method, path(w), json=body)


def _issue_with(w: World, action: str, body: object) -> str:
    issue = w.issue()
    w.admin("POST", f"/v1/issues/{issue}/{action}", body)
    return issue


def _blocked_by(w: World) -> str:
    issue, blocker = w.issue(), w.issue()
    w.admin("POST", f"/v1/issues/{issue}/dependencies", {"blocked_by_id": blocker})
    return f"/v1/issues/{issue}/dependencies/{blocker}"


def _milestone(w: World) -> str:
    answer = w.admin("POST", f"/v1/projects/{w.ids['project']}/milestones", _MILESTONE)
    return f"/v1/projects/{w.ids['project']}/milestones/{answer['milestone_id']}/complete"


def _led_by(w: World) -> str:
    member = w.member()
    w.admin("POST", f"/v1/teams/{w.team}/leads", {"member_id": member})
    return f"/v1/teams/{w.team}/leads/{member}"


def _deactivated(w: World) -> str:
    member = w.member()
    w.admin("POST", f"/v1/members/{member}/deactivate")
    return member


def _paused(w: World) -> str:
    operation = w.operation()
    w.admin("POST", f"/v1/operations/{operation}/pause")
    return operation


def _goal_of(w: World) -> object:
    return goal_body(w.ids["lead"], team_id=w.team)


def _link(w: World) -> object:
    return {"kind": "goal", "target_id": w.ids["goal"]}


def _watch(w: World) -> object:
    return {"member_id": w.ids["lead"]}


def _object_path(kind: str) -> Callable[[World], str]:
    return lambda w: f"/v1/{kind}s/{w.team if kind == 'team' else w.ids[kind]}"


def _list_path(kind: str) -> Callable[[World], str]:
    return lambda w: f"/v1/{kind}s"


_MILESTONE = {"name": "Beta", "due_date": "2026-04-01"}
_GOAL = "/v1/goals/{goal_id}"
_PROJECT = "/v1/projects/{project_id}"
_ISSUE = "/v1/issues/{issue_id}"
_OPERATION = "/v1/operations/{operation_id}"
_OCCURRENCE = _OPERATION + "/occurrences/{due_date}"

ROUTES: dict[tuple[str, str], tuple[str, Make]] = {
    ("GET", "/openapi.json"): ("open", get(lambda w: "/openapi.json")),
    ("GET", "/docs"): ("open", get(lambda w: "/docs")),
    ("GET", "/healthz"): ("open", get(lambda w: "/healthz")),
    ("GET", "/readyz"): ("open", get(lambda w: "/readyz")),
    ("GET", "/metrics"): ("open", get(lambda w: "/metrics")),
    # Teams
    ("POST", "/v1/teams"): ("admin", _with("POST", lambda w: "/v1/teams", {"name": "New"})),
    ("PATCH", "/v1/teams/{team_id}"): (
        "team",
        _with("PATCH", lambda w: f"/v1/teams/{w.team}", {"weekly_capacity": 40}),
    ),
    ("POST", "/v1/teams/{team_id}/members"): (
        "team",
        post(lambda w: f"/v1/teams/{w.team}/members", lambda w: {"member_id": w.ids["member"]}),
    ),
    ("DELETE", "/v1/teams/{team_id}/members/{member_id}"): (
        "team",
        lambda w: Call("DELETE", f"/v1/teams/{w.team}/members/{w.member(team_ids=(w.team,))}"),
    ),
    ("POST", "/v1/teams/{team_id}/leads"): (
        "admin",
        post(lambda w: f"/v1/teams/{w.team}/leads", lambda w: {"member_id": w.member()}),
    ),
    ("DELETE", "/v1/teams/{team_id}/leads/{member_id}"): (
        "admin",
        lambda w: Call("DELETE", _led_by(w)),
    ),
    ("PUT", "/v1/teams/{team_id}/working-agreement"): (
        "team",
        _with("PUT", lambda w: f"/v1/teams/{w.team}/working-agreement", {"text": "Daily"}),
    ),
    ("PUT", "/v1/teams/{team_id}/definition-of-done"): (
        "team",
        _with("PUT", lambda w: f"/v1/teams/{w.team}/definition-of-done", {"items": ["Tested"]}),
    ),
    # Members
    ("POST", "/v1/members"): ("admin", post(lambda w: "/v1/members", lambda w: member_body())),
    ("PATCH", "/v1/members/{member_id}"): (
        "admin",
        _with("PATCH", lambda w: f"/v1/members/{w.ids['member']}", {"weekly_capacity": 20}),
    ),
    ("POST", "/v1/members/{member_id}/deactivate"): (
        "admin",
        post(lambda w: f"/v1/members/{w.member()}/deactivate"),
    ),
    ("POST", "/v1/members/{member_id}/reactivate"): (
        "admin",
        post(lambda w: f"/v1/members/{_deactivated(w)}/reactivate"),
    ),
    # Goals
    ("POST", "/v1/goals"): ("team", post(lambda w: "/v1/goals", _goal_of)),
    ("PATCH", _GOAL): ("team", _with("PATCH", lambda w: f"/v1/goals/{w.goal()}", {"title": "T"})),
    ("POST", _GOAL + "/activate"): ("team", post(lambda w: f"/v1/goals/{w.goal()}/activate")),
    ("POST", _GOAL + "/close"): (
        "team",
        _with("POST", lambda w: f"/v1/goals/{w.goal()}/close", {"outcome": "abandoned"}),
    ),
    ("POST", _GOAL + "/key-results"): (
        "team",
        _with(
            "POST",
            lambda w: f"/v1/goals/{w.ids['goal']}/key-results",
            {"title": "Refunds a day", "unit": "number", "start": 0, "target": 5},
        ),
    ),
    ("POST", _GOAL + "/key-results/{kr_id}/check-ins"): (
        "work",
        _with(
            "POST",
            lambda w: f"/v1/goals/{w.ids['goal']}/key-results/{w.ids['kr']}/check-ins",
            {"value": 3},
        ),
    ),
    # Projects
    ("POST", "/v1/projects"): (
        "team",
        post(
            lambda w: "/v1/projects",
            lambda w: project_body(w.ids["lead"], w.team, key=f"N{w.number()}"),
        ),
    ),
    ("PATCH", _PROJECT): (
        "team",
        _with("PATCH", lambda w: f"/v1/projects/{w.ids['project']}", {"name": "Payouts"}),
    ),
    ("POST", _PROJECT + "/status"): (
        "team",
        _with("POST", lambda w: f"/v1/projects/{w.project()}/status", {"status": "active"}),
    ),
    ("POST", _PROJECT + "/health"): (
        "work",
        _with("POST", lambda w: f"/v1/projects/{w.ids['project']}/health", {"health": "at_risk"}),
    ),
    ("POST", _PROJECT + "/milestones"): (
        "team",
        _with("POST", lambda w: f"/v1/projects/{w.ids['project']}/milestones", _MILESTONE),
    ),
    ("POST", _PROJECT + "/milestones/{milestone_id}/complete"): (
        "team",
        lambda w: Call("POST", _milestone(w)),
    ),
    ("POST", _PROJECT + "/goals"): (
        "team",
        post(lambda w: f"/v1/projects/{w.ids['project']}/goals", lambda w: {"goal_id": w.goal()}),
    ),
    # Issues
    ("POST", "/v1/issues"): (
        "work",
        post(lambda w: "/v1/issues", lambda w: {"title": "T", "kind": "bug", "team_id": w.team}),
    ),
    ("PATCH", _ISSUE): (
        "work",
        _with("PATCH", lambda w: f"/v1/issues/{w.issue()}", {"title": "T"}),
    ),
    ("POST", _ISSUE + "/assign"): (
        "work",
        post(
            lambda w: f"/v1/issues/{w.issue()}/assign", lambda w: {"assignee_id": w.ids["member"]}
        ),
    ),
    ("POST", _ISSUE + "/transition"): (
        "work",
        _with("POST", lambda w: f"/v1/issues/{w.issue()}/transition", {"status": "todo"}),
    ),
    ("POST", _ISSUE + "/block"): (
        "work",
        _with("POST", lambda w: f"/v1/issues/{w.issue()}/block", {"reason": "Waiting"}),
    ),
    ("POST", _ISSUE + "/unblock"): (
        "work",
        post(lambda w: f"/v1/issues/{_issue_with(w, 'block', {'reason': 'R'})}/unblock"),
    ),
    ("POST", _ISSUE + "/dependencies"): (
        "work",
        post(
            lambda w: f"/v1/issues/{w.issue()}/dependencies",
            lambda w: {"blocked_by_id": w.ids["issue"]},
        ),
    ),
    ("DELETE", _ISSUE + "/dependencies/{blocked_by_id}"): (
        "work",
        lambda w: Call("DELETE", _blocked_by(w)),
    ),
    ("POST", _ISSUE + "/links"): (
        "work",
        post(
            lambda w: f"/v1/issues/{w.issue()}/links",
            lambda w: {"kind": "goal", "target_id": w.ids["goal"]},
        ),
    ),
    ("DELETE", _ISSUE + "/links/{kind}/{target_id}"): (
        "work",
        lambda w: Call(
            "DELETE",
            f"/v1/issues/{_issue_with(w, 'links', _link(w))}/links/goal/{w.ids['goal']}",
        ),
    ),
    ("POST", _ISSUE + "/comments"): (
        "work",
        _with("POST", lambda w: f"/v1/issues/{w.issue()}/comments", {"body": "Looking"}),
    ),
    ("POST", _ISSUE + "/watchers"): (
        "work",
        post(lambda w: f"/v1/issues/{w.issue()}/watchers", lambda w: {"member_id": w.ids["lead"]}),
    ),
    ("DELETE", _ISSUE + "/watchers/{member_id}"): (
        "work",
        lambda w: Call(
            "DELETE",
            f"/v1/issues/{_issue_with(w, 'watchers', _watch(w))}/watchers/{w.ids['lead']}",
        ),
    ),
    # Operations
    ("POST", "/v1/operations"): (
        "team",
        post(lambda w: "/v1/operations", lambda w: operation_body(w.team, w.ids["lead"])),
    ),
    ("PATCH", _OPERATION): (
        "team",
        _with("PATCH", lambda w: f"/v1/operations/{w.operation()}", {"runbook": ["Check"]}),
    ),
    ("PUT", _OPERATION + "/cadence"): (
        "team",
        _with(
            "PUT",
            lambda w: f"/v1/operations/{w.operation()}/cadence",
            {"cadence": {"every": "week"}},
        ),
    ),
    ("POST", "/v1/operations/tick"): (
        "tick",
        _with("POST", lambda w: "/v1/operations/tick", {"until": TODAY}),
    ),
    ("POST", _OPERATION + "/pause"): (
        "team",
        post(lambda w: f"/v1/operations/{w.operation()}/pause"),
    ),
    ("POST", _OPERATION + "/resume"): (
        "team",
        post(lambda w: f"/v1/operations/{_paused(w)}/resume"),
    ),
    ("POST", _OPERATION + "/retire"): (
        "team",
        post(lambda w: f"/v1/operations/{w.operation()}/retire"),
    ),
    ("POST", _OCCURRENCE + "/complete"): (
        "work",
        post(lambda w: f"/v1/operations/{w.occurrence()}/occurrences/{TODAY}/complete"),
    ),
    ("POST", _OCCURRENCE + "/skip"): (
        "work",
        post(lambda w: f"/v1/operations/{w.occurrence()}/occurrences/{TODAY}/skip"),
    ),
    # Imports and tokens
    ("POST", "/v1/import"): ("admin", lambda w: w.import_lines()),
    ("GET", "/v1/import/{import_id}"): ("admin", get(lambda w: f"/v1/import/{w.ids['import']}")),
    ("POST", "/v1/tokens"): ("admin", _with("POST", lambda w: "/v1/tokens", {"role": "viewer"})),
    ("GET", "/v1/tokens"): ("admin", get(lambda w: "/v1/tokens")),
    ("DELETE", "/v1/tokens/{token_id}"): (
        "admin",
        lambda w: Call("DELETE", f"/v1/tokens/{w.runtime.tokens.issue('viewer').record.id}"),
    ),
    # Queries
    **{
        ("GET", f"/v1/{kind}s/{{{kind}_id}}"): ("read", get(_object_path(kind)))
        for kind in ("team", "member", "goal", "project", "issue", "operation")
    },
    **{
        ("GET", f"/v1/{kind}s"): ("read", get(_list_path(kind)))
        for kind in ("team", "member", "goal", "project", "issue", "operation")
    },
    ("GET", _ISSUE + "/comments"): ("read", get(lambda w: f"/v1/issues/{w.ids['issue']}/comments")),
    ("GET", "/v1/history"): ("read", get(lambda w: "/v1/history")),
    ("GET", "/v1/history/verify"): ("read", get(lambda w: "/v1/history/verify")),
    ("GET", "/v1/summaries"): ("read", get(lambda w: "/v1/summaries")),
    ("GET", "/v1/insights"): ("read", get(lambda w: "/v1/insights")),
    ("GET", "/v1/flow"): ("read", get(lambda w: "/v1/flow")),
    ("GET", "/v1/views/portfolio"): ("read", get(lambda w: "/v1/views/portfolio")),
    ("GET", "/v1/forecasts/{project_id}"): (
        "read",
        get(lambda w: f"/v1/forecasts/{w.ids['project']}"),
    ),
    ("GET", "/v1/views/queue/me"): ("read", get(lambda w: "/v1/views/queue/me")),
    ("GET", "/v1/views/queue/{member_id}"): (
        "read",
        get(lambda w: f"/v1/views/queue/{w.ids['member']}"),
    ),
    ("GET", "/v1/views/workload"): ("read", get(lambda w: "/v1/views/workload")),
    ("GET", "/v1/views/workload/{team_id}"): (
        "read",
        get(lambda w: f"/v1/views/workload/{w.team}"),
    ),
    ("GET", "/v1/events"): ("read", get(lambda w: "/v1/events")),
    ("GET", "/v1/events/stream"): ("read", lambda w: Call("GET", "/v1/events/stream", stream=True)),
}
