"""How the command side's refusals are answered over HTTP."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from domain.errors import DomainError
from services.command.handler import (
    ClaimConflict,
    ConcurrencyConflict,
    IdempotencyKeyReused,
    PreconditionFailed,
)
from services.infrastructure.committer import CommitterStopped
from services.infrastructure.http import problem_response
from services.infrastructure.store import CommitOutcomeUnknown

STATUS_OF_CODE = {"not_found": 404, "validation_error": 422}
CLAIM_FIELDS = {"member.email": "email", "project.key": "key"}


async def _on_domain_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    errors = [{"field": error.field, "message": error.detail}] if error.field else []
    return problem_response(
        STATUS_OF_CODE.get(error.code, 409), error.code, error.detail, errors=errors
    )


async def _on_precondition(_: Request, error: Exception) -> Response:
    assert isinstance(error, PreconditionFailed)
    return problem_response(
        412,
        "version_mismatch",
        f"the object is at version {error.actual}, not {error.expected}; nothing was changed",
        headers={"ETag": f'"{error.actual}"'},
        extra={"current_version": error.actual},
    )


async def _on_conflict(_: Request, error: Exception) -> Response:
    return problem_response(409, "conflict", str(error))


async def _on_claim(_: Request, error: Exception) -> Response:
    assert isinstance(error, ClaimConflict)
    field = CLAIM_FIELDS.get(error.claim.scope, error.claim.scope)
    detail = f"{field} {error.claim.value!r} is already in use"
    return problem_response(
        409, "already_exists", detail, errors=[{"field": field, "message": "already in use"}]
    )


async def _on_key_reused(_: Request, error: Exception) -> Response:
    return problem_response(
        422,
        "idempotency_key_reused",
        "this Idempotency-Key was used with a different request; use a new key",
    )


async def _on_stopped(_: Request, error: Exception) -> Response:
    return problem_response(503, "unavailable", str(error), headers={"Retry-After": "1"})


async def _on_outcome_unknown(_: Request, error: Exception) -> Response:
    return problem_response(
        503,
        "outcome_unknown",
        f"{error}. The command may have been applied: retry it with the same Idempotency-Key, "
        "which answers what was done if it was, or read the object before sending it again",
        headers={"Retry-After": "1"},
    )


def install_command_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(PreconditionFailed, _on_precondition)
    app.add_exception_handler(ConcurrencyConflict, _on_conflict)
    app.add_exception_handler(ClaimConflict, _on_claim)
    app.add_exception_handler(IdempotencyKeyReused, _on_key_reused)
    app.add_exception_handler(CommitterStopped, _on_stopped)
    app.add_exception_handler(CommitOutcomeUnknown, _on_outcome_unknown)
