"""Domain errors: every broken rule has a stable machine-readable code."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A command that the rules of the work model refuse."""

    code: ClassVar[str] = "conflict"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(DomainError):
    """A value that can never be right, whatever the state (a negative estimate, an empty name)."""

    code = "validation_error"


class NotFound(DomainError):
    """The command names an object that does not exist."""

    code = "not_found"


class AlreadyExists(DomainError):
    """The command would create an object that exists already."""

    code = "already_exists"


class RuleViolation(DomainError):
    """The state of the work model forbids the command."""

    code = "conflict"


class InvalidTransition(DomainError):
    """A lifecycle or workflow move that is not in the allowed table."""

    code = "invalid_transition"


class DependencyCycle(DomainError):
    """A ``blocked_by`` dependency that would make an issue wait on itself."""

    code = "dependency_cycle"


class ParentCycle(DomainError):
    """A parent link that would make an issue its own ancestor."""

    code = "parent_cycle"


class MemberInactive(DomainError):
    """Work can't be given to a member who has been deactivated. (Named apart from the event
    ``member.MemberDeactivated``; its code is the public one.)"""

    code = "member_deactivated"


class ProjectClosed(DomainError):
    """New work can't be added to a completed or cancelled project."""

    code = "project_closed"
