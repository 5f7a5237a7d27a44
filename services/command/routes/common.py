"""What every command route declares for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from contracts.answers import CommandAccepted, Problem

PROBLEM = {"model": Problem, "content": {"application/problem+json": {}}}
PROBLEM_STATUSES = (400, 401, 403, 404, 409, 412, 413, 422)
RESPONSES: dict[int | str, dict[str, Any]] = dict.fromkeys(PROBLEM_STATUSES, PROBLEM)
CREATED: dict[str, Any] = {
    "status_code": 201,
    "response_model": CommandAccepted,
    "responses": RESPONSES,
}
CHANGED: dict[str, Any] = {
    "status_code": 200,
    "response_model": CommandAccepted,
    "responses": RESPONSES,
}
