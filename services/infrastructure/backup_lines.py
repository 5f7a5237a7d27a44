"""The lines of a backup of the log (format ``workledger-log/1``): how each is written, and
how a file is read back, every line checked as it comes.

One JSON object a line, each named by its ``kind``:

- ``header``: the format, ``after`` (the position the export started after: 0 for the whole
  log), ``base`` (the position and event id of the last event at or before ``after``, which a
  store must end with to take this file; ``null`` for a whole log), ``source`` (the backend
  exported) and ``exported_at``;
- ``event``, in position order: ``position``, ``stream_id``, ``version``, ``type``,
  ``given_occurred`` (the occurred time in microseconds when it came with the event, as imports
  bring it; else ``null``) and ``envelope``, the stored envelope byte for byte: the event's
  ``id``, ``type``, ``schema_version``, ``actor``, ``occurred_at``, ``recorded_at``,
  ``correlation_id``, ``causation_id`` and ``data``;
- ``claim``: a unique value (a member's email, a project's key) and the object holding it;
- ``import``: an import's progress, so that running the import again resumes rather than
  writing its lines twice;
- ``end``: how many events, claims and imports came, the log's last position at the export,
  and the SHA-256 of the event lines as written. A file cut short or changed is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from services.infrastructure.backend import LogRecord
from services.infrastructure.codec import EventCodec
from services.infrastructure.commits import Claim, ImportProgress

FORMAT = "workledger-log/1"
_ENVELOPE = b',"envelope":'


@dataclass(frozen=True)
class Base:
    """The event a backup continues from: the store it is restored into must end with it."""

    position: int
    event_id: str


@dataclass(frozen=True)
class Header:
    """A backup's first line: where its events start, and what it was exported from."""

    after: int
    base: Base | None
    source: str
    exported_at: str


@dataclass(frozen=True)
class BackupSummary:
    """What an export wrote, or a restore read (and wrote)."""

    events: int
    # The first and last events' positions (0 without events), and the log's last position
    # when it was exported: what the next increment is exported ``--after``.
    first_position: int
    last_position: int
    log_position: int
    claims: int
    imports: int
    # The bytes of the file written or read.
    size: int
    seconds: float
    # Imports whose progress had passed the export's last event: they ran during the export.
    imports_left_out: int = 0


