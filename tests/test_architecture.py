"""The rules of the house about who may import whom, checked on every module's imports."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each part, and the parts it must never import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": ("contracts", "services"),
    "contracts": ("domain", "services"),
    "services.command": ("services.projections", "services.stream"),
    "services.projections": ("services.command", "services.stream"),
    "services.stream": ("services.command", "services.projections"),
    "services.infrastructure": ("services.command", "services.projections", "services.stream"),
    # History from elsewhere speaks the public API alone: it makes import lines, and the command
    # side decides them.
    "services.importing": (
        "domain",
        "services.command",
        "services.projections",
        "services.stream",
        "services.infrastructure",
    ),
    # The workspace is an edge like the routes: it reads through the views' queries and changes
    # work through the command routes, never the domain directly (nor SQL: below).
    "services.web": ("domain", "services.importing"),
}
# What a part may import all the same: the issue workflow is a rule the workspace shows (the moves
# an issue's page offers), read from the domain's own table rather than written again.
ALLOWED: dict[str, tuple[str, ...]] = {"services.web": ("domain.issue.WORKFLOW",)}


def modules(part: str) -> Iterator[tuple[str, Path]]:
    folder = ROOT.joinpath(*part.split("."))
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        yield ".".join(relative.parts), path


def imported(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, at its top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_no_part_imports_what_the_house_rules_keep_it_from(part: str) -> None:
    broken = [
        f"{module} imports {name}"
        for module, path in modules(part)
        for name in imported(path)
        for forbidden in FORBIDDEN[part]
        if (name == forbidden or name.startswith(f"{forbidden}."))
        and name not in ALLOWED.get(part, ())
    ]

    assert broken == []


def test_nothing_but_the_composition_root_imports_the_workspace() -> None:
    importers = [
        module
        for part in ("domain", "contracts", "services")
        for module, path in modules(part)
        if not module.startswith("services.web")
        and module != "services.app"
        and any(
            name == "services.web" or name.startswith("services.web.") for name in imported(path)
        )
    ]

    assert importers == []


def test_the_workspace_writes_no_sql_of_its_own() -> None:
    statements = [
        module
        for module, path in modules("services.web")
        for word in ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "fetchall(", "execute(")
        if word in path.read_text()
    ]

    assert statements == []
