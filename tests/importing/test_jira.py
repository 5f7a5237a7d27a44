"""Specification of the Jira converter: a Jira Cloud search export becomes import lines that
replay each issue's history, at its original times, through the workflow's rules."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import issue
from services.importing.jira import JiraExportError, JiraOptions, convert, load_export
from services.importing.jira.workflow import TRANSITIONS, initial_status, shortest_path
from services.importing.lines import ImportLine
from tests.importing.simulation import Simulation

FIXTURES = Path(__file__).parent / "fixtures" / "jira"
V3 = FIXTURES / "cloud_v3_page.json"
V2 = FIXTURES / "cloud_v2_pages.json"
FORMER_USER = "557058:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


def exported(path: Path = V3) -> Any:
    return load_export(path)


def lines_about(lines: list[ImportLine], issue_id: UUID) -> list[ImportLine]:
    """The lines that create or change one issue."""
    return [
        line
        for line in lines
        if line.get("id") == str(issue_id) or f"/v1/issues/{issue_id}" in line["command"]
    ]


def member_line(lines: list[ImportLine], email: str) -> ImportLine:
    return next(line for line in lines if line.get("body", {}).get("email") == email)


@pytest.mark.parametrize("path", [V3, V2])
def test_lines_come_in_the_order_they_happened(path: Path) -> None:
    lines = convert(exported(path)).lines

    times = [datetime.fromisoformat(line["occurred_at"]) for line in lines]

    assert times == sorted(times)
    assert all(time.tzinfo == UTC for time in times)


@pytest.mark.parametrize("path", [V3, V2])
@pytest.mark.parametrize(
    "options",
    [
        JiraOptions(),
        JiraOptions(story_points_field="customfield_10016"),
        JiraOptions(status_map={"Waiting for Vendor": "in_review", "Done": "cancelled"}),
    ],
)
def test_every_line_passes_the_rules_of_the_domain_in_turn(
    path: Path, options: JiraOptions
) -> None:
    Simulation().run(convert(exported(path), options).lines)


def test_an_issue_is_created_with_the_values_its_changelog_shows_it_had_then() -> None:
    conversion = convert(exported())

    created = lines_about(conversion.lines, conversion.issue_ids["PAY-1"])[0]

    assert created["command"] == "POST /v1/issues"
    assert created["occurred_at"] == "2024-01-08T08:00:00+00:00"
    body = created["body"]
    assert body["title"] == "Card payments"
    assert body["priority"] == "medium"
    assert body["due_date"] == "2024-02-01"
    assert body["labels"] == ["payments"]
    assert body["estimate"] == 4.0
    assert "assignee_id" not in body


def test_after_its_history_an_issue_holds_what_jira_shows_now() -> None:
    conversion = convert(exported())

    final = Simulation().run(conversion.lines).issues[conversion.issue_ids["PAY-1"]]

    assert final.title == "Card payments via Stripe"
    assert (final.priority, final.status) == ("high", "done")
    assert (final.due_date, final.estimate) == (date(2024, 2, 15), 8.0)
    assert final.labels == ("payments", "q1")
    assert final.assignee_id == UUID(member_line(conversion.lines, "alice@acme.example")["id"])
    assert final.description == (
        "Take card payments through Stripe Checkout.\n\n- 3-D Secure\n- Refunds, with @Carol Diaz"
    )


def test_a_changelog_out_of_order_is_replayed_in_time_order_moving_back_through_the_workflow() -> (
    None
):
    conversion = convert(exported())
    pay1 = conversion.issue_ids["PAY-1"]

    statuses = Simulation().run(conversion.lines).statuses(pay1)

    # To Do at creation, In Progress, Done, back to In Progress (through todo), Done again.
    assert statuses == ["todo", "in_progress", "done", "todo", "in_progress", "done"]


def test_a_jump_from_to_do_to_done_passes_through_the_statuses_between_at_the_same_moment() -> None:
    conversion = convert(exported())
    pay3 = conversion.issue_ids["PAY-3"]

    moves = [
        (line["occurred_at"], line["body"]["status"])
        for line in lines_about(conversion.lines, pay3)
        if line["command"].endswith("/transition")
    ]

    assert moves == [
        ("2024-01-15T08:30:00+00:00", "todo"),
        ("2024-01-16T09:00:00+00:00", "in_progress"),
        ("2024-01-16T09:00:00+00:00", "done"),
    ]


def test_a_deleted_user_gets_an_address_and_is_deactivated_after_their_last_act() -> None:
    conversion = convert(exported())
    lines = conversion.lines
    former = member_line(lines, f"{FORMER_USER}@users.jira.invalid")
    former_id = former["id"]

    created = lines.index(former)
    acts = [
        n
        for n, line in enumerate(lines)
        if former_id in (line["actor_id"], line.get("body", {}).get("assignee_id"))
    ]
    deactivated = lines.index(
        next(
            line for line in lines if line["command"] == f"POST /v1/members/{former_id}/deactivate"
        )
    )

    assert former["body"]["name"] == "Former user"
    assert created < min(acts)
    assert max(acts) < deactivated
    assert lines[deactivated]["occurred_at"] == lines[max(acts)]["occurred_at"]
    assert f"Former user ({FORMER_USER})" in conversion.report.users_without_email


def test_a_subtask_is_created_after_its_parent_and_under_it() -> None:
    conversion = convert(exported())
    ids = conversion.issue_ids

    creates = [line for line in conversion.lines if line["command"] == "POST /v1/issues"]

    assert [line["id"] for line in creates] == [
        str(ids[key]) for key in ("PAY-1", "PAY-2", "PAY-3")
    ]
    assert creates[1]["body"]["parent_id"] == str(ids["PAY-1"])


def test_a_blocks_link_becomes_a_dependency_when_it_was_made_and_others_are_reported() -> None:
    conversion = convert(exported())
    ids = conversion.issue_ids

    dependencies = [line for line in conversion.lines if line["command"].endswith("/dependencies")]

    assert len(dependencies) == 1
    assert dependencies[0]["command"] == f"POST /v1/issues/{ids['PAY-3']}/dependencies"
    assert dependencies[0]["body"] == {"blocked_by_id": str(ids["PAY-1"])}
    assert dependencies[0]["occurred_at"] == "2024-01-15T09:00:00+00:00"
    assert conversion.report.links_not_brought["Relates"].count == 1
    assert "Link" not in conversion.report.unknown_changes


def test_comments_keep_their_author_their_time_and_their_text() -> None:
    conversion = convert(exported())
    carol = member_line(conversion.lines, "60a7c9f2d4b8e1006f3a2c11@users.jira.invalid")["id"]

    comments = [
        line
        for line in lines_about(conversion.lines, conversion.issue_ids["PAY-1"])
        if line["command"].endswith("/comments")
    ]

    assert [(c["occurred_at"], c["body"]["body"]) for c in comments] == [
        ("2024-01-10T11:00:00+00:00", "Stripe test keys are in the vault."),
        ("2024-01-21T08:15:00+00:00", "3-D Secure fails on Safari ⚠️"),
    ]
    assert comments[1]["actor_id"] == carol


def test_a_v2_export_in_pages_brings_plain_text_kinds_and_priorities() -> None:
    conversion = convert(exported(V2))
    creates = {
        line["id"]: line["body"]
        for line in conversion.lines
        if line["command"] == "POST /v1/issues"
    }

    ops1 = creates[str(conversion.issue_ids["OPS-1"])]
    ops2 = creates[str(conversion.issue_ids["OPS-2"])]

    assert len(creates) == 3
    assert (ops1["kind"], ops1["priority"], ops1["estimate"]) == ("incident", "urgent", 2.0)
    assert ops1["description"].startswith("Replica promoted automatically.")
    assert (ops2["kind"], ops2["priority"], ops2.get("labels", [])) == ("request", "medium", [])
    assert member_line(conversion.lines, "dave@acme.example")["body"]["name"] == "Dave Kim"


def test_fields_and_changes_it_does_not_bring_are_reported_with_an_example() -> None:
    report = convert(exported()).report

    assert set(report.unknown_fields) == {
        "resolution",
        "customfield_10016 (Story point estimate)",
        "customfield_10019 (Rank)",
        "customfield_10020 (Sprint)",
        "customfield_10050 (Team)",
    }
    assert report.unknown_fields["customfield_10050 (Team)"].example == "PAY-3"
    assert set(report.unknown_changes) == {
        "resolution",
        "Sprint",
        "Story point estimate",
        "Attachment",
    }
    assert report.unknown_changes["resolution"].count == 4


def test_a_status_it_cannot_map_is_reported_and_moves_to_it_are_skipped() -> None:
    conversion = convert(exported(V2))

    statuses = Simulation().run(conversion.lines).statuses(conversion.issue_ids["OPS-1"])

    assert statuses == ["todo", "in_progress", "done"]
    assert conversion.report.unmapped_statuses["Waiting for Vendor"].example == "OPS-1"
    assert conversion.status_mapping == {
        "Open": "todo",
        "In Progress": "in_progress",
        "Closed": "done",
        "To Do": "todo",
    }
    assert "OPS-3: the Blocks link to SEC-4 (not in the export)" in conversion.report.skipped
    assert conversion.report.links_not_brought["Cloners"].count == 1


def test_converting_the_same_export_again_gives_the_same_lines_whatever_its_order() -> None:
    shuffled = copy.deepcopy(exported())
    shuffled["issues"].reverse()
    for jira_issue in shuffled["issues"]:
        jira_issue.get("changelog", {}).get("histories", []).reverse()

    first, again, reordered = convert(exported()), convert(exported()), convert(shuffled)

    assert first.lines == again.lines == reordered.lines
    assert first.issue_ids == reordered.issue_ids


def test_the_maps_given_override_the_defaults() -> None:
    options = JiraOptions(
        status_map={"waiting for vendor": "in_review"},
        kind_map={"Incident": "bug"},
        priority_map={"Highest": "high"},
        weekly_capacity=32,
    )
    conversion = convert(exported(V2), options)
    ops1 = conversion.issue_ids["OPS-1"]

    created = lines_about(conversion.lines, ops1)[0]["body"]

    assert (created["kind"], created["priority"]) == ("bug", "high")
    assert Simulation().run(conversion.lines).statuses(ops1) == [
        "todo",
        "in_progress",
        "in_review",
        "done",
    ]
    assert member_line(conversion.lines, "erin@acme.example")["body"]["weekly_capacity"] == 32


def test_a_story_points_field_is_brought_as_the_estimate_and_time_estimates_are_reported() -> None:
    conversion = convert(exported(), JiraOptions(story_points_field="Story point estimate"))
    pay1 = conversion.issue_ids["PAY-1"]

    estimates = [
        line["body"]["estimate"]
        for line in lines_about(conversion.lines, pay1)
        if "estimate" in line.get("body", {})
    ]

    assert estimates == [3.0, 5.0]
    assert "timeoriginalestimate" in conversion.report.unknown_changes
    assert "customfield_10016 (Story point estimate)" not in conversion.report.unknown_fields


def test_members_who_exist_already_are_matched_by_email_and_join_the_team() -> None:
    bob = uuid4()
    conversion = convert(exported(), JiraOptions(existing_members={"Bob@Acme.example": bob}))
    lines = conversion.lines

    project = next(line for line in lines if line["command"] == "POST /v1/projects")
    join = next(
        line
        for line in lines
        if line["command"].endswith("/members") and "teams" in line["command"]
    )

    assert all(line.get("body", {}).get("email") != "bob@acme.example" for line in lines)
    assert project["body"]["owner_id"] == str(bob)
    assert join["body"] == {"member_id": str(bob)}
    assert lines.index(join) < lines.index(project)
    Simulation(existing_members=[bob]).run(lines)


def test_the_owner_email_names_the_projects_owner() -> None:
    conversion = convert(exported(V2), JiraOptions(owner_email="ERIN@acme.example"))

    project = next(line for line in conversion.lines if line["command"] == "POST /v1/projects")

    assert project["body"]["owner_id"] == member_line(conversion.lines, "erin@acme.example")["id"]
    assert project["body"]["start_date"] == "2024-03-04"
    assert project["body"]["target_date"] == "2024-03-29"
    Simulation().run(conversion.lines)


def test_the_workflow_the_converter_replays_through_is_the_domains() -> None:
    assert dict(TRANSITIONS) == issue.WORKFLOW
    assert all(initial_status(kind) == issue.initial_status(kind) for kind in issue.KINDS)
    assert shortest_path("done", "in_review") == ("todo", "in_progress", "in_review")
    assert shortest_path("backlog", "triage") is None


def test_what_the_export_leaves_out_is_reported() -> None:
    export = exported()
    del export["issues"][1]["changelog"]
    export["issues"][0]["changelog"]["total"] = 7
    export["issues"][0]["fields"]["comment"]["total"] = 3

    skipped = convert(export).report.skipped

    assert any(s.startswith("PAY-2: no changelog") for s in skipped)
    assert any(s.startswith("PAY-1: the changelog leaves out 2 histories") for s in skipped)
    assert "PAY-1: 1 comments not in the export" in skipped


def test_an_issue_listed_on_two_pages_is_brought_once_and_reported() -> None:
    pages = exported(V2)
    pages[1]["issues"].append(copy.deepcopy(pages[0]["issues"][0]))

    conversion = convert(pages)

    creates = [line for line in conversion.lines if line["command"] == "POST /v1/issues"]
    assert len(creates) == 3
    assert any(s.startswith("OPS-1: listed again") for s in conversion.report.skipped)


def test_the_report_reads_as_text() -> None:
    text = convert(exported(V2)).report.text_lines()

    assert "  Waiting for Vendor: 1 (e.g. OPS-1)" in text
    assert "  Closed → done" in text
    assert "  OPS-3: the Blocks link to SEC-4 (not in the export)" in text


def _broken(change: Any) -> Any:
    export = exported()
    change(export)
    return export


@pytest.mark.parametrize(
    ("export", "where"),
    [
        ("a string", "$"),
        ({"startAt": 0}, "page"),
        ([{"issues": "none"}], "pages[0]"),
        (_broken(lambda e: e["issues"][0].pop("key")), "page.issues[0].key"),
        (_broken(lambda e: e["issues"][1]["fields"].pop("status")), "page.issues[1] (PAY-2)"),
        (
            _broken(lambda e: e["issues"][2]["fields"].update(created="yesterday")),
            "page.issues[2] (PAY-3).fields.created",
        ),
        (
            _broken(lambda e: e["issues"][2]["fields"].update(created="2024-01-15T08:30:00")),
            "page.issues[2] (PAY-3).fields.created",
        ),
        (
            _broken(lambda e: e["issues"][0]["changelog"]["histories"][0]["items"].append(3)),
            "page.issues[0] (PAY-1).changelog.histories[0].items[2]",
        ),
        (
            _broken(lambda e: e["issues"][0]["fields"]["description"].update(type="para")),
            "page.issues[0] (PAY-1).fields.description",
        ),
        (
            _broken(lambda e: e["issues"][0]["fields"]["issuelinks"][0].pop("outwardIssue")),
            "page.issues[0] (PAY-1).fields.issuelinks[0]",
        ),
    ],
)
def test_an_export_not_in_the_documented_shape_is_refused_saying_where(
    export: Any, where: str
) -> None:
    with pytest.raises(JiraExportError) as raised:
        convert(export)

    assert raised.value.where.startswith(where)


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text('{"issues": [\n  {"key": }\n]}')

    with pytest.raises(JiraExportError, match="not JSON") as raised:
        load_export(path)

    assert raised.value.where == f"{path}:2"


def test_option_maps_to_unknown_values_are_refused() -> None:
    with pytest.raises(ValueError, match="status_map"):
        JiraOptions(status_map={"Done": "finished"})
