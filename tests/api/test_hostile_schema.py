"""Every operation of the OpenAPI document, driven by schemathesis with requests made from the
document itself: values that fit it and values that don't, with an admin's token and with none,
on SQLite and on PostgreSQL.

Whatever it sends, the API answers no 5xx, only statuses and content types the document
declares, bodies that match the document's schemas, and a refused request (4xx) writes nothing.
Examples are few per operation and drawn the same way every run (Hypothesis derandomized), so
a run is repeatable and stays within a minute and a half on two cores.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import APIOperation, Case, GenerationMode, Response

from services.app import Runtime, build_runtime, create_app
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend
from tests.conftest import FrozenClock, bearer

# Examples drawn per operation, of values that fit the document and of values that don't. Each
# is drawn once, with Hypothesis derandomized (the same requests every run), and sent in all four
# runs: that keeps the whole within its time on two cores.
EXAMPLES = 8

CONFIG: dict[str, Any] = {
    # NUL characters and any other text the document allows are drawn too.
    "generation": {"allow-x00": True, "codec": "utf-8"},
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
    },
    # The live event stream never ends: it is read for a moment, then cut.
    "max-stream-events": 3,
    "operations": [{"include-path": "/v1/events/stream", "request-timeout": 0.3}],
}

# An import's body is JSON Lines: text, as the document says.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")

# Requests sent and their statuses, over the module's runs: docs/reliability.md gives them.
SENT: Counter[str] = Counter()


@dataclass(frozen=True)
class Caller:
    runtime: Runtime
    headers: dict[str, str]


@pytest.fixture(params=["admin", "anonymous"])
def caller(
    request: pytest.FixtureRequest, backend: Backend, clock: FrozenClock, tmp_path: Path
) -> Iterator[Caller]:
    """The API with every view's worker running, and the headers of an admin or of no one."""
    runtime = build_runtime(
        Settings(data_dir=tmp_path, event_stream_heartbeat_seconds=0.05),
        clock=clock,
        backend=backend,
    )
    # A generated min_position is far ahead of the log: answer 409 at once, not after 5 s.
    runtime.read_models.max_wait = 0.01
    runtime.start()
    headers = bearer(runtime.tokens.create("admin")) if request.param == "admin" else {}
    yield Caller(runtime, headers)
    runtime.stop()
    # The feed's thread follows the log through the backend, which its own fixture closes next.
    runtime.event_feed.close()


@pytest.fixture(scope="module", autouse=True)
def tally() -> Iterator[None]:
    yield
    if SENT:
        print(f"\nschemathesis: {sum(SENT.values())} requests, by status class {dict(SENT)}")


def test_no_request_of_the_document_breaks_the_api(caller: Caller) -> None:
    app = create_app(caller.runtime)
    for case in _cases(app.openapi()):
        before = caller.runtime.store.last_position()

        response = case.call(app=app, headers=caller.headers)
        SENT[f"{response.status_code // 100}xx"] += 1
        case.validate_response(response, headers=caller.headers)

        if 400 <= response.status_code < 500 and not _an_import_that_wrote(response):
            assert caller.runtime.store.last_position() == before, (
                f"{case.method} {case.formatted_path} was refused "
                f"({response.status_code}) but wrote to the log"
            )


# Drawn once and sent in every run: drawing a request from the document costs more than
# answering it, and every run asks the same questions of another store or caller.
_DRAWN: list[Case[Any]] = []


def _cases(document: dict[str, Any]) -> list[Case[Any]]:
    if not _DRAWN:
        schema = schemathesis.openapi.from_dict(
            document, config=schemathesis.Config.from_dict(CONFIG)
        )
        operations = [operation for methods in schema.values() for operation in methods.values()]
        assert len(operations) > 60
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _DRAWN.extend(_draw(operation, mode))
    return _DRAWN


def _draw(operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode) -> list[Case[Any]]:
    drawn: list[Case[Any]] = []

    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def draw(case: Case[Any]) -> None:
        drawn.append(case)

    draw()
    return drawn


def _an_import_that_wrote(response: Response) -> bool:
    """An import writes the lines before the one it refuses (docs/api.md, importing history)."""
    content_type = response.headers.get("content-type", [""])[0]
    if not content_type.startswith("application/problem+json"):
        return False
    progress = response.json().get("import") or {}
    return bool(progress.get("applied"))
