"""``GET /live``: the log's events for the workspace's pages, as the event stream sends them.

A page of the present opens it from the log position it was rendered at, so no event between
rendering and connecting is missed; each event's ``id`` is its position, which the page's script
passes back as ``min_position`` when it asks for its fresh main part, so the part it shows
already holds that event.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from services.infrastructure.store import MAX_POSITION
from services.stream.feed import EventFeed
from services.web.page import WebRoute
from services.web.session import signed_in

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/live")
async def live(request: Request) -> Response:
    await signed_in(request)
    feed: EventFeed = request.app.state.event_feed
    after = request.query_params.get("after", "")
    resume = request.headers.get("last-event-id", "").strip()
    if resume.isdigit() and len(resume) <= 19:
        start = min(int(resume), MAX_POSITION)
    elif after.isdigit() and len(after) <= 19:
        start = min(int(after), MAX_POSITION)
    else:
        start = await anyio.to_thread.run_sync(feed.store.last_position)
    return StreamingResponse(
        feed.stream(start, feed.selection([], None)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
