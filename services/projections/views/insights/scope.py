"""What a question is about: the whole organisation, or one team, project, goal or member
(``scope=org``, ``team:ID``, ``project:ID``, ``goal:ID``, ``member:ID``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from contracts.inputs import UUID_PATTERN, canonical_uuid
from services.infrastructure.http import ProblemError

ScopeKind = Literal["org", "team", "project", "goal", "member"]
SCOPE_KINDS: Final[dict[str, ScopeKind]] = {
    "team": "team",
    "project": "project",
    "goal": "goal",
    "member": "member",
}
SCOPE_PATTERN: Final = rf"^(org|(team|project|goal|member):{UUID_PATTERN[1:-1]})$"
SCOPE_DESCRIPTION: Final = "`org`, or one `team:ID`, `project:ID`, `goal:ID` or `member:ID`."


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    id: str | None = None

    @classmethod
    def parse(cls, text: str) -> Scope:
        if text == "org":
            return cls("org")
        kind, _, value = text.partition(":")
        try:
            parsed = canonical_uuid(value)
        except ValueError:
            parsed = None
        if kind not in SCOPE_KINDS or parsed is None:
            raise ProblemError(
                422,
                "validation_error",
                "scope must be org, or team:ID, project:ID, goal:ID or member:ID with a UUID",
                errors=[{"field": "scope", "message": "not a scope"}],
            )
        return cls(SCOPE_KINDS[kind], str(parsed))

    def __str__(self) -> str:
        return "org" if self.id is None else f"{self.kind}:{self.id}"

    def covers(self, scopes: frozenset[tuple[str, str]]) -> bool:
        """Whether something belonging to ``scopes`` (pairs of kind and id) is in this scope."""
        return self.id is None or (self.kind, self.id) in scopes
