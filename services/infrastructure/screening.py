"""What the HTTP edge refuses before any route reads a request.

- A NUL character in the path, the query or a header: no route takes one, and PostgreSQL can't
  hold one in text, so one that reached a statement would fail there as if the store were down.
- A header sent more than once that the API reads as one value (two ``Authorization`` headers
  would otherwise let the last one win unseen).
- A JSON body (or a line of an import) that is not JSON as RFC 8259 writes it (UTF-8, no lone
  surrogates, no ``NaN``) or nests deeper than any body of the API: Python's own parser gives up
  around a thousand levels with an error that says nothing of JSON, and orjson's writer at 255.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from starlette.types import Scope

# The deepest a request body of the API nests is three levels (an operation's cadence); this
# leaves room for any future body, and none of a parser's limits is near.
MAX_JSON_DEPTH = 32

# Headers the API reads as one value; a request that repeats one is ambiguous.
SINGLE_HEADERS = (
    b"authorization",
    b"content-length",
    b"content-type",
    b"host",
    b"idempotency-key",
    b"if-match",
    b"import-id",
    b"last-event-id",
    b"x-causation-id",
    b"x-correlation-id",
)
_NUL_IN_QUERY = re.compile(rb"%00|\x00")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


class Refused(Exception):
    """A request the edge answers itself, with a problem document."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors: list[Mapping[str, str]] = (
            [{"field": field, "message": detail}] if field is not None else []
        )


def screen_request(scope: Scope) -> None:
    """Refuses a request with NUL in its path, query or headers, or a repeated single header."""
    path: str = scope.get("path", "")
    if "\x00" in path:
        raise Refused(400, "validation_error", "the path must not contain NUL characters", "path")
    if _NUL_IN_QUERY.search(scope.get("query_string", b"")):
        raise Refused(400, "validation_error", "the query must not contain NUL characters", "query")
    _screen_headers(scope.get("headers", ()))


def _screen_headers(headers: Iterable[tuple[bytes, bytes]]) -> None:
    seen: set[bytes] = set()
    for name, value in headers:
        shown = name.decode("latin-1").title()
        if b"\x00" in value:
            raise Refused(
                400, "validation_error", f"{shown} must not contain NUL characters", shown
            )
        if name in SINGLE_HEADERS:
            if name in seen:
                raise Refused(
                    400, "validation_error", f"send the {shown} header once, not more", shown
                )
            seen.add(name)


def parse_json(document: bytes | str, what: str = "the request body") -> Any:
    """The JSON ``document`` (``what`` it is, for the refusal), refused when it is not JSON as
    RFC 8259 writes it or nests deeper than ``MAX_JSON_DEPTH``."""
    try:
        parsed = orjson.loads(document)
    except orjson.JSONDecodeError as error:
        raise Refused(400, "malformed_json", f"{what} is not valid JSON: {error}") from None
    raw = document.encode() if isinstance(document, str) else document
    # Cheap for every body of the API: fewer brackets than the bound can't nest deeper.
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _depth(raw) > MAX_JSON_DEPTH:
        raise Refused(400, "malformed_json", f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
    return parsed


def _depth(body: bytes) -> int:
    """How deep a valid JSON document nests: its brackets counted outside its strings."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub(b"", body)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest
