"""What every command route declares for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from contracts.answers import CommandAccepted
from services.infrastructure.http import problem_responses

RESPONSES = problem_responses(400, 403, 404, 409, 412, 413, 415)
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
