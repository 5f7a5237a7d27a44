"""Given/when/then for deciders: given these events, when this command, then these events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import pytest

from domain.errors import DomainError

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

S = TypeVar("S")


class Spec(Generic[S]):
    """One aggregate's decide and evolve, exercised as a specification."""

    def __init__(
        self,
        decide: Callable[[Any, S | None, datetime], Sequence[Any]],
        evolve: Callable[[S | None, Any], S | None],
    ) -> None:
        self._decide = decide
        self._evolve = evolve

    def state(self, *events: Any) -> S | None:
        state: S | None = None
        for event in events:
            state = self._evolve(state, event)
        return state

    def given(self, *events: Any) -> Given[S]:
        return Given(self, events)


class Given(Generic[S]):
    def __init__(self, spec: Spec[S], events: Sequence[Any]) -> None:
        self._spec = spec
        self._events = events

    def when(self, command: Any, now: datetime = NOW) -> list[Any]:
        """The events the command causes; replaying them must not fail."""
        state = self._spec.state(*self._events)
        produced = list(self._spec._decide(command, state, now))
        for event in produced:
            state = self._spec._evolve(state, event)
        return produced

    def rejects(self, command: Any, error: type[DomainError], now: datetime = NOW) -> DomainError:
        """Asserts the command is refused with ``error`` and returns it for further checks."""
        state = self._spec.state(*self._events)
        with pytest.raises(error) as caught:
            self._spec._decide(command, state, now)
        return caught.value
