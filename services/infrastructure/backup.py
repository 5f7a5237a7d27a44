"""Backups of the log: every event exactly as stored, as JSON Lines (see ``backup_lines`` for
the file), restored into an empty store of either backend, or into one whose log the backup
continues (an increment exported ``--after`` the position the store ends at).

An export reads the log in pages up to the position it had when the export started, so what it
holds is the log at one moment; the claims and imports' progress come whole in every export, as
of that position. A restore writes in one transaction, under the commits' own lock: the whole
file, or nothing. Tokens and idempotency records are not in a backup: they belong to a
deployment (idempotency records answer retries by token), not to the log.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import IO

from services.infrastructure.backend import LogRecord, LogRestore
from services.infrastructure.backup_lines import (
    BackupReader,
    BackupSummary,
    BadBackup,
    Base,
    Header,
    claim_line,
    end_line,
    event_id,
    event_line,
    header_line,
    import_line,
)
from services.infrastructure.codec import EventCodec
from services.infrastructure.commits import Claim, ImportProgress
from services.infrastructure.store import EventStore

__all__ = [
    "BackupSummary",
    "BadBackup",
    "RestoreRefused",
    "check_backup",
    "export_log",
    "restore_log",
]

# Events (and claims) read from the database, and written to it, per statement.
PAGE = 5000

Progress = Callable[[int, int], None]


class RestoreRefused(Exception):
    """The store holds a log this backup does not continue."""


def _unheard(_position: int, _events: int) -> None:
    pass


def export_log(
    store: EventStore,
    sink: IO[bytes],
    *,
    after: int = 0,
    now: datetime,
    progress: Progress = _unheard,
) -> BackupSummary:
    """Writes the log after position ``after`` (up to its last position when the export starts)
    to ``sink``, a page at a time; ``progress`` hears the position reached and the events
    written so far."""
    started = time.monotonic()
    size = 0

    def write(data: bytes) -> None:
        nonlocal size
        sink.write(data)
        size += len(data)

    archive = store.backend.archive()
    until = store.last_position()
    base = archive.record_at_or_before(after) if after > 0 else None
    write(header_line(after, base, store.backend.name, now))
    digest = hashlib.sha256()
    events = first = 0
    position = after
    while page := archive.records(position, PAGE, until):
        lines = b"".join(map(event_line, page))
        digest.update(lines)
        write(lines)
        first = first or page[0].position
        events += len(page)
        position = page[-1].position
        progress(position, events)
    claims = 0
    last_claim = ("", "")
    while claimed := archive.claims(until, last_claim, PAGE):
        write(b"".join(map(claim_line, claimed)))
        claims += len(claimed)
        last_claim = (claimed[-1].scope, claimed[-1].value)
    every_import = archive.imports()
    # An import that wrote after the export's last position would claim lines it does not hold.
    imports = [progress_of for progress_of in every_import if progress_of.position <= until]
    write(b"".join(map(import_line, imports)))
    write(end_line(events, until, claims, len(imports), digest.hexdigest()))
    return BackupSummary(
        events,
        first,
        position if events else 0,
        until,
        claims,
        len(imports),
        size,
        time.monotonic() - started,
        len(every_import) - len(imports),
    )


def restore_log(
    store: EventStore, lines: Iterable[bytes], *, progress: Progress = _unheard
) -> BackupSummary:
    """Writes the events, claims and imports of a backup into ``store`` in one transaction: all
    of it, or, at the first line that can't be restored, nothing (``BadBackup``). Refuses
    (``RestoreRefused``) a store whose log the backup does not continue: one holding events,
    unless it ends with the event the backup was exported after. ``progress`` hears the
    position reached and the events written so far."""
    started = time.monotonic()
    reader = BackupReader(lines, store.codec)
    with store.backend.archive().restoring() as restore:
        _refuse_unless_continued(restore.head(), reader.header)
        events: list[LogRecord] = []
        claims: list[Claim] = []
        imports: list[ImportProgress] = []
        written = 0
        for item in reader.items():
            if isinstance(item, LogRecord):
                events.append(item)
                if len(events) == PAGE:
                    restore.write_events(events)
                    written += len(events)
                    progress(events[-1].position, written)
                    events = []
            elif isinstance(item, Claim):
                claims.append(item)
                if len(claims) == PAGE:
                    _write_claims(restore, claims)
                    claims = []
            else:
                imports.append(item)
        if events:
            restore.write_events(events)
            progress(events[-1].position, written + len(events))
        if claims:
            _write_claims(restore, claims)
        if imports:
            restore.write_imports(imports)
    return reader.summary(time.monotonic() - started)


def check_backup(lines: Iterable[bytes], codec: EventCodec) -> BackupSummary:
    """Reads a backup as a restore would, writing nothing: ``BadBackup`` at its first line
    that can't be restored."""
    started = time.monotonic()
    reader = BackupReader(lines, codec)
    for _ in reader.items():
        pass
    return reader.summary(time.monotonic() - started)


def _refuse_unless_continued(head: LogRecord | None, header: Header) -> None:
    base = header.base
    if head is None:
        if base is None:
            return
        raise RestoreRefused(
            f"the store is empty, and this file continues a log after position "
            f"{base.position:,}: restore the export it continues first"
        )
    if base == Base(head.position, event_id(head)):
        return
    held = f"the store already holds a log, up to position {head.position:,}"
    if base is None:
        raise RestoreRefused(
            f"{held}: a whole log is restored into an empty store, and a store is continued "
            f"with an export of the same log made with --after {head.position}"
        )
    raise RestoreRefused(
        f"{held}, and this file continues a log after position {base.position:,} (event "
        f"{base.event_id}), which that store does not end with"
    )


def _write_claims(restore: LogRestore, claims: list[Claim]) -> None:
    owners = restore.claim_owners(claims)
    for claim in claims:
        owner = owners.get((claim.scope, claim.value))
        if owner is not None and owner != claim.owner_id:
            raise RestoreRefused(
                f"the store holds {claim.scope} {claim.value!r} for {owner}, and the file "
                f"for {claim.owner_id}"
            )
    restore.write_claims([c for c in claims if (c.scope, c.value) not in owners])
