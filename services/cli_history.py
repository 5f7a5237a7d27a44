"""The command line's history commands: ``import FILE``, ``import jira FILE`` and ``demo``.

Each brings facts that occurred earlier through the import path (``services.command.importer``):
the same deciders as live commands, each line at its own time, written in batches with the
import's progress so that running it again resumes where it stopped and writes nothing twice.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from services.infrastructure.settings import Settings

if TYPE_CHECKING:
    from services.app import Runtime
    from services.command.import_report import ImportReport, RawLine


def add_history_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imported = commands.add_parser(
        "import",
        help="import history (JSON Lines of commands with their times, or `jira FILE`)",
        description="Imports commands as they happened: `workledger import FILE` (JSON Lines, "
        "one command per line) or `workledger import jira FILE` (Jira Cloud's REST search "
        "export with expand=changelog). The first refused line stops the import; run it "
        "again, once fixed, and it resumes there.",
    )
    imported.add_argument("source", nargs="+", metavar="[jira] FILE")
    imported.add_argument(
        "--id", dest="import_id", help="the import's id (default: from the file's content)"
    )
    imported.add_argument("--from-line", type=int, default=1, help="the first line's number")
    imported.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="JIRA=STATUS",
        help="(jira) map a Jira status to a workledger one; may be repeated",
    )
    imported.add_argument("--owner-email", help="(jira) the member who owns imported projects")
    imported.add_argument("--story-points", help="(jira) the custom field holding estimates")
    imported.add_argument(
        "--dry-run", action="store_true", help="(jira) print the mapping and report only"
    )
    demo = commands.add_parser(
        "demo", help="load a realistic demo organisation with six months of history"
    )
    demo.add_argument("--seed", type=int, default=7, help="the same seed makes the same org")
    demo.add_argument("--scale", type=float, default=1.0, help="1 is about 20,000 issues")
    demo.add_argument("--add", action="store_true", help="add to a store that already holds work")
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="load it only into an empty store, and say nothing otherwise (make run)",
    )


def run_history_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "demo":
        return _demo(settings, args)
    match args.source:
        case [path]:
            return _import_file(settings, Path(path), args)
        case ["jira", path]:
            return _import_jira(settings, Path(path), args)
    print("workledger: import FILE, or import jira FILE", file=sys.stderr)
    return 2


def _runtime(settings: Settings) -> Runtime:
    from services.app import build_runtime

    return build_runtime(settings, run_workers=False)


def _run(
    runtime: Runtime,
    import_id: str,
    lines: Iterable[RawLine],
    total: int,
    first_line: int,
    what: str,
) -> ImportReport:
    """Runs an import with a progress bar on standard error."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("lines  {task.fields[events]:>10,} events"),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(what, total=total, events=0)

        def progress(report: ImportReport) -> None:
            bar.update(task, completed=report.lines_done, events=report.events)

        runtime.importer.on_progress = progress
        report = runtime.importer.run(import_id, lines, first_line=first_line)
        # The total was an estimate (the demo's) or counted blank lines: the bar ends full.
        total = report.lines_done if report.error is None else total
        bar.update(task, completed=report.lines_done, total=total, events=report.events)
    return report


def _told(report: ImportReport, where: str) -> int:
    if report.error is not None:
        error = report.error
        print(
            f"workledger: {where} line {error.line} was refused ({error.problem.status} "
            f"{error.problem.code}): {error.problem.detail}",
            file=sys.stderr,
        )
        for detail in error.problem.errors:
            print(f"  {detail.get('field')}: {detail.get('message')}", file=sys.stderr)
        print(
            f"workledger: {report.lines_done:,} lines are in the log; fix line {error.line} and "
            f"run the same command again to resume from it (import id {report.import_id})",
            file=sys.stderr,
        )
        return 1
    print(
        f"workledger: imported {report.applied:,} lines ({report.skipped:,} were in already), "
        f"{report.events:,} events, up to position {report.position:,} "
        f"(import id {report.import_id})"
    )
    return 0


def _content_id(path: Path, prefix: str) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
    return f"{prefix}:{digest.hexdigest()[:24]}"


def _import_file(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    if not path.is_file():
        print(f"workledger: no file {path}", file=sys.stderr)
        return 2
    with path.open("rb") as counting:
        total = sum(1 for _ in counting)

    def lines() -> Iterator[bytes]:
        with path.open("rb") as source:
            yield from source

    runtime = _runtime(settings)
    try:
        import_id = args.import_id or _content_id(path, "file")
        report = _run(runtime, import_id, lines(), total, args.from_line, path.name)
    finally:
        runtime.close()
    return _told(report, str(path))


def _import_jira(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    from services.importing.jira import JiraExportError, JiraOptions, convert, load_export

    if not path.is_file():
        print(f"workledger: no file {path}", file=sys.stderr)
        return 2
    status_map: dict[str, str] = {}
    for pair in args.status:
        name, _, status = pair.partition("=")
        if not status:
            print(f"workledger: --status takes JIRA=STATUS, not {pair!r}", file=sys.stderr)
            return 2
        status_map[name] = status
    runtime = _runtime(settings)
    try:
        try:
            options = JiraOptions(
                status_map=status_map,
                owner_email=args.owner_email,
                story_points_field=args.story_points,
                existing_members=_member_emails(runtime),
            )
            conversion = convert(load_export(path), options)
        except (JiraExportError, ValueError) as wrong:
            print(f"workledger: {wrong}", file=sys.stderr)
            return 2
        for text in conversion.report.text_lines():
            print(text, file=sys.stderr)
        if args.dry_run:
            return 0
        import_id = args.import_id or _content_id(path, "jira")
        lines = conversion.lines
        report = _run(runtime, import_id, lines, len(lines), args.from_line, path.name)
    finally:
        runtime.close()
    return _told(report, f"{path} (converted)")


def _member_emails(runtime: Runtime) -> dict[str, UUID]:
    """Every member's email (as claimed: each email belongs to one member) and id."""
    rows = runtime.backend.fetchall(
        "SELECT value, owner_id FROM workledger_claims WHERE scope = %s", ("member.email",)
    )
    return {str(email).lower(): UUID(str(owner)) for email, owner in rows}


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from services.importing.demo import DemoPlan, generate

    if args.scale <= 0:
        print("workledger: --scale must be above 0", file=sys.stderr)
        return 2
    runtime = _runtime(settings)
    try:
        held = runtime.store.last_position()
        if held and not args.add:
            if args.if_empty:
                return 0
            print(
                f"workledger: the store already holds {held:,} events; `demo --add` adds the "
                "demo organisation to it",
                file=sys.stderr,
            )
            return 1
        end = datetime.now(UTC).replace(microsecond=0)
        import_id = f"demo:{args.seed}:{args.scale:g}:{end.isoformat()}"
        if args.if_empty:
            print(
                f"workledger: loading a demo organisation (scale {args.scale:g}); "
                "`make run DEMO=0` starts empty instead",
                file=sys.stderr,
            )
        report = _run(
            runtime,
            import_id,
            generate(seed=args.seed, scale=args.scale, end=end),
            DemoPlan.estimate_lines(args.scale),
            1,
            "demo organisation",
        )
    finally:
        runtime.close()
    if report.error is None:
        print(f"workledger: {DemoPlan.for_scale(args.scale).describe()}", file=sys.stderr)
    return _told(report, "demo")
