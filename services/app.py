"""The composition root: builds every part from its settings and puts them together."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import anyio.to_thread
import orjson
from fastapi import FastAPI
from fastapi.responses import Response

from domain.catalog import EVENT_CLASSES
from services.command.errors import install_command_error_handlers
from services.command.handler import CommandHandler
from services.command.importer import Importer
from services.command.lines import CommandCatalog
from services.command.routes import command_routes, include_command_api
from services.command.scheduler import Scheduler
from services.infrastructure.codec import EventCodec
from services.infrastructure.committer import GroupCommitter
from services.infrastructure.docs import install_docs
from services.infrastructure.http import HttpEdge, install_problem_handlers
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend, EventStore
from services.infrastructure.tokens import TokenStore
from services.projections.health import (
    ensure_health_table,
    record_failure,
    record_recovery,
    views_health,
)
from services.projections.query import ReadModels
from services.projections.runner import ProjectionWorker, ensure_projection
from services.projections.state import NewerSchema
from services.projections.views import all_projections, include_query_api
from services.projections.views.insights.judgements import Judgements
from services.stream.feed import EventFeed, include_event_feed
from services.stream.relay import Relay

log = logging.getLogger("workledger")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def open_backend(settings: Settings) -> Backend:
    """PostgreSQL when a URL is configured, else the SQLite file in the data directory."""
    if settings.database_url:
        from services.infrastructure.postgres import PostgresBackend

        pool = settings.db_pool_size
        return PostgresBackend.from_url(
            settings.database_url,
            pool_size=pool,
            max_overflow=pool,
            wait_seconds=settings.database_wait_seconds,
        )
    from services.infrastructure.sqlite import SQLiteBackend

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SQLiteBackend(str(settings.sqlite_path))


def make_codec() -> EventCodec:
    """The codec of every domain event (each declares its schema versions and upcasters)."""
    return EventCodec(EVENT_CLASSES)


@dataclass
class Runtime:
    """Every long-lived part of a workledger process."""

    settings: Settings
    backend: Backend
    store: EventStore
    committer: GroupCommitter
    handler: CommandHandler
    tokens: TokenStore
    scheduler: Scheduler
    importer: Importer
    clock: Clock
    read_models: ReadModels
    workers: list[ProjectionWorker]
    event_feed: EventFeed
    relay: Relay | None = None
    run_scheduler: bool = False
    run_workers: bool = True
    _started: bool = field(default=False, repr=False)

    def start(self) -> None:
        if self._started:
            return
        self.committer.start()
        # Every view's tables exist before the first query; a running worker prepares the rest
        # (its cache, read whole if it is far behind) on its own thread.
        ensure_health_table(self.backend)
        for worker in self.workers:
            try:
                ensure_projection(self.backend, worker.projection)
            except NewerSchema as error:
                # A newer release's copy: its queries answer 503 and its worker reports the
                # error where status and /readyz show it, rather than this process not starting.
                log.error("%s", error)
        if self.run_workers:
            for worker in self.workers:
                worker.start()
        if self.run_scheduler:
            self.scheduler.start(self.settings.scheduler_interval_seconds)
        if self.relay is not None:
            self.relay.start()
        self._started = True

    def stop(self) -> None:
        if not self._started:
            return
        if self.relay is not None:
            self.relay.stop()
        self.scheduler.stop()
        for worker in self.workers:
            worker.request_stop()
        for worker in self.workers:
            worker.stop()
        self.committer.stop()
        self._started = False

    def close(self) -> None:
        self.stop()
        self.event_feed.close()
        self.backend.close()


def build_runtime(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    backend: Backend | None = None,
    run_scheduler: bool = False,
    run_workers: bool = True,
    run_relay: bool = False,
    views: Sequence[str] | None = None,
) -> Runtime:
    backend = backend or open_backend(settings)
    store = EventStore(backend, make_codec(), clock)
    committer = GroupCommitter(store, max_batch=settings.commit_max_batch)
    handler = CommandHandler(store, committer, retries=settings.command_retries)
    horizon = timedelta(days=settings.scheduler_horizon_days)
    scheduler = Scheduler(handler, horizon=horizon, clock=clock)
    importer = Importer(store, CommandCatalog(command_routes()), horizon=horizon, clock=clock)
    projections = [p for p in all_projections() if views is None or p.name in views]
    workers = [ProjectionWorker(store, backend, projection) for projection in projections]
    for worker in workers:
        worker.on_failure = partial(record_failure, backend)
        worker.on_recovery = partial(record_recovery, backend)
    relay = (
        Relay(
            store,
            settings,
            clock=clock,
            partitions=settings.kafka_topic_partitions,
            replication_factor=settings.kafka_topic_replication,
        )
        if run_relay and settings.kafka_bootstrap_servers
        else None
    )
    return Runtime(
        settings=settings,
        backend=backend,
        store=store,
        committer=committer,
        handler=handler,
        tokens=TokenStore(backend),
        scheduler=scheduler,
        importer=importer,
        clock=clock,
        read_models=ReadModels(backend, store, all_projections()),
        workers=workers,
        event_feed=EventFeed(store, heartbeat_seconds=settings.event_stream_heartbeat_seconds),
        relay=relay,
        run_scheduler=run_scheduler,
        run_workers=run_workers,
    )


def api_app() -> FastAPI:
    """The app each of several API processes (``workledger api --workers N``) runs, built from
    the ``WORKLEDGER_*`` settings: the API alone, since the views' workers and the scheduler
    run in processes of their own (``workledger worker``)."""
    runtime = build_runtime(Settings.from_env(), run_scheduler=False, run_workers=False)
    app = create_app(runtime, close_on_shutdown=True)
    settle_heap()
    return app


def settle_heap() -> None:
    """Moves what start-up built (modules, the app and its schemas: several hundred thousand
    objects that live as long as the process) out of the garbage collector's way. Otherwise its
    full passes walk them all again and again, each a pause in whatever request is running."""
    gc.collect()
    gc.freeze()


def readiness(runtime: Runtime) -> Response:
    """``200`` while the database answers and every view is applying the log within its bound;
    ``503`` with the reasons otherwise (a database error answers ``503`` through the app's
    handlers). Read from the database, so an API process without workers answers for the
    workers of its views wherever they run."""
    names = [projection.name for projection in all_projections()]
    bound = runtime.settings.ready_max_lag_seconds
    views = views_health(runtime.store, names)
    reasons = [
        f"view {view.name} is failing ({view.failures} failures): {view.last_error}"
        for view in views
        if view.failing
    ] + [
        f"view {view.name} is {view.lag_seconds:.1f} s behind the log (bound {bound:g} s)"
        for view in views
        if view.lag_seconds > bound
    ]
    body = {
        "status": "unready" if reasons else "ready",
        "position": runtime.store.last_position(),
        "reasons": reasons,
        "views": {
            view.name: {"position": view.position, "lag_seconds": round(view.lag_seconds, 3)}
            for view in views
        },
    }
    return Response(
        orjson.dumps(body), status_code=503 if reasons else 200, media_type="application/json"
    )


def create_app(runtime: Runtime, *, close_on_shutdown: bool = False) -> FastAPI:
    """The HTTP application over a runtime; starting the app starts the runtime's workers."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Commands block on the group committer, so more threads means bigger batches.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 64
        runtime.start()
        try:
            yield
        finally:
            if close_on_shutdown:
                runtime.close()
            else:
                runtime.stop()

    app = FastAPI(
        title="workledger",
        version="1",
        summary="Event-sourced work management: every change is a fact in one log.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.command_handler = runtime.handler
    app.state.scheduler = runtime.scheduler
    app.state.importer = runtime.importer
    app.state.settings = runtime.settings
    app.state.tokens = runtime.tokens
    app.state.clock = runtime.clock
    app.state.event_store = runtime.store
    app.state.read_models = runtime.read_models
    app.state.insight_judgements = Judgements(runtime.settings.insight_reuse_seconds)
    app.state.event_feed = runtime.event_feed
    install_problem_handlers(app)
    install_command_error_handlers(app)
    include_command_api(app)
    include_query_api(app)
    include_event_feed(app)
    install_docs(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        return readiness(runtime)

    app.add_middleware(HttpEdge, limit=runtime.settings.max_body_bytes)
    return app
