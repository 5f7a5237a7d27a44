"""The read models, one module each: the events it handles, how it applies them, its queries.

Every module in this package that defines ``PROJECTION`` (a ``Projection``) and ``router`` (its
query routes) is a read model: adding a view is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

from fastapi import FastAPI

from services.infrastructure.http import include_routes
from services.projections.runner import Projection


@cache
def _view_modules() -> tuple[ModuleType, ...]:
    found = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    ]
    return tuple(module for module in found if hasattr(module, "PROJECTION"))


def all_projections() -> tuple[Projection, ...]:
    """Every read model this build serves, in a stable order."""
    projections: list[Projection] = [module.PROJECTION for module in _view_modules()]
    return tuple(sorted(projections, key=lambda projection: projection.name))


def include_query_api(app: FastAPI) -> None:
    """The query routes of every read model under ``/v1``."""
    for module in _view_modules():
        include_routes(app, module.router, prefix="/v1")
