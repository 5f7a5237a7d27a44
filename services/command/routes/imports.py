"""Importing history: ``POST /v1/import`` takes JSON Lines of commands as they happened."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio.from_thread
import anyio.to_thread
import orjson
from fastapi import Header, Path, Query, Request
from fastapi.responses import Response

from contracts.answers import ImportAnswer
from services.command.deps import ADMIN, ROLE_EXTENSION, Run
from services.command.import_report import ImportBusy, ImportGap, ImportReport, Oversized, RawLine
from services.command.importer import Importer
from services.command.routes.common import RESPONSES
from services.infrastructure.http import ProblemError, Routes, problem_response
from services.infrastructure.parameters import DIGITS

router = Routes(tags=["imports"])

# What a request body of JSON Lines may be sent as.
LINE_TYPES = {"application/x-ndjson", "application/jsonl", "application/json-lines", "text/plain"}
IMPORT_ID = r"^[\x21-\x7e]{1,200}$"

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-ndjson": {
                "schema": {
                    "type": "string",
                    "description": "One command per line: "
                    '{"command": "POST /v1/issues", "body": {...}, "occurred_at": '
                    '"2026-03-02T09:15:00Z", "actor_id": "<member id>" or null, '
                    '"id": "<id of the object it creates>"}',
                }
            }
        },
    }
}


@router.post(
    "/import",
    status_code=200,
    response_model=ImportAnswer,
    responses=RESPONSES,
    openapi_extra={ROLE_EXTENSION: ADMIN, **_BODY},
)
async def import_history(
    request: Request,
    run: Run,
    import_id: Annotated[str, Header(alias="Import-ID", pattern=IMPORT_ID)],
    from_line: Annotated[int, Query(ge=1, le=2**62), DIGITS] = 1,
) -> Response:
    """Imports commands as they happened, read as the body streams in, each decided by the same
    rules as a live command and recorded with its own `occurred_at` and actor.

    Lines are numbered from `from_line`; under the same `Import-ID`, lines already in the log are
    skipped, so a retried or resumed import writes nothing twice. The first refused line stops
    the import: the lines before it are written, nothing of it is, and the answer (with that
    line's status) names it and the refusal. At most `WORKLEDGER_IMPORT_MAX_LINES` lines are
    taken per request; the answer's `next_line` says where to go on."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in LINE_TYPES:
        raise ProblemError(
            415,
            "unsupported_media_type",
            "send the lines as JSON Lines, with Content-Type: application/x-ndjson",
        )
    importer: Importer = request.app.state.importer
    settings = request.app.state.settings
    body = _Lines(request.stream(), settings.max_body_bytes, settings.import_max_lines)
    try:
        report = await anyio.to_thread.run_sync(
            lambda: importer.run(
                import_id,
                body.lines(),
                principal=str(run.principal.token_id),
                first_line=from_line,
            )
        )
    except ImportGap as gap:
        raise ProblemError(409, "import_gap", str(gap)) from None
    except ImportBusy as busy:
        raise ProblemError(409, "import_in_progress", str(busy)) from None
    return _answer(report, complete=report.error is None and not body.more)


@router.get(
    "/import/{import_id}",
    response_model=ImportAnswer,
    responses=RESPONSES,
    openapi_extra={ROLE_EXTENSION: ADMIN},
)
def import_progress(
    import_id: Annotated[str, Path(pattern=IMPORT_ID)], request: Request, run: Run
) -> Response:
    """How far an import has come: the lines of it in the log, the events they wrote and the
    last position; readable while the import runs."""
    importer: Importer = request.app.state.importer
    known = importer.progress(import_id)
    if known is None:
        raise ProblemError(404, "not_found", f"no import with id {import_id!r}")
    report = ImportReport(
        import_id,
        first_line=1,
        lines_done=known.lines,
        events=known.events,
        position=known.position,
    )
    return _answer(report, complete=True)


def _answer(report: ImportReport, *, complete: bool) -> Response:
    answer: dict[str, Any] = {**report.as_dict(), "complete": complete}
    if report.error is None:
        return Response(orjson.dumps(answer), 200, media_type="application/json")
    error = report.error
    return problem_response(
        error.problem.status,
        error.problem.code,
        f"line {error.line}: {error.problem.detail}",
        errors=error.problem.errors,
        extra={"line": error.line, "import": answer},
    )


class _Lines:
    """The request body's lines, read as it streams in, by the thread that imports them."""

    def __init__(self, stream: AsyncIterator[bytes], line_limit: int, max_lines: int) -> None:
        self._stream = stream
        self._line_limit = line_limit
        self._max_lines = max_lines
        # Whether the body held more lines than the request takes.
        self.more = False

    async def _next_chunk(self) -> bytes | None:
        try:
            return await self._stream.__anext__()
        except StopAsyncIteration:
            return None

    def _chunks(self) -> Iterator[bytes]:
        while True:
            chunk = anyio.from_thread.run(self._next_chunk)
            if chunk is None:
                return
            yield chunk

    def lines(self) -> Iterator[RawLine]:
        count = 0
        pending = b""
        for chunk in self._chunks():
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                if count == self._max_lines:
                    # The request takes no more: whatever follows is left unread.
                    self.more = self.more or bool(line.strip()) or bool(pending.strip())
                    if self.more:
                        return
                    continue
                count += 1
                yield (
                    line
                    if len(line) <= self._line_limit
                    else Oversized(len(line), self._line_limit)
                )
            if len(pending) > self._line_limit:
                if count == self._max_lines:
                    self.more = True
                    return
                count += 1
                yield Oversized(len(pending), self._line_limit)
                pending = b""
                # The rest of that line is dropped with it.
                for rest in self._chunks():
                    if b"\n" in rest:
                        pending = rest.split(b"\n", 1)[1]
                        break
        if pending.strip():
            if count == self._max_lines:
                self.more = True
            else:
                yield pending
