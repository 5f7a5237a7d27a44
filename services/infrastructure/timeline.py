"""The log in the order its facts occurred, rather than the order they were recorded in.

Live commands stamp their events with the time their batch commits, under the log's lock, so in
position order their occurred times never go back. Imported history brings its own times, which
lie in the past of events already recorded; those events' times are kept beside the log
(``workledger_event_times``). The facts in occurred order are then two sorted sequences merged:
the stamped events in position order, and the imported ones in the order of their times, with
the position breaking ties in both, as a store that had recorded every fact live in the order it
occurred would have numbered them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence

from services.infrastructure.codec import RecordedEvent
from services.infrastructure.store import EventStore, micros


def _stamped(
    store: EventStore, types: Sequence[str], until: int, page_size: int
) -> Iterator[tuple[int, int, RecordedEvent]]:
    decode = store.codec.decode
    after = 0
    while True:
        rows = store.backend.select_log(after, page_size, types, until, stamped_only=True)
        if not rows:
            return
        for row in rows:
            event = decode(row.position, row.stream_id, row.version, row.state)
            yield micros(event.metadata.occurred_at), row.position, event
        after = rows[-1].position


def _given(
    store: EventStore, types: Sequence[str], until: int, page_size: int
) -> Iterator[tuple[int, int, RecordedEvent]]:
    decode = store.codec.decode
    after = (-(2**63), 0)
    while True:
        rows = store.backend.select_given_times(after, page_size, types, until)
        if not rows:
            return
        for occurred, row in rows:
            yield (
                occurred,
                row.position,
                decode(row.position, row.stream_id, row.version, row.state),
            )
        last_occurred, last_row = rows[-1]
        after = (last_occurred, last_row.position)


def occurred_order(
    store: EventStore, until: int, page_size: int, types: Sequence[str] = ()
) -> Iterator[list[RecordedEvent]]:
    """Pages of the log up to position ``until`` (of ``types`` only, if named), in the order of
    ``(occurred, position)``."""
    merged = heapq.merge(
        _stamped(store, types, until, page_size), _given(store, types, until, page_size)
    )
    page: list[RecordedEvent] = []
    for _, _, event in merged:
        page.append(event)
        if len(page) == page_size:
            yield page
            page = []
    if page:
        yield page


def last_given_time_position(store: EventStore) -> int:
    """The position of the last event recorded with a time of its own (0 if none): it moves
    while an import is writing."""
    rows = store.backend.fetchall("SELECT coalesce(max(position), 0) FROM workledger_event_times")
    return int(rows[0][0])
