"""The web workspace: pages for every role at ``/``, on the same queries and commands as the API.

Pages are rendered on the server (Jinja2) from what the query API's own functions answer
(``reads``), and change work through the command API's own functions (``commands``). htmx, our
own script and stylesheet are served from ``static/``: nothing is fetched from elsewhere, so the
workspace works offline. Nothing imports this package but the composition root.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.web import live
from services.web.pages import (
    entrance,
    goal,
    insights,
    issue,
    my_work,
    portfolio,
    project,
    search,
    summaries,
    team,
    trends,
    triage,
)

STATIC = Path(__file__).parent / "static"
PAGES = (
    entrance,
    portfolio,
    trends,
    team,
    my_work,
    insights,
    triage,
    summaries,
    issue,
    project,
    goal,
    search,
)


def include_web(app: FastAPI) -> None:
    """The workspace's pages, its live stream and its static files."""
    for module in PAGES:
        app.include_router(module.router)
    app.include_router(live.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
