"""The streams a command reads: a stream's state as loaded, the cache of recent ones, and what
loads a stream's events."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from cachetools import LRUCache

from services.infrastructure.store import LoadedEvent

S = TypeVar("S")


@dataclass
class Loaded(Generic[S]):
    state: S | None
    version: int
    position: int


class StreamCache:
    """Recently used stream states, so a command reads only events newer than it knows.

    The least recently used are forgotten first (``cachetools``); a state never replaces a newer
    one of the same stream, which a slower writer of an older state would otherwise do."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._entries: LRUCache[tuple[str, UUID], Loaded[Any]] = LRUCache(capacity)
        self._lock = threading.Lock()

    def get(self, kind: str, stream_id: UUID) -> Loaded[Any] | None:
        with self._lock:
            return self._entries.get((kind, stream_id))

    def put(self, kind: str, stream_id: UUID, loaded: Loaded[Any]) -> None:
        with self._lock:
            current = self._entries.get((kind, stream_id))
            if current is not None and current.version > loaded.version:
                return
            self._entries[(kind, stream_id)] = loaded


class StreamReader(Protocol):
    def load(self, stream_id: UUID, after_version: int = 0) -> Sequence[LoadedEvent]: ...
