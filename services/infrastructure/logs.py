"""Log lines: JSON objects, one a line, or plain text for a terminal.

The standard library's ``logging`` with a formatter of our own, rather than structlog: every
library workledger runs on (uvicorn, psycopg, kafka-python) already logs through it, so one
handler puts their lines and ours in the same shape, with no second logging system to bridge.

A line's fields are its time, level, logger and message, the correlation id of the request it
was written for (``correlation_id``, kept per request in a context variable), and whatever the
call gave as ``extra`` (a page's view and positions, say).
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final, TextIO

import orjson

from services.infrastructure.settings import Settings

# The correlation id of the request being answered, for every line written while answering it.
# A context variable is per request by nature: threads the request runs work on copy it.
request_correlation: ContextVar[str | None] = ContextVar("workledger_correlation", default=None)

# What a LogRecord holds of its own; any other attribute came as ``extra``.
_RECORD_FIELDS: Final = frozenset(
    {
        *logging.LogRecord("", 0, "", 0, "", (), None).__dict__,
        "message",
        "asctime",
        "taskName",
        # uvicorn's copy of its message with terminal colours.
        "color_message",
    }
)
# Libraries whose lines at INFO tell of connections, not of workledger: shown from WARNING up.
_CHATTY_LIBRARIES = ("kafka",)
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """What a line says beyond its message: the extras, and the request's correlation id."""
    fields = {name: value for name, value in record.__dict__.items() if name not in _RECORD_FIELDS}
    if "correlation_id" not in fields:
        correlation = request_correlation.get()
        if correlation is not None:
            fields["correlation_id"] = correlation
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC), ``level``, ``logger``, ``message``, the fields,
    and ``exception`` with its traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **fields_of(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """``time level logger message key=value …``, for a person at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = fields_of(record)
        if not fields:
            return text
        head, newline, traceback = text.partition("\n")
        shown = " ".join(f"{name}={_shown(value)}" for name, value in fields.items())
        return f"{head}  {shown}{newline}{traceback}"


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value)


class _StandardError(logging.StreamHandler[TextIO]):
    """Writes to standard error as it is when writing, which a caller may have replaced."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        """Standard error is looked up at each line, never kept."""


def configure_logging(settings: Settings) -> None:
    """Every line of the process, workledger's and its libraries', goes to standard error in
    the format and from the level the settings say.

    Like ``logging.basicConfig``, it leaves alone a process whose logging someone else set up
    (a test runner's capture): only a process with no handler but its own is configured."""
    root = logging.getLogger()
    if any(not isinstance(handler, _StandardError) for handler in root.handlers):
        return
    level = _LEVELS[settings.log_level]
    handler = _StandardError()
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    for previous in root.handlers[:]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level)
    for library in _CHATTY_LIBRARIES:
        logging.getLogger(library).setLevel(max(level, logging.WARNING))
    # Python's warnings become lines like any other, rather than raw text on standard error.
    logging.captureWarnings(True)
