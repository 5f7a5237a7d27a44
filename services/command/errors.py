"""How the command side's refusals are answered: over HTTP, and for a line of an import."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from domain.errors import DomainError
from services.command.outcomes import (
    ClaimConflict,
    ConcurrencyConflict,
    IdempotencyKeyReused,
    PreconditionFailed,
)
from services.infrastructure.committer import CommitterStopped
from services.infrastructure.http import ProblemError, problem_response
from services.infrastructure.store import CommitOutcomeUnknown

STATUS_OF_CODE = {"not_found": 404, "validation_error": 422, "forbidden": 403}
CLAIM_FIELDS = {"member.email": "email", "project.key": "key"}

COMMAND_ERRORS = (
    DomainError,
    PreconditionFailed,
    ConcurrencyConflict,
    ClaimConflict,
    IdempotencyKeyReused,
    CommitterStopped,
    CommitOutcomeUnknown,
)


def problem_of(error: Exception) -> ProblemError:
    """The problem document a command's refusal is answered with."""
    match error:
        case ProblemError():
            return error
        case DomainError():
            errors = [{"field": error.field, "message": error.detail}] if error.field else []
            status = STATUS_OF_CODE.get(error.code, 409)
            return ProblemError(status, error.code, error.detail, errors=errors)
        case PreconditionFailed():
            return ProblemError(
                412,
                "version_mismatch",
                f"the object is at version {error.actual}, not {error.expected}; "
                "nothing was changed",
                headers={"ETag": f'"{error.actual}"'},
                extra={"current_version": error.actual},
            )
        case ConcurrencyConflict():
            return ProblemError(409, "conflict", str(error))
        case ClaimConflict():
            field = CLAIM_FIELDS.get(error.claim.scope, error.claim.scope)
            return ProblemError(
                409,
                "already_exists",
                f"{field} {error.claim.value!r} is already in use",
                errors=[{"field": field, "message": "already in use"}],
            )
        case IdempotencyKeyReused():
            return ProblemError(
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request; use a new key",
            )
        case CommitterStopped():
            return ProblemError(503, "unavailable", str(error), headers={"Retry-After": "1"})
        case CommitOutcomeUnknown():
            return ProblemError(
                503,
                "outcome_unknown",
                f"{error}. The command may have been applied: retry it with the same "
                "Idempotency-Key, which answers what was done if it was, or read the object "
                "before sending it again",
                headers={"Retry-After": "1"},
            )
    raise TypeError(f"not a command's refusal: {error!r}")


async def _on_command_error(_: Request, error: Exception) -> Response:
    problem = problem_of(error)
    return problem_response(
        problem.status,
        problem.code,
        problem.detail,
        errors=problem.errors,
        headers=problem.headers,
        extra=problem.extra,
    )


def install_command_error_handlers(app: FastAPI) -> None:
    for error in COMMAND_ERRORS:
        app.add_exception_handler(error, _on_command_error)
