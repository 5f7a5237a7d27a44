"""``/metrics`` on a port of its own, for the processes that have no HTTP API (``workledger
worker`` and ``workledger relay``, with ``WORKLEDGER_METRICS_PORT``)."""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from pydantic import SecretStr

from services.infrastructure.metrics import Metrics
from services.infrastructure.settings import Settings

log = logging.getLogger("workledger.metrics")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def bearer_matches(authorization: str | None, token: SecretStr | None) -> bool:
    """Whether ``Authorization`` carries ``token`` (always, when there is no token to carry)."""
    if token is None:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    expected = token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would fill the log; they are not logged."""


class MetricsServer:
    """Answers ``GET /metrics`` with ``metrics`` (behind ``token`` when one is set), and
    ``GET /healthz`` for a liveness probe, on a thread of its own."""

    def __init__(
        self, metrics: Metrics, host: str, port: int, token: SecretStr | None = None
    ) -> None:
        self._metrics = metrics
        self._token = token
        self._server = make_server(
            host, port, self._answer, server_class=_Server, handler_class=_QuietHandler
        )
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="workledger-metrics", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _answer(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _send(start_response, "200 OK", b'{"status":"ok"}', "application/json")
        if path != "/metrics":
            return _send(start_response, "404 Not Found", b"not found\n", "text/plain")
        if not bearer_matches(environ.get("HTTP_AUTHORIZATION"), self._token):
            return _send(start_response, "401 Unauthorized", b"a bearer token is required\n")
        body, content_type = self._metrics.exposition()
        return _send(start_response, "200 OK", body, content_type)


def _send(
    start_response: StartResponse, status: str, body: bytes, content_type: str = "text/plain"
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def serve_metrics_port(metrics: Metrics, settings: Settings) -> MetricsServer | None:
    """The metrics server of a process without an HTTP API, on ``WORKLEDGER_METRICS_PORT`` at
    ``WORKLEDGER_HOST``; ``None`` when no port is set."""
    if not settings.metrics_port:
        return None
    server = MetricsServer(metrics, settings.host, settings.metrics_port, settings.metrics_token)
    log.info("metrics on http://%s:%d/metrics", settings.host, server.port)
    return server
