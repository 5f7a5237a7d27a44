"""The composition root: builds every part from its settings and puts them together."""

from __future__ import annotations

import gc
import logging
import os
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
from services.infrastructure.answer_limit import RequestAnswerLimit
from services.infrastructure.codec import EventCodec
from services.infrastructure.committer import GroupCommitter
from services.infrastructure.docs import install_docs
from services.infrastructure.http import HttpEdge, install_problem_handlers
from services.infrastructure.http_observer import install_observability
from services.infrastructure.logs import configure_logging
from services.infrastructure.metrics import MULTIPROCESS_VARIABLE, Metrics
from services.infrastructure.metrics_readings import DatabaseReadings
from services.infrastructure.postgres_pool import count_connections
from services.infrastructure.ratelimit import RateLimiter, RateLimits
from services.infrastructure.settings import Settings
from services.infrastructure.store import Backend, EventStore
from services.infrastructure.token_watch import TokenWatch
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
from services.stream.relay_positions import RelayPositions, RelayStatus, relay_name
from services.web import include_web

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
    metrics: Metrics
    # Live insights answered again while they hold (docs/insights.md, "Asking again").
    insight_judgements: Judgements
    relay: Relay | None = None
    # Where the relay's saved position is read, when Kafka is configured.
    relay_positions: RelayPositions | None = None
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
        self.metrics.close()

    def relay_status(self) -> RelayStatus | None:
        """Where the relay stands, as saved in the database; ``None`` without Kafka."""
        if self.relay_positions is None:
            return None
        topic = self.settings.kafka_topic
        return self.relay_positions.status(self.store, relay_name(topic), topic, utc_now())


def build_runtime(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    backend: Backend | None = None,
    run_scheduler: bool = False,
    run_workers: bool = True,
    run_relay: bool = False,
    views: Sequence[str] | None = None,
    metrics: Metrics | None = None,
) -> Runtime:
    """Every part of a process, from its settings. ``views`` limits the workers (and the views
    the metrics report) to those named; ``metrics`` are the process's (``Metrics()`` if not
    given)."""
    backend = backend or open_backend(settings)
    metrics = metrics or Metrics()
    count_connections(backend, metrics.connections)
    store = EventStore(backend, make_codec(), clock)
    committer = GroupCommitter(
        store,
        max_batch=settings.commit_max_batch,
        metrics=metrics.committer,
        # On PostgreSQL, reached over a network that can go silent; SQLite is a local file.
        wait_seconds=settings.database_wait_seconds if settings.database_url else None,
    )
    handler = CommandHandler(store, committer, retries=settings.command_retries)
    horizon = timedelta(days=settings.scheduler_horizon_days)
    scheduler = Scheduler(handler, horizon=horizon, clock=clock, metrics=metrics.scheduler)
    importer = Importer(store, CommandCatalog(command_routes()), horizon=horizon, clock=clock)
    projections = [p for p in all_projections() if views is None or p.name in views]
    workers = [
        ProjectionWorker(store, backend, projection, metrics=metrics.views)
        for projection in projections
    ]
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
            metrics=metrics.relay,
        )
        if run_relay and settings.kafka_bootstrap_servers
        else None
    )
    runtime = Runtime(
        settings=settings,
        backend=backend,
        store=store,
        committer=committer,
        handler=handler,
        tokens=TokenStore(backend, clock=clock, check_seconds=settings.token_check_seconds),
        scheduler=scheduler,
        importer=importer,
        clock=clock,
        read_models=ReadModels(backend, store, all_projections()),
        workers=workers,
        event_feed=EventFeed(
            store,
            heartbeat_seconds=settings.event_stream_heartbeat_seconds,
            metrics=metrics.feed,
        ),
        metrics=metrics,
        insight_judgements=Judgements(settings.insight_reuse_seconds),
        relay=relay,
        relay_positions=RelayPositions(backend) if settings.kafka_bootstrap_servers else None,
        run_scheduler=run_scheduler,
        run_workers=run_workers,
    )
    names = [worker.name for worker in workers]
    metrics.add_readings(
        DatabaseReadings(
            store.last_position,
            views=lambda: views_health(store, names),
            relay=runtime.relay_status,
        )
    )
    return runtime


def api_app() -> FastAPI:
    """The app each of several API processes (``workledger api --workers N``) runs, built from
    the ``WORKLEDGER_*`` settings: the API alone, since the views' workers and the scheduler
    run in processes of their own (``workledger worker``). Its metrics go to the directory the
    processes share, which their parent prepared (``multiprocess_directory``)."""
    settings = Settings.from_env()
    configure_logging(settings)
    metrics = Metrics(multiprocess_dir=os.environ.get(MULTIPROCESS_VARIABLE))
    runtime = build_runtime(settings, run_scheduler=False, run_workers=False, metrics=metrics)
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
    """``200`` while the database answers, every view is applying the log within its bound and
    the relay (when Kafka is configured) publishes it within its own; ``503`` with the reasons
    otherwise (a database error answers ``503`` through the app's handlers). Read from the
    database, so an API process without workers answers for the workers of its views and for
    the relay, wherever they run."""
    names = [projection.name for projection in all_projections()]
    bound = runtime.settings.ready_max_lag_seconds
    views = views_health(runtime.store, names)
    relay = runtime.relay_status()
    reasons = [
        f"view {view.name} is failing ({view.failures} failures): {view.last_error}"
        for view in views
        if view.failing
    ] + [
        f"view {view.name} is {view.lag_seconds:.1f} s behind the log (bound {bound:g} s)"
        for view in views
        if view.lag_seconds > bound
    ]
    if relay is not None and relay.lag_seconds > runtime.settings.ready_max_relay_lag_seconds:
        reasons.append(_relay_stalled(relay, runtime.settings.ready_max_relay_lag_seconds))
    body: dict[str, object] = {
        "status": "unready" if reasons else "ready",
        "position": runtime.store.last_position(),
        "reasons": reasons,
        "views": {
            view.name: {"position": view.position, "lag_seconds": round(view.lag_seconds, 3)}
            for view in views
        },
    }
    if relay is not None:
        body["relay"] = {"position": relay.position, "lag_seconds": round(relay.lag_seconds, 3)}
    return Response(
        orjson.dumps(body), status_code=503 if reasons else 200, media_type="application/json"
    )


def _relay_stalled(relay: RelayStatus, bound: float) -> str:
    reason = f"relay {relay.name} is {relay.lag_seconds:.1f} s behind the log (bound {bound:g} s)"
    if relay.last_error and relay.broker_reachable is False:
        reason += f"; last error: {relay.last_error}"
    return reason


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
    app.state.insight_judgements = runtime.insight_judgements
    app.state.event_feed = runtime.event_feed
    install_problem_handlers(app)
    install_command_error_handlers(app)
    include_command_api(app)
    include_query_api(app)
    include_event_feed(app)
    install_docs(app)
    include_web(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        return readiness(runtime)

    # Added before the edge, so they run inside it, once the caller's token is known.
    app.add_middleware(TokenWatch)
    limiter = RateLimiter.from_settings(runtime.settings)
    if limiter is not None:
        app.add_middleware(RateLimits, limiter=limiter)
    app.add_middleware(
        HttpEdge,
        limit=runtime.settings.max_body_bytes,
        body_timeout=runtime.settings.body_timeout_seconds,
    )
    install_observability(app, lambda: runtime.metrics, runtime.settings.metrics_token)
    # Outermost, so that the edge's own look-ups (a token not seen yet) are bounded too.
    app.add_middleware(RequestAnswerLimit, seconds=runtime.settings.database_wait_seconds)
    return app
