"""The OpenAPI document is as strict as the server: a parameter is never "any string", and a field
is nullable in the document exactly when the server takes ``null`` for it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import Headers, unknown_id


def _document(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def _choices(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema's alternatives other than ``null``, each with the keywords beside them."""
    shared = {key: value for key, value in schema.items() if key != "anyOf"}
    options = [choice for choice in schema.get("anyOf", [schema]) if choice.get("type") != "null"]
    return [{**shared, **choice} for choice in options]


def _constrained(schema: dict[str, Any]) -> bool:
    match schema.get("type"):
        case "string":
            return any(key in schema for key in ("format", "pattern", "enum", "maxLength"))
        case "integer":
            return "minimum" in schema and "maximum" in schema
        case "array":
            return _constrained(schema.get("items", {}))
        case _:
            return "type" in schema or "enum" in schema or "const" in schema


def test_every_query_and_header_parameter_has_its_real_schema(client: TestClient) -> None:
    loose = [
        f"{method.upper()} {path} {parameter['in']} {parameter['name']}: {parameter['schema']}"
        for path, item in _document(client)["paths"].items()
        for method, operation in item.items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] in ("query", "header", "path")
        for choice in _choices(parameter["schema"])
        if not _constrained(choice)
    ]
    assert loose == []


def test_a_patch_field_is_nullable_in_the_document_exactly_when_the_server_takes_null(
    client: TestClient, admin: Headers
) -> None:
    document = _document(client)
    schemas = document["components"]["schemas"]
    differ: list[str] = []
    for path, item in document["paths"].items():
        if "patch" not in item:
            continue
        reference = item["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        properties = schemas[reference.rsplit("/", 1)[-1]]["properties"]
        url = path.split("{", 1)[0] + unknown_id()
        for field, schema in properties.items():
            nullable = any(choice.get("type") == "null" for choice in schema.get("anyOf", []))
            # Checked before the object is looked up: a null taken is a 404 for no such object.
            status = client.patch(url, json={field: None}, headers=admin).status_code
            if (status == 404) != nullable:
                differ.append(f"PATCH {path} {field}: nullable={nullable}, answered {status}")
    assert differ == []
