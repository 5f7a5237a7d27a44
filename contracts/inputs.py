"""The primitive types every input of the API is read as, strictly, as the OpenAPI document
says: an id is a UUID in its canonical hyphenated form, a date is ``YYYY-MM-DD``, a number is a
JSON number (``"10"`` and ``true`` are not numbers), and a field of a change that may be left out
may not be sent as ``null`` unless it says so.

Each type reads text as a client sends it and the same values built in code (``UUID``, ``date``),
so one model serves both the routes and the code that builds commands itself.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BeforeValidator, Field, Strict, WithJsonSchema

T = TypeVar("T")

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_UUID = re.compile(UUID_PATTERN)
_DATE = re.compile(DATE_PATTERN)


def canonical_uuid(value: Any) -> UUID:
    """``value`` as a ``UUID``, if it is one or is one written in the canonical form
    (``3f0c6a4e-…``: hexadecimal in 8-4-4-4-12 groups); a ``ValueError`` otherwise. The ``urn:``,
    braced and unhyphenated forms ``uuid.UUID`` also reads are refused, so an id has one
    spelling."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, str) and _UUID.fullmatch(value):
        return UUID(value)
    raise ValueError(
        "must be a UUID in its canonical form, such as 3f0c6a4e-9b1d-4c2a-8e5f-0a1b2c3d4e5f"
    )


def calendar_day(value: Any) -> date:
    """``value`` as a ``date``, if it is one or is written ``YYYY-MM-DD``; a ``ValueError``
    otherwise (a time, a week date or a number of seconds is no date)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        return date.fromisoformat(value)
    raise ValueError("must be a date written YYYY-MM-DD, such as 2026-03-01")


def _refuse_null(value: T | None) -> T | None:
    if value is None:
        raise ValueError("can't be null; leave it out to keep it")
    return value


def _without_null(schema: dict[str, Any]) -> None:
    """The field's schema without its ``null`` choice and its ``null`` default: it may be left
    out, but when sent it is a value."""
    choices = schema.pop("anyOf", None)
    if choices is not None:
        kept = [choice for choice in choices if choice.get("type") != "null"]
        if len(kept) == 1:
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    schema.pop("default", None)


Id = Annotated[
    UUID,
    BeforeValidator(canonical_uuid),
    WithJsonSchema({"type": "string", "format": "uuid", "pattern": UUID_PATTERN}),
]
"""An id: a UUID in its canonical form."""

Day = Annotated[
    date,
    BeforeValidator(calendar_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
"""A calendar date, ``YYYY-MM-DD``."""

Number = Annotated[float, Strict()]
"""A JSON number (an integer or not); never a string or a boolean."""

Whole = Annotated[int, Strict()]
"""A JSON integer; never a string, a boolean or a number with a fraction."""

Kept = Annotated[T | None, AfterValidator(_refuse_null), Field(json_schema_extra=_without_null)]
"""A field of a change that may be left out (it is ``None`` then, and the object keeps its
value) but not sent as ``null``: ``Kept[Title]``."""
