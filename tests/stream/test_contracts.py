"""The published contracts: current, complete, matching the domain, and evolving additively."""

from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from contracts.event_data import IssueCommentedV1
from contracts.events import EVENT_CONTRACTS, EventCatalog, downcast
from contracts.generate import ASYNCAPI_FILE, SCHEMAS_DIR, differences
from services.app import Runtime, make_codec
from services.stream.cloudevents import CloudEventMapper, NotPublished, fact_of
from tests.stream.conftest import assert_matches_its_schema
from tests.stream.workload import record_every_kind_of_event

CONTRACTS_DIR = Path(__file__).parents[2] / "contracts"


def test_the_checked_in_schemas_are_what_the_code_generates() -> None:
    problems = differences()
    assert not problems, (
        "contracts/schemas/ is out of date; run `make contracts` and commit the result:\n"
        + "\n".join(problems)
    )


def test_the_contracts_import_neither_the_domain_nor_the_services() -> None:
    for path in sorted(CONTRACTS_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] not in ("domain", "services"), f"{path} imports {name}"


@pytest.mark.parametrize(
    ("kind", "type_name", "fact"),
    [
        ("issue", "IssueAssigned", "assigned"),
        ("issue", "IssueDependencyAdded", "dependency_added"),
        ("team", "TeamMemberAdded", "member_added"),
        ("team", "WorkingAgreementUpdated", "working_agreement_updated"),
        ("project", "MilestoneAdded", "milestone_added"),
        ("goal", "KeyResultCheckedIn", "key_result_checked_in"),
        ("member", "MemberRegistered", "registered"),
    ],
)
def test_a_fact_is_the_event_name_without_its_object_in_snake_case(
    kind: str, type_name: str, fact: str
) -> None:
    assert fact_of(kind, type_name) == fact


def test_every_domain_event_is_published_in_its_current_version() -> None:
    mapper = CloudEventMapper(make_codec())
    assert mapper.published("IssueAssigned").contract.type == "workledger.issue.assigned.v1"
    assert mapper.published("IssueCommented").contract.type == "workledger.issue.commented.v2"
    assert mapper.published("OccurrenceSkipped").contract.type == (
        "workledger.operation.occurrence_skipped.v1"
    )


def _shape(schema: Any, definitions: dict[str, Any]) -> Any:
    """A JSON Schema reduced to what the wire carries: names and types, refs inlined."""
    if isinstance(schema, list):
        return [_shape(item, definitions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return _shape(definitions[schema["$ref"].rsplit("/", 1)[1]], definitions)
    ignored = {"title", "description", "default", "required", "$defs", "properties"}
    shape = {key: _shape(value, definitions) for key, value in schema.items() if key not in ignored}
    if "properties" in schema:
        shape["properties"] = {
            name: _shape(field, definitions) for name, field in schema["properties"].items()
        }
    return shape


def _wire_shape(schema: dict[str, Any]) -> Any:
    return _shape(schema, schema.get("$defs", {}))


def test_each_contract_has_exactly_the_fields_of_its_domain_event() -> None:
    codec = make_codec()
    mapper = CloudEventMapper(codec)
    for event_type in codec.event_types:
        contract = mapper.published(event_type.name).contract
        domain = TypeAdapter(event_type.cls).json_schema()
        published = contract.data.model_json_schema()
        assert _wire_shape(published) == _wire_shape(domain), (
            f"{event_type.name} and {contract.type} differ: change the contract, with a new "
            "version if its shape changed"
        )
        assert set(published.get("required", [])) == set(published["properties"]), (
            f"{contract.type}: every published field is always present"
        )


def test_an_event_without_a_contract_cannot_be_published() -> None:
    catalog = EventCatalog(tuple(c for c in EVENT_CONTRACTS if c.fact != "assigned"))
    with pytest.raises(NotPublished, match="IssueAssigned"):
        CloudEventMapper(make_codec(), catalog)


def test_a_later_version_only_adds_fields() -> None:
    catalog = EventCatalog()
    for family in {contract.family for contract in catalog.contracts}:
        versions = catalog.versions(family)
        for earlier, later in itertools.pairwise(versions):
            earlier_fields = _wire_shape(earlier.data.model_json_schema())["properties"]
            later_fields = _wire_shape(later.data.model_json_schema())["properties"]
            for name, shape in earlier_fields.items():
                assert later_fields.get(name) == shape, f"{later.type} changed {name}"
            assert len(later_fields) > len(earlier_fields)


def test_a_reader_of_version_1_parses_version_2_and_a_downcast_is_version_1() -> None:
    v2 = {
        "comment_id": "8c7e0c5e-8d5e-4f5c-9b1d-0b6f1d7a1e11",
        "author": "member:ada",
        "body": "Agreed",
        "reply_to": "1d3f0c5e-8d5e-4f5c-9b1d-0b6f1d7a1e22",
    }
    parsed = IssueCommentedV1.model_validate(v2)
    assert parsed.body == "Agreed"
    v1 = EventCatalog().get("workledger.issue.commented.v1")
    assert downcast(v2, v1) == {k: v2[k] for k in ("comment_id", "author", "body")}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_event_the_domain_records_matches_its_published_schema(runtime: Runtime) -> None:
    record_every_kind_of_event(runtime)
    mapper = CloudEventMapper(runtime.store.codec)
    catalog = mapper.catalog
    published_types = set()
    for event in runtime.store.read(0, 1000):
        contract = mapper.published(event.type).contract
        document = json.loads(mapper.to_json(event))
        assert_matches_its_schema(document)
        assert set(document["data"]) == set(contract.data.model_fields)
        assert document["subject"] == f"{mapper.published(event.type).kind}/{event.stream_id}"
        assert int(document["sequence"]) == event.position
        published_types.add(document["type"])
        for earlier in catalog.versions(contract.family)[:-1]:
            shown = json.loads(mapper.to_json(event, earlier))
            assert_matches_its_schema(shown)
            assert shown["data"] == {
                name: document["data"][name] for name in earlier.data.model_fields
            }
            assert shown["type"] == earlier.type
    latest = {c.type for c in catalog.contracts if catalog.is_latest(c)}
    assert published_types == latest


def test_the_asyncapi_document_names_every_event_and_each_schema_it_points_to_exists() -> None:
    document = json.loads((SCHEMAS_DIR / ASYNCAPI_FILE).read_text(encoding="utf-8"))
    assert document["asyncapi"] == "3.0.0"
    catalog = EventCatalog()
    messages = document["components"]["messages"]
    for message in messages.values():
        reference = message["payload"]["schema"]["$ref"]
        assert (SCHEMAS_DIR / reference.removeprefix("./")).exists(), reference
    kafka = document["channels"]["events"]["messages"]
    sse = document["channels"]["eventStream"]["messages"]
    assert {messages[m["$ref"].rsplit("/", 1)[1]]["name"] for m in kafka.values()} == {
        c.type for c in catalog.contracts if catalog.is_latest(c)
    }
    assert {messages[m["$ref"].rsplit("/", 1)[1]]["name"] for m in sse.values()} == {
        c.type for c in catalog.contracts
    }
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"].rsplit("/", 1)[1]
        for reference in operation["messages"]:
            assert reference["$ref"].rsplit("/", 1)[1] in document["channels"][channel]["messages"]
