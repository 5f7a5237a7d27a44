"""The command line's backup commands: ``export [--after N] FILE`` and ``restore FILE``.

The file and what it guarantees are described in ``services.infrastructure.backup``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from services.infrastructure.settings import Settings

if TYPE_CHECKING:
    from rich.progress import Progress

    from services.infrastructure.backup import BackupSummary
    from services.infrastructure.store import EventStore

BACKUP_COMMANDS = ("export", "restore")
STANDARD_STREAM = "-"


def add_backup_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    exported = commands.add_parser(
        "export",
        help="write the log to a file (JSON Lines): a backup, or a move to another database",
        description="Writes every event of the log exactly as stored, with the unique claims "
        "and the imports' progress (not the tokens), as JSON Lines ending with a line that "
        "counts and digests them. With --after N, only the events after position N: an "
        "increment to restore onto a store restored up to N.",
    )
    exported.add_argument("file", metavar="FILE", help="where to write it (- for standard output)")
    exported.add_argument(
        "--after",
        type=_position,
        default=0,
        metavar="N",
        help="only the events after position N (the last position of the export before)",
    )
    restored = commands.add_parser(
        "restore",
        help="fill an empty store from an export (or continue one with an increment)",
        description="Writes an export's events, at their positions, into a store that holds "
        "no events, or into one that ends where the export (made with --after) continues. "
        "Everything is written in one transaction: at a line that can't be restored, nothing "
        "is. The views are then built from the log by their workers.",
    )
    restored.add_argument("file", metavar="FILE", help="an export (- for standard input)")
    restored.add_argument(
        "--check",
        action="store_true",
        help="check every line and the digest without a database, writing nothing",
    )


def run_backup_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "export":
        return _export(settings, args.file, args.after)
    if args.check:
        return _check(args.file)
    return _restore(settings, args.file)


def _position(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("a position is 0 or more")
    return value


@contextmanager
def _opened_store(settings: Settings) -> Iterator[EventStore]:
    from services.app import make_codec, open_backend, utc_now
    from services.infrastructure.store import EventStore

    backend = open_backend(settings)
    try:
        yield EventStore(backend, make_codec(), utc_now)
    finally:
        backend.close()


def _progress(what: str) -> Progress:
    """A progress bar on standard error, which keeps standard output for the log itself."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    return Progress(
        TextColumn(what),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[events]:>12,} events  {task.fields[rate]:>9,.0f} events/s"),
        console=Console(stderr=True),
    )


@contextmanager
def _written(file: str) -> Iterator[IO[bytes]]:
    """Where the export goes: standard output, or a file that appears under its name only once
    it is whole (a partial one beside it until then)."""
    if file == STANDARD_STREAM:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path = Path(file)
    partial = path.with_name(f"{path.name}.partial")
    try:
        with partial.open("wb") as sink:
            yield sink
            sink.flush()
            os.fsync(sink.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _export(settings: Settings, file: str, after: int) -> int:
    from services.infrastructure.backup import export_log

    if file != STANDARD_STREAM and not Path(file).parent.is_dir():
        print(f"workledger: no directory {Path(file).parent} to write {file} in", file=sys.stderr)
        return 2
    with _opened_store(settings) as store, _progress("export") as bar:
        task = bar.add_task("export", total=max(store.last_position() - after, 0), events=0, rate=0)
        started = time.monotonic()

        def progress(position: int, events: int) -> None:
            rate = events / max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=position - after, events=events, rate=rate)

        with _written(file) as sink:
            summary = export_log(store, sink, after=after, now=datetime.now(UTC), progress=progress)
        bar.update(task, completed=bar.tasks[0].total)
    where = "standard output" if file == STANDARD_STREAM else file
    told = sys.stderr if file == STANDARD_STREAM else sys.stdout
    print(
        f"workledger: exported {_counted(summary)} to {where} ({_size(summary.size)}) in "
        f"{summary.seconds:.1f} s; the log ended at position {summary.log_position:,}: the next "
        f"increment is `workledger export --after {summary.log_position} FILE`",
        file=told,
    )
    if summary.imports_left_out:
        print(
            f"workledger: {_many(summary.imports_left_out, 'import')} wrote while the export "
            "ran, and their progress is left out: export again once they are done",
            file=sys.stderr,
        )
    return 0


def _counted(summary: BackupSummary) -> str:
    span = (
        f" (positions {summary.first_position:,} to {summary.last_position:,})"
        if summary.events
        else ""
    )
    return (
        f"{_many(summary.events, 'event')}{span}, {_many(summary.claims, 'claim')} and "
        f"{_many(summary.imports, 'import')}"
    )


def _many(count: int, what: str) -> str:
    return f"{count:,} {what}" if count == 1 else f"{count:,} {what}s"


def _size(count: int) -> str:
    return f"{count / 1_000_000:,.1f} MB" if count >= 100_000 else f"{count:,} bytes"


class _Reading:
    """The lines of the file being restored, counting the bytes read for the progress bar."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.done = 0

    def lines(self) -> Iterator[bytes]:
        for line in self.source:
            self.done += len(line)
            yield line


@contextmanager
def _read(file: str) -> Iterator[tuple[IO[bytes], int | None]]:
    """The file to restore and its size (``None`` for standard input)."""
    if file == STANDARD_STREAM:
        yield sys.stdin.buffer, None
        return
    with Path(file).open("rb") as source:
        yield source, os.fstat(source.fileno()).st_size


def _check(file: str) -> int:
    from services.app import make_codec
    from services.infrastructure.backup import BadBackup, check_backup

    if file != STANDARD_STREAM and not Path(file).is_file():
        print(f"workledger: no file {file}", file=sys.stderr)
        return 2
    with _read(file) as (source, _):
        try:
            summary = check_backup(source, make_codec())
        except BadBackup as bad:
            print(f"workledger: {file} {bad}", file=sys.stderr)
            return 1
    print(f"workledger: {file} holds {_counted(summary)}, as exported; this build can restore it")
    return 0


def _restore(settings: Settings, file: str) -> int:
    from services.infrastructure.backup import BadBackup, RestoreRefused, restore_log

    if file != STANDARD_STREAM and not Path(file).is_file():
        print(f"workledger: no file {file}", file=sys.stderr)
        return 2
    with (
        _read(file) as (source, size),
        _opened_store(settings) as store,
        _progress("restore") as bar,
    ):
        reading = _Reading(source)
        task = bar.add_task("restore", total=size, events=0, rate=0)
        started = time.monotonic()

        def progress(_position: int, events: int) -> None:
            rate = events / max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=reading.done, events=events, rate=rate)

        try:
            summary = restore_log(store, reading.lines(), progress=progress)
        except (BadBackup, RestoreRefused) as wrong:
            bar.stop()
            refused = isinstance(wrong, RestoreRefused)
            print(f"workledger: {'' if refused else f'{file} '}{wrong}", file=sys.stderr)
            print("workledger: nothing was written", file=sys.stderr)
            return 2 if refused else 1
        bar.update(task, completed=reading.done, total=reading.done)
    target = "PostgreSQL" if settings.database_url else f"SQLite at {settings.sqlite_path}"
    rate = summary.events / max(summary.seconds, 1e-6)
    print(
        f"workledger: restored {_counted(summary)} ({_size(summary.size)}) into {target} in "
        f"{summary.seconds:.1f} s ({rate:,.0f} events/s)"
    )
    print(
        "workledger: the views are built from the restored log by their workers as they "
        "start (`workledger serve` or `workledger worker`); `workledger status` shows them "
        "catching up"
    )
    return 0
