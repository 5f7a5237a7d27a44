"""What a query parameter of the API may hold, read as strictly as the OpenAPI document says.

A query parameter arrives as text. A whole number is written in digits (not ``1.0``, ``+1`` or
``1_0``), a truth value is ``true`` or ``false``, an id is a UUID in its canonical form
(``contracts.inputs.Id``), and a time is an ISO 8601 date and time within the years the views can
answer for: every view judges "this week", "overdue" or a forecast some years either side of
the moment asked about, and a calendar ends at the year 9999.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import Query
from pydantic import BeforeValidator

from services.infrastructure.http import ProblemError

# The times a query may ask about or an import may bring: far beyond any work's history, and far
# enough inside the calendar for every view's arithmetic around them.
EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(9000, 1, 1, tzinfo=UTC)
MAX_TIME_LENGTH = 40
TIME_DESCRIPTION = (
    "an ISO 8601 date and time, such as 2026-03-01T12:00:00Z (UTC when it names no zone), "
    f"from {EARLIEST_TIME.year} up to {LATEST_TIME.year}"
)
# RFC 3339's date and time, its zone optional: the forms clients write, and no others (Python
# also reads week dates, ordinal dates and bare dates as times).
_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_DIGITS = re.compile(r"[0-9]{1,19}")


def moment_of(value: str) -> datetime:
    """The moment ``value`` names, with the zone it names (or none); a ``ValueError`` saying
    what is wrong when it is not a time this API takes (see ``TIME_DESCRIPTION``)."""
    if len(value) > MAX_TIME_LENGTH or not _TIME.fullmatch(value):
        raise ValueError(f"must be {TIME_DESCRIPTION}")
    try:
        moment = datetime.fromisoformat(value)
        utc = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"must be {TIME_DESCRIPTION}") from None
    if not EARLIEST_TIME <= utc < LATEST_TIME:
        raise ValueError(f"must lie from {EARLIEST_TIME.year} up to {LATEST_TIME.year} (UTC)")
    return moment


def parse_time(value: str, field: str) -> datetime:
    """The moment ``value`` names (in UTC when it names no zone); a ``422`` naming ``field``
    when it is not a time this API takes."""
    try:
        moment = moment_of(value)
    except ValueError as error:
        raise ProblemError(
            422,
            "validation_error",
            f"{field} {error}",
            errors=[{"field": field, "message": str(error)}],
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def time_query(description: str) -> Any:
    """A query parameter that is a time, read by ``parse_time``: ``description`` names what
    it is a time of."""
    return Query(
        max_length=MAX_TIME_LENGTH,
        description=f"{description}: {TIME_DESCRIPTION}.",
        json_schema_extra={"format": "date-time"},
    )


def _whole_number(value: Any) -> Any:
    if isinstance(value, str):
        if _DIGITS.fullmatch(value):
            return int(value)
        raise ValueError("must be a whole number written in digits, such as 10")
    return value


def _true_or_false(value: Any) -> Any:
    if isinstance(value, str):
        if value in ("true", "false"):
            return value == "true"
        raise ValueError("must be true or false")
    return value


# Each follows the ``Query(...)`` in a parameter's ``Annotated`` (``Annotated[int, Query(ge=1),
# DIGITS]``): FastAPI documents the query's bounds only when they come before it.
DIGITS = BeforeValidator(_whole_number)
"""A query parameter that is a whole number is written in digits."""

TRUE_OR_FALSE = BeforeValidator(_true_or_false)
"""A query parameter that is a truth value is ``true`` or ``false``."""
