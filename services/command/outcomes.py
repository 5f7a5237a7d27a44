"""What a command answers when it is accepted, and the ways it fails that are no domain rule's:
a stale ``If-Match``, writers that kept winning the race, a reused idempotency key, a unique
value taken."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.infrastructure.store import Claim


@dataclass(frozen=True)
class Accepted:
    status: int
    body: dict[str, Any]
    replayed: bool = False

    @property
    def version(self) -> int:
        return int(self.body["version"])


class PreconditionFailed(Exception):
    """``If-Match`` named a version the object no longer has."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"the object is at version {actual}, not {expected}")
        self.expected = expected
        self.actual = actual


class ConcurrencyConflict(Exception):
    """Other writers kept changing the same objects; every retry lost the race."""


class IdempotencyKeyReused(Exception):
    """The same ``Idempotency-Key`` came with a different request."""


class ClaimConflict(Exception):
    """A unique value (an email, a project key) belongs to another object."""

    def __init__(self, claim: Claim, owner_id: UUID) -> None:
        super().__init__(f"{claim.value!r} is taken")
        self.claim = claim
        self.owner_id = owner_id
