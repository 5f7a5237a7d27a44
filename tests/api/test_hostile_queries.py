"""Hostile query parameters, class by class, on every query that takes them: times, log
positions, cursors, ids, text filters and limits, on SQLite and PostgreSQL.

Each value is either taken (and answered with the view) or refused with a problem document naming
the parameter; never a 5xx, whatever the value, the view, or the store.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from services.infrastructure.store import Backend
from tests.api.hostile import SENT, Api, held, hostile_api
from tests.conftest import FrozenClock

# Every query of a view, with the ids of an organisation filled in.
VIEWS = [
    "/v1/views/portfolio",
    "/v1/views/workload",
    "/v1/views/workload/{team}",
    "/v1/views/queue/{member}",
    "/v1/views/queue/me",
    "/v1/history",
    "/v1/history/verify",
    "/v1/insights",
    "/v1/insights?scope=team:{team}",
    "/v1/insights?scope=member:{member}",
    "/v1/insights?scope=project:{project}",
    "/v1/insights?scope=goal:{goal}",
    "/v1/summaries",
    "/v1/summaries?scope=team:{team}",
    "/v1/flow",
    "/v1/flow?scope=team:{team}",
    "/v1/flow?scope=project:{project}",
    "/v1/forecasts/{project}",
    "/v1/teams",
    "/v1/teams/{team}",
    "/v1/members",
    "/v1/members/{member}",
    "/v1/goals",
    "/v1/goals/{goal}",
    "/v1/projects",
    "/v1/projects/{project}",
    "/v1/issues",
    "/v1/issues/{issue}",
    "/v1/issues/{issue}/comments",
    "/v1/operations",
    "/v1/operations/{operation}",
]
# Every query that answers a page, and takes `limit` and `cursor`.
LISTS = [
    "/v1/views/portfolio",
    "/v1/views/workload",
    "/v1/views/queue/{member}",
    "/v1/history",
    "/v1/insights",
    "/v1/teams",
    "/v1/members",
    "/v1/goals",
    "/v1/projects",
    "/v1/issues",
    "/v1/issues/{issue}/comments",
    "/v1/operations",
]

# Times at the edges of the years the API answers for, in far zones: each view must answer.
TIMES_TAKEN = [
    "1900-01-01T00:00:00Z",
    "1900-01-01T00:00:00-23:59",
    "1900-01-01 12:00",
    "2026-03-02T09:00:00.123456789+05:30",
    "8999-12-31T23:59:59Z",
    "8999-12-31T00:00:00+23:59",
]
TIMES_REFUSED = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59Z",
    "1899-12-31T23:59:59Z",
    "8999-12-31T23:59:59-00:01",
    "2026-03-01",
    "2026-W09-1",
    "2026-060T00:00:00Z",
    "20260301T000000Z",
    "2026-02-30T00:00:00Z",
    "2026-03-01T24:00:00Z",
    "2026-03-01T00:00:00+24:00",
    "2026-03-01T00:00:00+01:00:30",
    "+02026-03-01T00:00:00Z",
    "\uff12\uff10\uff12\uff16-03-01T00:00:00Z",
    "1772442000",
    "now",
    "",
    "2026-03-01T00:00:00Z" + "0" * 40,
]
POSITIONS_TAKEN = ["0", "1", "9223372036854775807"]
POSITIONS_REFUSED = [
    "-1",
    "9223372036854775808",
    "99999999999999999999999999",
    "1e3",
    "0x10",
    "1_0",
    " 1",
    "+1",
    "1.0",
    "\u0661",
    "²",
    "true",
    "",
]
LIMITS_REFUSED = [
    "0",
    "-1",
    "501",
    "1.5",
    "1e2",
    "true",
    "",
    "9223372036854775808",
    "\uff15",
    "1_0",
]


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


CURSORS_REFUSED = [
    _cursor([2**63]),
    _cursor([2**63, 1]),
    _cursor([1, 2**63]),
    _cursor([-(2**63) - 1, 0]),
    _cursor([2**64, 2**64, 1.5, 2**64, "x"]),
    _cursor(["\x00"]),
    _cursor(["a\x00", "b"]),
    _cursor(["a", "b\x00"]),
    _cursor([1, 1, 1.5, 1, "x\x00"]),
    _cursor([1e308, "x"]),
    _cursor([True, 1]),
    _cursor([None, None]),
    _cursor({"after": 1}),
    _cursor("x"),
    _cursor([[[[[1]]]]]),
    _cursor([1] * 40),
    base64.urlsafe_b64encode(b"\xff\xfe[1]").decode(),
    "AAAA",
    "not a cursor!",
    "%00",
    "=",
    "",
    "A" * 2000,
]
IDS_REFUSED = [
    "urn:uuid:6fe8ac86-f457-4fca-b008-3bf6f57fadc6",
    "{6fe8ac86-f457-4fca-b008-3bf6f57fadc6}",
    "6fe8ac86f4574fcab0083bf6f57fadc6",
    "6fe8ac86-f457-4fca-b008-3bf6f57fadc6-",
    "6fe8ac86-f457-4fca-b008-3bf6f57fadcg",
    "\uff16fe8ac86-f457-4fca-b008-3bf6f57fadc6",
    "1",
    "x" * 2000,
]
IDS_TAKEN = ["00000000-0000-0000-0000-000000000000", "6FE8AC86-F457-4FCA-B008-3BF6F57FADC6"]
TEXTS = [
    "'; DROP TABLE issues; --",
    "%",
    "_",
    "\\",
    "\u202eevil",
    "🙂" * 100,
    "\ufffd",
    "a" * 10_000,
    " ",
]


@pytest.fixture
def api(backend: Backend, clock: FrozenClock, tmp_path: Path) -> Iterator[Api]:
    with hostile_api(backend, clock, tmp_path) as built:
        yield built


@pytest.fixture(scope="module", autouse=True)
def tally() -> Iterator[None]:
    yield
    print(f"\nhostile queries: {sum(SENT.values())} requests so far, by class {dict(SENT)}")


def _get(api: Api, path: str, **params: Any) -> Any:
    url = path.format(**vars(api.org))
    return api.client.get(url, params=params, headers=api.admin)


def _held(api: Api, response: Any, before: int, **expect: Any) -> list[str]:
    return held(response, log=(before, api.last_position()), **expect)


def _every(api: Api, paths: Sequence[str], name: str, values: Sequence[str], **expect: Any) -> None:
    before = api.last_position()
    found: list[str] = []
    for path in paths:
        for value in values:
            found += _held(api, _get(api, path, **{name: value}), before, **expect)
    assert found == []


def test_a_time_is_taken_from_1900_to_9000_in_any_zone_and_refused_otherwise(api: Api) -> None:
    _every(api, VIEWS, "as_of", TIMES_TAKEN, allowed=(200, 404))
    _every(api, VIEWS, "as_of", TIMES_REFUSED, allowed=(422,), code="validation_error")
    for path in ("/v1/history", "/v1/summaries", "/v1/summaries?scope=team:{team}"):
        for name in ("since", "until"):
            # A summary's period must also end by the moment the view describes.
            _every(api, [path], name, TIMES_TAKEN, allowed=(200, 422))
            _every(api, [path], name, TIMES_REFUSED, allowed=(422,), code="validation_error")


def test_a_log_position_is_a_whole_number_within_64_bits(api: Api) -> None:
    _every(api, VIEWS, "min_position", POSITIONS_TAKEN, allowed=(200, 404, 409))
    _every(api, VIEWS, "min_position", POSITIONS_REFUSED, allowed=(422,), code="validation_error")
    _every(api, ["/v1/events"], "after", POSITIONS_TAKEN, allowed=(200,))
    refused = {"allowed": (422,), "code": "validation_error"}
    _every(api, ["/v1/events", "/v1/events/stream"], "after", POSITIONS_REFUSED, **refused)
    _every(api, ["/v1/events"], "cursor", POSITIONS_REFUSED, **refused)
    found: list[str] = []
    # A header is ASCII, read with its surrounding spaces stripped: " 1" would start a stream.
    for value in (
        value for value in POSITIONS_REFUSED if value.isascii() and value.strip() == value
    ):
        response = api.client.get(
            "/v1/events/stream", headers={**api.admin, "Last-Event-ID": value}
        )
        found += held(response, allowed=(422,), code="validation_error")
    assert found == []


def test_a_cursor_not_given_out_by_the_api_is_refused(api: Api) -> None:
    _every(api, LISTS, "cursor", CURSORS_REFUSED, allowed=(400, 422), code="validation_error")


def test_an_id_is_a_uuid_in_its_canonical_form(api: Api) -> None:
    details = [path for path in VIEWS if path.count("{") == 1 and "?" not in path]
    found: list[str] = []
    before = api.last_position()
    for path in details:
        for value in [*IDS_REFUSED, *IDS_TAKEN]:
            url = path.replace(path[path.index("{") : path.index("}") + 1], value)
            expected = (404, 200) if value in IDS_TAKEN else (422, 404)
            response = api.client.get(url, headers=api.admin)
            found += _held(api, response, before, allowed=expected)
    filters = [
        ("/v1/issues", "team_id"),
        ("/v1/issues", "assignee_id"),
        ("/v1/issues", "parent_id"),
        ("/v1/goals", "owner_id"),
        ("/v1/history", "object_id"),
        ("/v1/history", "team_id"),
        ("/v1/events", "object_id"),
        ("/v1/views/portfolio", "team_id"),
    ]
    for path, name in filters:
        found += [
            *(
                fault
                for value in IDS_REFUSED
                for fault in held(_get(api, path, **{name: value}), allowed=(422,))
            ),
            *(
                fault
                for value in IDS_TAKEN
                for fault in held(_get(api, path, **{name: value}), allowed=(200,))
            ),
        ]
    for scoped in ("/v1/insights", "/v1/summaries", "/v1/flow"):
        for value in IDS_REFUSED:
            response = _get(api, scoped, scope=f"team:{value}")
            found += held(response, allowed=(422,), code="validation_error")
    assert found == []


def test_text_filters_take_any_text_but_nul(api: Api) -> None:
    filters = [
        ("/v1/issues", "label"),
        ("/v1/history", "actor_id"),
        ("/v1/insights", "scope"),
        ("/v1/summaries", "scope"),
        ("/v1/flow", "scope"),
        ("/v1/insights", "kind"),
        ("/v1/insights", "severity"),
        ("/v1/events", "type"),
        ("/v1/issues", "status"),
        ("/v1/members", "role"),
        ("/v1/summaries", "format"),
    ]
    for path, name in filters:
        _every(api, [path], name, TEXTS, allowed=(200, 422))
        _every(api, [path], name, ["a\x00b", "\x00"], allowed=(400,), code="validation_error")


def test_a_limit_is_a_whole_number_from_1_to_500(api: Api) -> None:
    _every(api, LISTS, "limit", ["1", "500"], allowed=(200, 404))
    _every(api, LISTS, "limit", LIMITS_REFUSED, allowed=(422,), code="validation_error")
    _every(api, ["/v1/events"], "limit", ["0", "-1", "1.5", "1e2", ""], allowed=(422,))
    weeks = ["0", "53", "1.5", "-1", "9223372036854775808"]
    _every(api, ["/v1/views/portfolio"], "throughput_weeks", weeks, allowed=(422,))
    _every(api, ["/v1/forecasts/{project}"], "sample_weeks", weeks, allowed=(422,))
    for path, name in (("/v1/issues", "blocked"), ("/v1/members", "active")):
        _every(api, [path], name, ["1", "yes", "True"], allowed=(422,))
    _every(api, ["/v1/history"], "newest_first", ["1", "on", ""], allowed=(422,))
