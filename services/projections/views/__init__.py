"""The read models, one package each, every one the same shape:

- ``tables.py``: its name, schema version and tables;
- ``handlers.py``: one typed handler per event class it reads, registered in its ``HANDLERS``;
- ``queries.py``: its reads; ``routes.py``: its query routes;
- ``__init__.py``: ``PROJECTION`` (a ``View`` of the above) and ``router``.

Every view this build serves is listed in ``VIEWS`` below: adding a view is adding a package and
naming it there.
"""

from __future__ import annotations

from types import ModuleType

from fastapi import FastAPI

from services.infrastructure.http import include_routes
from services.projections.dispatch import View
from services.projections.views import entities, history, insights, portfolio, queue, workload

VIEWS: tuple[ModuleType, ...] = (entities, history, insights, portfolio, queue, workload)


def all_projections() -> tuple[View, ...]:
    """Every read model this build serves, in a stable order (by name)."""
    return tuple(sorted((view.PROJECTION for view in VIEWS), key=lambda view: view.name))


def include_query_api(app: FastAPI) -> None:
    """The query routes of every read model under ``/v1``."""
    for view in VIEWS:
        include_routes(app, view.router, prefix="/v1")
