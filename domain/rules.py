"""Small checks shared by every aggregate."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from uuid import UUID

from domain.errors import InvalidInput


def require_text(value: str, field: str) -> str:
    """A name or title: surrounding spaces are dropped, and nothing but spaces is refused."""
    text = value.strip()
    if not text:
        raise InvalidInput(f"{field} must not be empty", field=field)
    return text


def require_non_negative(value: float | None, field: str) -> None:
    """A finite number, zero or more (``None`` means "not given" and passes)."""
    if value is not None and not (0 <= value < math.inf):
        raise InvalidInput(f"{field} must be a finite number, zero or more", field=field)


def reachable(start: UUID, edges: Mapping[UUID, Iterable[UUID]]) -> frozenset[UUID]:
    """Every node reachable from ``start`` by following ``edges`` (``start`` itself excluded)."""
    seen: set[UUID] = set()
    frontier = list(edges.get(start, ()))
    while frontier:
        node = frontier.pop()
        if node in seen:
            continue
        seen.add(node)
        frontier.extend(edges.get(node, ()))
    return frozenset(seen)


def walk(start: UUID | None, step: Callable[[UUID], UUID | None], limit: int) -> list[UUID]:
    """Follow a chain of single links (a parent chain) from ``start``, at most ``limit`` steps."""
    chain: list[UUID] = []
    node = start
    while node is not None and len(chain) < limit:
        if node in chain:
            break
        chain.append(node)
        node = step(node)
    return chain
