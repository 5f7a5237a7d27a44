"""The README and docs/ say what the code does: the settings table is the one the settings make,
and every link, file, setting, make target and command they name exists."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from services.cli import main
from services.infrastructure.settings import Settings, settings_table, variable

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
PAGES = [README, *DOCS]
OPERATIONS = REPO / "docs" / "operations.md"

SETTINGS_TABLE = re.compile(r"<!-- settings[^>]*-->\n(?P<table>.*?)<!-- /settings -->", re.DOTALL)
REGENERATE = (
    "docs/operations.md's settings table is not the one services/infrastructure/settings.py "
    "makes. Replace the lines between <!-- settings ... --> and <!-- /settings --> with what this "
    "prints:\n  .venv/bin/python -c 'from services.infrastructure.settings import settings_table; "
    'print(settings_table(), end="")\''
)
FENCED = re.compile(r"^```[^\n]*\n(?P<code>.*?)^```$", re.DOTALL | re.MULTILINE)
INLINE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
# Paths in this repository: the folders it has, and those it may have one day (named only once
# they exist).
REPO_PATH = re.compile(
    r"(?<![\w./-])(?P<path>(?:\.ci|contracts|deploy|docs|domain|services|tests)/[\w./-]*)"
)
# A section naming paths in other projects' repositories.
ELSEWHERE = re.compile(r"^## Examples followed$.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)


def relative(page: Path) -> str:
    return str(page.relative_to(REPO))


def code_of(text: str) -> list[str]:
    """The fenced blocks and inline code spans of a Markdown text."""
    blocks = [found["code"] for found in FENCED.finditer(text)]
    return blocks + INLINE.findall(FENCED.sub("", text))


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCED.sub("", page.read_text())
    return {slug(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def test_the_settings_table_in_operations_is_the_one_the_settings_make() -> None:
    found = SETTINGS_TABLE.search(OPERATIONS.read_text())

    assert found, f"docs/operations.md has no <!-- settings --> table. {REGENERATE}"
    assert found["table"] == settings_table(), REGENERATE


def test_the_readme_stays_short_and_links_every_page_of_docs() -> None:
    text = README.read_text()

    assert len(text.splitlines()) <= 200
    linked = {found["target"].split("#")[0] for found in LINK.finditer(text)}
    assert {f"docs/{page.name}" for page in DOCS} <= linked
    assert {"api.md", "events.md", "operations.md", "architecture.md", "benchmarks.md"} <= {
        page.name for page in DOCS
    }


@pytest.mark.parametrize("page", PAGES, ids=relative)
def test_every_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    for found in LINK.finditer(FENCED.sub("", page.read_text())):
        target = found["target"]
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{relative(page)} links to {target}, which does not exist"
        if anchor:
            assert anchor in anchors(linked), f"{relative(page)} links to {target}: no heading"


@pytest.mark.parametrize("page", PAGES, ids=relative)
def test_every_file_and_folder_named_exists(page: Path) -> None:
    for code in code_of(ELSEWHERE.sub("", page.read_text())):
        for found in REPO_PATH.finditer(code):
            path = found["path"].rstrip(".,")
            assert (REPO / path).exists(), f"{relative(page)} names {path}, which does not exist"


@pytest.mark.parametrize("page", PAGES, ids=relative)
def test_every_variable_named_is_a_setting_or_one_the_tests_read(page: Path) -> None:
    settings = {variable(name) for name in Settings.model_fields}
    tests = "".join(path.read_text() for path in (REPO / "tests").rglob("*.py"))
    for name in set(re.findall(r"WORKLEDGER_[A-Z_]*[A-Z](?:_\*)?", page.read_text())):
        if name.endswith("*"):  # a family: WORKLEDGER_KAFKA_*
            assert any(setting.startswith(name[:-1]) for setting in settings), name
            continue
        assert name in settings or f'"{name}"' in tests, f"{relative(page)} names {name}"


@pytest.mark.parametrize("page", PAGES, ids=relative)
def test_every_make_target_and_workledger_command_named_exists(page: Path) -> None:
    targets = set(re.findall(r"^([a-z]+):", (REPO / "Makefile").read_text(), re.MULTILINE))
    code = "\n".join(code_of(page.read_text()))
    for target in re.findall(r"(?:^|[\s`])make ([a-z]+)", code, re.MULTILINE):
        assert target in targets, f"{relative(page)} names make {target}"
    for command in set(re.findall(r"\bworkledger ([a-z]+)", code)):
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            pytest.raises(SystemExit) as answered,
        ):
            main([command, "--help"])
        assert answered.value.code == 0, f"{relative(page)} names workledger {command}"


def test_the_kafka_consumer_in_events_is_the_one_the_suite_runs() -> None:
    text = (REPO / "docs" / "events.md").read_text()
    python = [found["code"] for found in FENCED.finditer(text) if "KafkaConsumer" in found["code"]]

    assert len(python) == 1
    assert python[0] in (REPO / "tests" / "stream" / "consumer_example.py").read_text()
