"""Stored envelopes and back: every event type, older schema versions, unknown and damaged ones.

The codec decodes a current envelope in one validating pass over its JSON, and anything else
(an older schema version to upcast, an unknown type, damage) on a careful path. Both must agree
on every event the domain can record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar
from uuid import UUID, uuid4

import orjson
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.catalog import EVENT_CLASSES
from domain.issue import IssueCommented
from services.app import make_codec
from services.infrastructure.codec import EventCodec, EventMetadata, UnknownEventType, event_data

CODEC = make_codec()
RECORDED_AT = datetime(2026, 3, 1, 9, 30, 0, 250_000, tzinfo=UTC)


def _metadata(occurred_at: datetime) -> EventMetadata:
    return EventMetadata(uuid4(), "member-7", occurred_at, uuid4(), uuid4())


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    return True


def _any_event() -> st.SearchStrategy[Any]:
    return st.one_of(*(st.from_type(cls) for cls in EVENT_CLASSES))


@settings(max_examples=300, deadline=None)
@given(
    event=_any_event(),
    occurred_at=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))]),
    ),
)
def test_every_event_type_round_trips_and_both_decoding_paths_agree(
    event: Any, occurred_at: datetime
) -> None:
    # Commands admit finite numbers only (JSON has no others), so no log holds any other.
    assume(_finite(event_data(event)))
    metadata = _metadata(occurred_at)
    stream_id = uuid4()
    try:
        state = CODEC.encode(event, metadata, RECORDED_AT)
    except TypeError:
        # Beyond what JSON stores exactly (integers past 64 bits): refused on write, so never
        # in a log.
        assume(False)

    fast = CODEC.decode(41, str(stream_id), 3, state)
    careful = CODEC._decode_carefully(41, stream_id, 3, state)

    assert fast == careful
    assert fast.data == event
    assert fast.metadata == metadata
    assert fast.metadata.occurred_at.utcoffset() == occurred_at.utcoffset()
    assert fast.recorded_at == RECORDED_AT
    assert fast.stream_id == stream_id
    assert fast.stream_id_text == str(stream_id)
    assert fast.payload == careful.payload == orjson.loads(orjson.dumps(event_data(event)))


def _envelope(**changes: Any) -> dict[str, Any]:
    event = IssueCommented(uuid4(), "member-7", "Looks right.", None)
    envelope: dict[str, Any] = orjson.loads(
        CODEC.encode(event, _metadata(RECORDED_AT), RECORDED_AT)
    )
    return envelope | changes


def test_an_event_of_an_older_schema_version_is_upcast_on_read() -> None:
    envelope = _envelope(schema_version=1)
    del envelope["data"]["reply_to"]

    recorded = CODEC.decode(5, str(uuid4()), 1, orjson.dumps(envelope))

    assert recorded.schema_version == 2
    assert recorded.data.reply_to is None
    assert recorded.payload["reply_to"] is None


def test_an_envelope_without_a_schema_version_is_of_the_first() -> None:
    envelope = _envelope()
    del envelope["schema_version"], envelope["data"]["reply_to"]

    recorded = CODEC.decode(5, str(uuid4()), 1, orjson.dumps(envelope))

    assert recorded.schema_version == 2
    assert recorded.data.reply_to is None


def test_an_unknown_event_type_is_refused_by_name() -> None:
    with pytest.raises(UnknownEventType, match="IssueTeleported"):
        CODEC.decode(5, str(uuid4()), 1, orjson.dumps(_envelope(type="IssueTeleported")))


@pytest.mark.parametrize(
    "damage",
    [
        {"data": {"comment_id": "not a uuid", "author": "a", "body": "b", "reply_to": None}},
        {"data": {"author": "a", "body": "b", "reply_to": None}},
        {"occurred_at": "yesterday"},
    ],
    ids=["bad field", "missing field", "bad time"],
)
def test_a_damaged_envelope_is_an_error_never_a_guess(damage: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"[Vv]alid"):
        CODEC.decode(5, str(uuid4()), 1, orjson.dumps(_envelope(**damage)))


def test_a_stream_id_given_as_a_uuid_or_as_text_reads_the_same() -> None:
    state = orjson.dumps(_envelope())
    stream_id = UUID("2f1b7c8e-4d0a-4a57-9a8e-0c3f2b1d5e66")

    as_uuid = CODEC.decode(5, stream_id, 1, state)
    as_text = CODEC.decode(5, str(stream_id), 1, state)

    assert as_uuid == as_text
    assert hash(as_uuid) == hash(as_text)


def test_an_event_class_at_a_later_schema_version_needs_an_upcaster_from_each_older_one() -> None:
    @dataclass(frozen=True)
    class Renamed:
        name: str
        SCHEMA_VERSION: ClassVar[int] = 3
        UPCASTERS: ClassVar[dict[int, Any]] = {2: lambda data: data}

    with pytest.raises(ValueError, match=r"no upcaster from \[1\]"):
        EventCodec([Renamed])


def test_an_event_class_declares_its_versions_and_its_stored_older_data_is_upcast() -> None:
    @dataclass(frozen=True)
    class Renamed:
        name: str
        reason: str
        SCHEMA_VERSION: ClassVar[int] = 2
        UPCASTERS: ClassVar[dict[int, Any]] = {1: lambda data: {**data, "reason": "unknown"}}

    codec = EventCodec([Renamed])
    stored = orjson.dumps(
        {
            "id": str(uuid4()),
            "type": "Renamed",
            "schema_version": 1,
            "actor": "system",
            "occurred_at": "2026-03-02T09:00:00+00:00",
            "recorded_at": "2026-03-02T09:00:00+00:00",
            "correlation_id": str(uuid4()),
            "causation_id": str(uuid4()),
            "data": {"name": "Payments"},
        }
    )

    recorded = codec.decode(1, uuid4(), 1, stored)

    assert recorded.data == Renamed("Payments", "unknown")
    assert recorded.schema_version == 2
