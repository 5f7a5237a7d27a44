"""The Jira converter on exports real sites produce now and then: links that would close a
cycle, parents created after their sub-issues, keys workledger doesn't accept, users a changelog
names only by account id, and rich ADF documents."""

from __future__ import annotations

from typing import Any

import pytest

from services.importing.jira import JiraExportError, convert
from services.importing.jira.adf import adf_text
from tests.importing.simulation import Simulation

ALICE = {"accountId": "a-1", "emailAddress": "alice@example.com", "displayName": "Alice"}


def jira_issue(
    key: str,
    created: str,
    *,
    parent: str | None = None,
    links: list[dict[str, Any]] | None = None,
    histories: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "summary": f"Issue {key}",
        "issuetype": {"name": "Task", "subtask": parent is not None},
        "status": {"id": "1", "name": "To Do", "statusCategory": {"key": "new"}},
        "reporter": ALICE,
        "created": created,
        "project": {"key": key.rpartition("-")[0], "name": "Data platform"},
        "issuelinks": links or [],
    }
    if parent is not None:
        fields["parent"] = {"key": parent}
    return {
        "id": key.rpartition("-")[2] + "00",
        "key": key,
        "fields": fields,
        "changelog": {"histories": histories or []},
    }


def blocks(direction: str, other: str) -> dict[str, Any]:
    kind = {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"}
    return {"type": kind, f"{direction}Issue": {"key": other}}


def page(*issues: dict[str, Any]) -> dict[str, Any]:
    return {"startAt": 0, "maxResults": 50, "total": len(issues), "issues": list(issues)}


def test_a_blocks_link_that_would_close_a_cycle_is_left_out_and_reported() -> None:
    export = page(
        jira_issue("DP-1", "2024-05-01T09:00:00.000+0000", links=[blocks("outward", "DP-2")]),
        jira_issue("DP-2", "2024-05-02T09:00:00.000+0000", links=[blocks("outward", "DP-1")]),
    )

    conversion = convert(export)

    dependencies = [line for line in conversion.lines if line["command"].endswith("dependencies")]
    assert len(dependencies) == 1
    assert any("would close a cycle" in skipped for skipped in conversion.report.skipped)
    Simulation().run(conversion.lines)


def test_a_parent_created_after_its_sub_issue_is_set_once_it_exists() -> None:
    export = page(
        jira_issue("DP-1", "2024-05-03T09:00:00.000+0000"),
        jira_issue("DP-2", "2024-05-01T09:00:00.000+0000", parent="DP-1"),
    )

    conversion = convert(export)

    child = conversion.issue_ids["DP-2"]
    edits = [line for line in conversion.lines if line["command"] == f"PATCH /v1/issues/{child}"]
    assert [(e["occurred_at"], e["body"]) for e in edits] == [
        ("2024-05-03T09:00:00+00:00", {"parent_id": str(conversion.issue_ids["DP-1"])})
    ]
    simulated = Simulation().run(conversion.lines)
    assert simulated.issues[child].parent_id == conversion.issue_ids["DP-1"]


@pytest.mark.parametrize(
    ("jira_key", "key"),
    [("DATA_ENG", "DATAENG"), ("PLATFORMTEAM1", "PLATFORMTE"), ("X_", "XX"), ("9LIVES", "LIVES")],
)
def test_a_project_key_workledger_does_not_accept_becomes_the_nearest_it_does(
    jira_key: str, key: str
) -> None:
    conversion = convert(page(jira_issue(f"{jira_key}-1", "2024-05-01T09:00:00.000+0000")))

    project = next(line for line in conversion.lines if line["command"] == "POST /v1/projects")
    assert project["body"]["key"] == key
    assert conversion.report.project_keys == {jira_key: key}


def test_a_user_a_changelog_names_only_by_account_id_is_created_under_their_display_name() -> None:
    assigned = {
        "id": "1",
        "created": "2024-05-01T10:00:00.000+0000",
        "author": ALICE,
        "items": [{"field": "assignee", "to": "b-2", "toString": "Bruno Silva"}],
    }
    taken_back = {
        "id": "2",
        "created": "2024-05-02T10:00:00.000+0000",
        "author": ALICE,
        "items": [{"field": "assignee", "from": "b-2", "to": "a-1", "toString": "Alice"}],
    }
    export = jira_issue("DP-1", "2024-05-01T09:00:00.000+0000", histories=[assigned, taken_back])
    export["fields"]["assignee"] = ALICE
    conversion = convert(page(export))

    created = [line for line in conversion.lines if line["command"] == "POST /v1/members"]

    assert [line["body"]["name"] for line in created] == ["Alice", "Bruno Silva"]
    assert created[1]["body"]["email"] == "b-2@users.jira.invalid"
    Simulation().run(conversion.lines)


def test_a_project_nobody_reported_in_needs_an_owner_email() -> None:
    anonymous = jira_issue("DP-1", "2024-05-01T09:00:00.000+0000")
    del anonymous["fields"]["reporter"]

    with pytest.raises(JiraExportError, match="owner_email"):
        convert(page(anonymous))


def test_adf_lists_tables_quotes_and_cards_read_as_plain_text() -> None:
    def text(value: str) -> dict[str, Any]:
        return {"type": "text", "text": value}

    def paragraph(*content: dict[str, Any]) -> dict[str, Any]:
        return {"type": "paragraph", "content": list(content)}

    def item(*content: dict[str, Any]) -> dict[str, Any]:
        return {"type": "listItem", "content": list(content)}

    def cell(value: str) -> dict[str, Any]:
        return {"type": "tableCell", "content": [paragraph(text(value))]}

    nested = {"type": "bulletList", "content": [item(paragraph(text("nested")))]}
    document = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [text("Plan")]},
            {
                "type": "orderedList",
                "attrs": {"order": 3},
                "content": [item(paragraph(text("first")), nested), item(paragraph(text("then")))],
            },
            {"type": "blockquote", "content": [paragraph(text("quoted"), {"type": "hardBreak"})]},
            {
                "type": "table",
                "content": [
                    {"type": "tableRow", "content": [cell("a"), cell("b")]},
                    {"type": "tableRow", "content": [cell("1"), cell("2")]},
                ],
            },
            paragraph({"type": "inlineCard", "attrs": {"url": "https://example.com/runbook"}}),
            {"type": "rule"},
            {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "m-1"}}]},
        ],
    }

    assert adf_text(document, "description") == (
        "Plan\n\n3. first\n   - nested\n4. then\n\n> quoted\n\na | b\n1 | 2\n\n"
        "https://example.com/runbook\n\n---\n\n[attachment]"
    )