class BadBackup(ValueError):
    """A line of a backup that can't be restored as it is."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def header_line(after: int, base: LogRecord | None, source: str, now: datetime) -> bytes:
    return _line(
        {
            "kind": "header",
            "format": FORMAT,
            "after": after,
            "base": None
            if base is None
            else {"position": base.position, "event_id": event_id(base)},
            "source": source,
            "exported_at": now.astimezone(UTC).isoformat(),
        }
    )


def event_line(record: LogRecord) -> bytes:
    fields = orjson.dumps(
        {
            "kind": "event",
            "position": record.position,
            "stream_id": record.stream_id,
            "version": record.version,
            "type": record.type,
            "given_occurred": record.given_occurred,
        }
    )
    # The stored envelope goes in as it is (compact JSON, never a raw line break), so that
    # the restore writes back the very bytes stored.
    return fields[:-1] + _ENVELOPE + record.state + b"}\n"


def claim_line(claim: Claim) -> bytes:
    owner = str(claim.owner_id)
    return _line({"kind": "claim", "scope": claim.scope, "value": claim.value, "owner_id": owner})


def import_line(progress: ImportProgress) -> bytes:
    return _line(
        {
            "kind": "import",
            "import_id": progress.import_id,
            "principal": progress.principal,
            "lines": progress.lines,
            "events": progress.events,
            "position": progress.position,
            "started_at": progress.started_at.astimezone(UTC).isoformat(),
            "updated_at": progress.updated_at.astimezone(UTC).isoformat(),
        }
    )


def end_line(events: int, last_position: int, claims: int, imports: int, sha256: str) -> bytes:
    return _line(
        {
            "kind": "end",
            "events": events,
            "last_position": last_position,
            "claims": claims,
            "imports": imports,
            "sha256": sha256,
        }
    )


def event_id(record: LogRecord) -> str:
    """The id of the event a record holds, from its envelope."""
    found: str = orjson.loads(record.state)["id"]
    return found


def _line(fields: dict[str, Any]) -> bytes:
    return orjson.dumps(fields) + b"\n"


class BackupReader:
    """Reads a backup line by line, checking each as it comes, and at its end line that no line
    is missing or changed. Every event's envelope is read by this build's codec, so that a log
    restored is one its views can apply."""

    def __init__(self, lines: Iterable[bytes], codec: EventCodec) -> None:
        self._lines = self._numbered(lines)
        self._codec = codec
        self._digest = hashlib.sha256()
        self._size = self._number = 0
        self._events = self._claims = self._imports = 0
        self._first = 0
        self._log_position = 0
        self.header = self._read_header()
        self._last = self.header.after

    def summary(self, seconds: float) -> BackupSummary:
        last = self._last if self._events else 0
        counts = (self._events, self._first, last, self._log_position)
        return BackupSummary(*counts, self._claims, self._imports, self._size, seconds)

    def _numbered(self, lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
        """The lines that are not blank, with their numbers in the file."""
        for number, raw in enumerate(lines, start=1):
            self._size += len(raw)
            if raw.strip():
                yield number, raw

    def _next(self) -> tuple[int, bytes] | None:
        found = next(self._lines, None)
        if found is not None:
            self._number = found[0]
        return found

    def _read_header(self) -> Header:
        found = self._next()
        if found is None:
            raise BadBackup(1, "the file is empty: a backup starts with its header line")
        fields = _fields(*found)
        if fields.get("kind") != "header" or fields.get("format") != FORMAT:
            raise BadBackup(found[0], f"a backup starts with a header of format {FORMAT}")
        base = fields.get("base")
        return Header(
            after=_count(fields, "after", found[0]),
            base=None
            if base is None
            else Base(_count(base, "position", found[0]), _text(base, "event_id", found[0])),
            source=str(fields.get("source")),
            exported_at=str(fields.get("exported_at")),
        )

    def items(self) -> Iterator[LogRecord | Claim | ImportProgress]:
        """The file's events, claims and imports, in its order; ``BadBackup`` at the first
        line that can't be restored, or at the end if the end line does not match."""
        while (found := self._next()) is not None:
            number, raw = found
            at = raw.find(_ENVELOPE)
            if at >= 0:
                yield self._event(number, raw, at)
                continue
            fields = _fields(number, raw)
            match fields.get("kind"):
                case "claim":
                    self._claims += 1
                    yield Claim(
                        _text(fields, "scope", number),
                        _text(fields, "value", number),
                        _uuid(fields, "owner_id", number),
                    )
                case "import":
                    self._imports += 1
                    yield _import(fields, number)
                case "end":
                    self._check_end(fields, number)
                    if (extra := self._next()) is not None:
                        raise BadBackup(extra[0], "a line follows the end line")
                    return
                case "event":
                    raise BadBackup(number, "an event line ends with its envelope")
                case kind:
                    raise BadBackup(number, f"no kind of line is called {kind!r}")
        raise BadBackup(
            self._number + 1,
            f"the file ends without its end line, after {self._events:,} events: it was cut short",
        )

    def _event(self, number: int, raw: bytes, at: int) -> LogRecord:
        fields = _fields(number, raw[:at] + b"}")
        if fields.get("kind") != "event":
            raise BadBackup(number, "only an event line holds an envelope")
        line = raw.rstrip(b"\r\n")
        if not line.endswith(b"}"):
            raise BadBackup(number, "the line is not a JSON object")
        state = line[at + len(_ENVELOPE) : -1]
        position = _count(fields, "position", number)
        if position <= self._last:
            raise BadBackup(number, f"position {position} does not follow position {self._last}")
        stream_id = str(_uuid(fields, "stream_id", number))
        version = _count(fields, "version", number)
        given = fields.get("given_occurred")
        if given is not None and not isinstance(given, int):
            raise BadBackup(number, "given_occurred must be microseconds or null")
        try:
            event = self._codec.decode(position, stream_id, version, state)
        except Exception as error:
            raise BadBackup(number, f"its envelope can't be read: {error}") from error
        if event.type != fields.get("type"):
            raise BadBackup(
                number, f"its type is {fields.get('type')!r}, its envelope's {event.type!r}"
            )
        self._digest.update(raw)
        self._events += 1
        self._first = self._first or position
        self._last = position
        return LogRecord(position, stream_id, version, event.type, state, given)

    def _check_end(self, fields: dict[str, Any], number: int) -> None:
        found = {name: fields.get(name) for name in ("events", "claims", "imports")}
        read = {"events": self._events, "claims": self._claims, "imports": self._imports}
        if found != read:
            raise BadBackup(number, f"the end line counts {found}, the file holds {read}")
        if fields.get("sha256") != self._digest.hexdigest():
            raise BadBackup(
                number, "the event lines are not the ones exported (their SHA-256 differs)"
            )
        last = _count(fields, "last_position", number)
        if self._events and last < self._last:
            raise BadBackup(number, f"the end line's last position {last} is before an event's")
        self._log_position = last


def _fields(number: int, raw: bytes) -> dict[str, Any]:
    try:
        fields = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise BadBackup(number, f"not JSON ({error})") from error
    if not isinstance(fields, dict):
        raise BadBackup(number, "not a JSON object")
    return fields


def _count(fields: dict[str, Any], name: str, number: int) -> int:
    value = fields.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadBackup(number, f"{name} must be a whole number, not {value!r}")
    return value


def _text(fields: dict[str, Any], name: str, number: int) -> str:
    value = fields.get(name)
    if not isinstance(value, str):
        raise BadBackup(number, f"{name} must be text, not {value!r}")
    return value


def _uuid(fields: dict[str, Any], name: str, number: int) -> UUID:
    try:
        return UUID(_text(fields, name, number))
    except ValueError:
        raise BadBackup(number, f"{name} must be an id, not {fields.get(name)!r}") from None


def _moment(fields: dict[str, Any], name: str, number: int) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(fields, name, number))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadBackup(number, f"{name} must be a time with its offset")
    return moment


def _import(fields: dict[str, Any], number: int) -> ImportProgress:
    return ImportProgress(
        import_id=_text(fields, "import_id", number),
        principal=_text(fields, "principal", number),
        lines=_count(fields, "lines", number),
        events=_count(fields, "events", number),
        position=_count(fields, "position", number),
        started_at=_moment(fields, "started_at", number),
        updated_at=_moment(fields, "updated_at", number),
    )
