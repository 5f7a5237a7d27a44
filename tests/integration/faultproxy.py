"""A TCP proxy that breaks PostgreSQL connections at chosen moments of a transaction's commit.

It sits between the service and the database and watches what clients send. When a connection
that wrote to the log since its last commit sends ``COMMIT``, the proxy may cut it:

- ``before_commit``: the ``COMMIT`` is never delivered, so the server rolls the transaction back;
- ``after_commit``: the ``COMMIT`` is delivered and the server's reply is read and thrown away,
  so the transaction is written but the client never hears so;
- ``after_reply``: the reply is delivered, then the connection is cut under the client's feet.

Which commits are cut is decided by ``cut_every`` (every n-th commit that wrote events), cycling
through the chosen moments, so a run under load meets each of them many times.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Moment = Literal["before_commit", "after_commit", "after_reply"]
MOMENTS: tuple[Moment, ...] = ("before_commit", "after_commit", "after_reply")

_COMMIT = b"COMMIT\x00"
_WRITES_EVENTS = b"INSERT INTO workledger_events"


@dataclass
class _Link:
    client: socket.socket
    server: socket.socket
    wrote: bool = False
    # Set while a commit's reply is awaited that must be dropped or followed by a cut.
    cut_at_reply: Moment | None = None
    closed: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        self.closed.set()
        for end in (self.client, self.server):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


class FaultProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``, cutting some commits as configured."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._commits = 0
        self._cut_every = 0
        self._moments: itertools.cycle[Moment] = itertools.cycle(MOMENTS)
        self.cuts: Counter[Moment] = Counter()
        self._links: list[_Link] = []
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, name="faultproxy-accept", daemon=True).start()

    def cut_commits(self, every: int, moments: Sequence[Moment] = MOMENTS) -> None:
        """From now on, cuts every ``every``-th commit that wrote events (0: none)."""
        with self._lock:
            self._cut_every = every
            self._commits = 0
            self._moments = itertools.cycle(moments)

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            for end in (client, server):
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client, server)
            with self._lock:
                self._links.append(link)
            threading.Thread(target=self._upstream, args=(link,), daemon=True).start()
            threading.Thread(target=self._downstream, args=(link,), daemon=True).start()

    def _decide_cut(self, link: _Link, chunk: bytes) -> Moment | None:
        if _WRITES_EVENTS in chunk:
            link.wrote = True
        if _COMMIT not in chunk or not link.wrote:
            return None
        link.wrote = False
        with self._lock:
            if not self._cut_every:
                return None
            self._commits += 1
            if self._commits % self._cut_every:
                return None
            moment = next(self._moments)
            self.cuts[moment] += 1
            return moment

    def _upstream(self, link: _Link) -> None:
        try:
            while True:
                chunk = link.client.recv(65536)
                if not chunk:
                    break
                moment = self._decide_cut(link, chunk)
                if moment == "before_commit":
                    break
                if moment is not None:
                    link.cut_at_reply = moment
                link.server.sendall(chunk)
        except OSError:
            pass
        link.close()

    def _downstream(self, link: _Link) -> None:
        try:
            while True:
                chunk = link.server.recv(65536)
                if not chunk:
                    break
                moment, link.cut_at_reply = link.cut_at_reply, None
                if moment == "after_commit":
                    break
                link.client.sendall(chunk)
                if moment == "after_reply":
                    break
        except OSError:
            pass
        link.close()
