"""New ids: random (version 4) UUIDs from the operating system's secure generator, drawn in batches.

``uuid.uuid4()`` asks the kernel for 16 bytes on every call, and CPython lets go of the
interpreter lock for that system call. In a process where request threads, the group committer
and projection workers share the lock, every id then means taking the lock back in turn, at
times only after another thread's switch interval: a command makes three or four ids
(correlation, causation, each event's, a created object's). Drawing the same random bytes
256 ids at a time leaves the lock alone for all but one of them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from uuid import UUID

_IDS_PER_DRAW = 256
_ID_BYTES = 16
# The version (4) and variant (RFC 4122) bits every random UUID carries.
_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)


class _IdSource:
    """Random UUIDs, from one batch of random bytes after another (shared by all threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batch = b""
        self._offset = 0

    def next(self) -> UUID:
        with self._lock:
            offset = self._offset
            if offset == len(self._batch):
                self._batch = os.urandom(_IDS_PER_DRAW * _ID_BYTES)
                offset = 0
            self._offset = offset + _ID_BYTES
            drawn = self._batch[offset : offset + _ID_BYTES]
        return UUID(int=int.from_bytes(drawn) & _VERSION_MASK | _VERSION_BITS)

    def forget(self) -> None:
        """Drops the bytes not yet used: a forked child must never hand out its parent's ids."""
        self._lock = threading.Lock()
        self._batch = b""
        self._offset = 0


_source = _IdSource()
os.register_at_fork(after_in_child=_source.forget)


# An id chosen for the next object made here (imported history names its objects' ids).
_chosen: ContextVar[list[UUID] | None] = ContextVar("workledger_chosen_id", default=None)


def new_id() -> UUID:
    """A new random (version 4) UUID, or the id ``choosing`` holds for this call."""
    chosen = _chosen.get()
    if chosen:
        return chosen.pop()
    return _source.next()


@contextmanager
def choosing(chosen: UUID | None) -> Iterator[list[UUID]]:
    """Within the block, the first ``new_id()`` answers ``chosen`` (if given). The list it
    yields is empty once the id was taken, so a caller can tell whether anything took it."""
    held = [chosen] if chosen is not None else []
    token = _chosen.set(held)
    try:
        yield held
    finally:
        _chosen.reset(token)
