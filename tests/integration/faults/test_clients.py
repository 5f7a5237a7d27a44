"""Clients that hang up mid-request, under write load: a command's connection closed (or reset)
after its headers, halfway through its body, or at moments after the whole request, before its
answer is read. No command is half-applied: each one's events are all in the log or none are,
the history's hash chain verifies over every event, and every view equals a rebuild."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.integration.faults.checks import (
    assert_chain_verifies,
    assert_views_equal_a_rebuild,
    caught_up,
    read_log,
)
from tests.integration.faults.conftest import Faulty
from tests.integration.faults.ledger import Writers, tally

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.filterwarnings("ignore::platformdirs.api.RuntimeDirWarning"),
]

# The events of an issue created in a project: all of them, or none.
CREATED = Counter({"IssueCreated": 1, "ProjectIssueAdded": 1})
ROUNDS = 6
# After the whole request, how long the client waits before hanging up: while the command is
# read, decided, waiting for its batch, and being committed.
DELAYS = (0.0, 0.002, 0.01, 0.03, 0.08)


@dataclass(frozen=True)
class Cut:
    moment: str
    correlation: uuid.UUID


def _request(service: Faulty, correlation: uuid.UUID) -> tuple[bytes, bytes]:
    """A command's head and body, as a client sends them."""
    body = json.dumps({"title": f"Cut {correlation}", "kind": "task", **service.place}).encode()
    host = urlsplit(service.stack.api_url).netloc
    head = (
        f"POST /v1/issues HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: {service.stack.headers['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"X-Correlation-ID: {correlation}\r\nIdempotency-Key: {correlation.hex}\r\n\r\n"
    ).encode()
    return head, body


def _hang_up(connection: socket.socket, *, reset: bool) -> None:
    if reset:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def _cut(service: Faulty, moment: str, send: Callable[[socket.socket, bytes, bytes], None]) -> Cut:
    correlation = uuid.uuid4()
    head, body = _request(service, correlation)
    address = urlsplit(service.stack.api_url)
    connection = socket.create_connection((address.hostname or "", address.port or 80))
    try:
        send(connection, head, body)
    finally:
        connection.close()
    return Cut(moment, correlation)


def _moments() -> dict[str, Callable[[socket.socket, bytes, bytes], None]]:
    def after_head(connection: socket.socket, head: bytes, body: bytes) -> None:
        connection.sendall(head)

    def halfway(connection: socket.socket, head: bytes, body: bytes) -> None:
        connection.sendall(head + body[: len(body) // 2])

    def half_closed(connection: socket.socket, head: bytes, body: bytes) -> None:
        connection.sendall(head + body)
        connection.shutdown(socket.SHUT_WR)

    moments: dict[str, Callable[[socket.socket, bytes, bytes], None]] = {
        "after the head": after_head,
        "halfway through the body": halfway,
        "after sending, half-closed": half_closed,
    }
    for delay in DELAYS:
        for reset in (False, True):

            def whole(
                connection: socket.socket,
                head: bytes,
                body: bytes,
                delay: float = delay,
                reset: bool = reset,
            ) -> None:
                connection.sendall(head + body)
                time.sleep(delay)
                _hang_up(connection, reset=reset)

            how = "reset" if reset else "closed"
            moments[f"{how} {delay * 1000:g} ms after the request"] = whole
    return moments


def test_commands_whose_clients_hang_up_mid_request_are_applied_whole_or_not_at_all(
    service: Faulty,
) -> None:
    stack = service.stack
    moments = _moments()
    cuts: list[Cut] = []
    lock = threading.Lock()

    def cutter() -> None:
        for _ in range(ROUNDS):
            for moment, send in moments.items():
                cut = _cut(service, moment, send)
                with lock:
                    cuts.append(cut)

    writing = Writers(stack.api_url, stack.headers, service.place, limit=200, rate=40)
    with writing as writers:
        threads = [threading.Thread(target=cutter) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        writers.finish()
    # A command whose client hung up may still be on its way to the log.
    time.sleep(1.0)
    log = read_log(service.database)
    caught_up(stack.api_url, log[-1].position, relay=True)
    entries = assert_chain_verifies(stack.api_url, stack.headers, log)
    ledger = tally(writers.commands, log)

    found: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    for event in log:
        found[event.metadata.correlation_id][event.type] += 1
    applied: Counter[str] = Counter()
    for cut in cuts:
        events = found.get(cut.correlation, Counter())
        assert events in (Counter(), CREATED), f"{cut.moment}: half-applied, {dict(events)}"
        applied[cut.moment] += events == CREATED
    stack.worker.stop()
    views = assert_views_equal_a_rebuild(service.database)

    summary = ", ".join(f"{moment} {applied[moment]}/{ROUNDS * 2}" for moment in moments)
    print(
        f"\nclients hung up on {len(cuts)} commands ({len(moments)} moments, "
        f"{ROUNDS * 2} each; applied whole: {summary}), none half-applied; beside them "
        f"{ledger.describe()}; log {entries} events, each in the verified hash chain; "
        f"{views} views equal a rebuild"
    )
