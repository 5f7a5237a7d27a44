"""The hash chain: what an entry's hash covers, and the walk that verifies every link.

Each entry carries the SHA-256 of its content and of the previous entry's hash (see
``contracts.views.history`` for the exact encoding). ``verify_chain`` recomputes them all, and
the time index that time-bounded pages rely on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson

from contracts.views.history import GENESIS_HASH, ChainBroken, ChainIntact, ChainVerdict
from services.projections.readmodel import from_micros
from services.projections.views.history.tables import ENTRY_COLUMNS

# Verification reads this many entries per query: large enough to be quick, small enough to
# keep memory flat on a chain of millions.
VERIFY_PAGE = 5000


@lru_cache(maxsize=4096)
def iso_time(moment: int) -> str:
    """A stored time (microseconds) as the entry states it: exact, in UTC.

    Remembered, because the events of one command, and of one group commit, share their times.
    """
    return from_micros(moment).isoformat()


def entry_content(row: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as the API answers it, without its ``hash``: exactly what the hash covers."""
    return {
        "position": row["position"],
        "event_id": row["event_id"],
        "occurred_at": iso_time(row["occurred"]),
        "recorded_at": iso_time(row["recorded"]),
        "actor": row["actor"],
        "object_kind": row["object_kind"],
        "object_id": row["object_id"],
        "event_type": row["event_type"],
        "team_id": row["team_id"],
        "correlation_id": row["correlation_id"],
        "causation_id": row["causation_id"],
        "data": orjson.loads(row["data"]),
        "changes": orjson.loads(row["changes"]),
        "previous_hash": row["previous_hash"],
    }


def entry_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an entry's content (sorted keys, no whitespace)."""
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def verify_chain(
    fetch: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]], table: str, last_position: int
) -> ChainVerdict:
    """Walks the chain up to ``last_position`` in pages, recomputing every hash and link, and
    the time index that time-bounded pages rely on."""
    previous_hash = GENESIS_HASH
    previous_position = 0
    latest: int | None = None
    count = 0
    while True:
        page = fetch(
            f"SELECT {', '.join(ENTRY_COLUMNS)} FROM {table} "
            "WHERE position > %s AND position <= %s ORDER BY position LIMIT %s",
            (previous_position, last_position, VERIFY_PAGE),
        )
        for values in page:
            row = dict(zip(ENTRY_COLUMNS, values, strict=True))
            position: int = row["position"]
            if entry_hash(entry_content(row)) != row["hash"]:
                return ChainBroken(
                    valid=False,
                    first_bad_position=position,
                    reason="the entry's hash does not match its content",
                )
            if row["previous_hash"] != previous_hash:
                return ChainBroken(
                    valid=False,
                    first_bad_position=position,
                    reason=f"the entry does not chain to the entry before it "
                    f"(position {previous_position}): an entry was changed, removed or added",
                )
            occurred: int = row["occurred"]
            expected_max = occurred if latest is None else max(latest, occurred)
            expected_late = latest is not None and occurred < latest
            if (row["occurred_max"], bool(row["out_of_order"])) != (expected_max, expected_late):
                return ChainBroken(
                    valid=False,
                    first_bad_position=position,
                    reason="the entry's time index does not follow from the entries before it, "
                    "so time-bounded pages could miss entries",
                )
            previous_hash = row["hash"]
            previous_position = position
            latest = expected_max
            count += 1
        if len(page) < VERIFY_PAGE:
            break
    if previous_position != last_position:
        return ChainBroken(
            valid=False,
            first_bad_position=last_position,
            reason=f"the chain ends at position {previous_position}, but the history has "
            f"applied every event up to {last_position}: entries are missing",
        )
    return ChainIntact(valid=True, entries=count, last_hash=previous_hash)
