"""Every read model is a package of the same parts, listed in one place, with typed handlers."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from types import ModuleType
from typing import get_type_hints

import pytest

from services.infrastructure.http import Routes
from services.projections.dispatch import EventHandlers, View
from services.projections.views import VIEWS

FOLDER = Path(importlib.import_module("services.projections.views").__file__ or "").parent
PARTS = {"__init__.py", "tables.py", "handlers.py", "queries.py", "routes.py"}
# A file a person reads at once.
MOST_LINES = 450


def test_every_view_package_in_the_folder_is_listed_and_every_listed_view_is_a_package() -> None:
    packages = {path.name for path in FOLDER.iterdir() if (path / "__init__.py").exists()}
    modules = {path.stem for path in FOLDER.glob("*.py") if path.name != "__init__.py"}

    assert modules == set(), "a view is a package, not a module"
    assert packages == {view.__name__.rsplit(".", 1)[-1] for view in VIEWS}


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__.rsplit(".", 1)[-1])
def test_every_view_has_the_same_parts(view: ModuleType) -> None:
    folder = Path(view.__file__ or "").parent
    tables = importlib.import_module(f"{view.__name__}.tables")
    handlers = importlib.import_module(f"{view.__name__}.handlers")
    routes = importlib.import_module(f"{view.__name__}.routes")

    assert {path.name for path in folder.glob("*.py")} >= PARTS
    assert isinstance(view.PROJECTION, View)
    assert view.PROJECTION.name == tables.NAME
    assert view.PROJECTION.schema_version == tables.SCHEMA_VERSION
    assert view.PROJECTION.tables == tables.TABLES
    assert view.PROJECTION.handlers is handlers.HANDLERS
    assert isinstance(view.router, Routes)
    assert view.router is routes.router
    for path in folder.glob("*.py"):
        lines = len(path.read_text().splitlines())
        assert lines <= MOST_LINES, f"{path.name} has {lines} lines"


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__.rsplit(".", 1)[-1])
def test_every_handler_takes_the_class_of_the_events_it_is_registered_for(
    view: ModuleType,
) -> None:
    handlers: EventHandlers = view.PROJECTION.handlers
    registered = handlers.registered()
    assert registered

    for event_class, handler in registered.items():
        parameters = list(inspect.signature(handler).parameters)
        hints = get_type_hints(handler)
        assert hints[parameters[1]] == event_class, (handler.__qualname__, event_class)
