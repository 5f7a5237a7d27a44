"""A TCP proxy that puts network faults between a process and a server it depends on.

It listens on a loopback port and forwards each connection to its target (a TCP address, or a
Unix socket as the embedded PostgreSQL's), until told to misbehave:

- ``delay(seconds)``: every chunk waits that long before it is passed on, in both directions;
- ``black_hole()``: nothing passes on open connections or new ones, which stay open and silent,
  as when a network drops every packet; what was held is delivered once ``heal()`` is called,
  as TCP's retransmissions would;
- ``reset()``: every open connection is reset now (``RST`` to both ends);
- ``refuse()``: every open connection is reset and new ones are reset as they arrive, as when
  the server is down or a firewall rejects;
- ``heal()``: back to forwarding promptly.

The proxy counts what it did in ``faults``, so a test can print how many faults it injected.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

Target = tuple[str, int] | str


@dataclass(eq=False)
class _Link:
    client: socket.socket
    server: socket.socket | None = None
    closed: threading.Event = field(default_factory=threading.Event)
    # Directions still forwarding; at none, the link is done.
    open_directions: int = 2

    def reset(self) -> None:
        """Closes both ends with ``RST`` (a zero linger), as a network fault does."""
        if self.closed.is_set():
            return
        self.closed.set()
        for end in (self.client, self.server):
            if end is None:
                continue
            with contextlib.suppress(OSError):
                end.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # A thread blocked in recv keeps the socket alive through close(), so nothing would
            # reach the peer: shutting reading down first wakes it, and the close then resets.
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RD)
            end.close()


class Proxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``, with faults on demand."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.faults: Counter[str] = Counter()
        self._state = threading.Condition()
        self._latency = 0.0
        self._holding = False
        self._refusing = False
        self._stopped = False
        self._links: set[_Link] = set()
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def delay(self, seconds: float) -> None:
        with self._state:
            self._latency = seconds
            self.faults["latency"] += 1
            self._state.notify_all()

    def black_hole(self, seconds: float | None = None) -> None:
        """Holds everything; for ``seconds`` if given (so that a test expecting its client to
        give up first fails, rather than hangs, when it does not)."""
        with self._state:
            self._holding = True
            self.faults["black hole"] += 1
        if seconds is not None:
            timer = threading.Timer(seconds, self.heal)
            timer.daemon = True
            timer.start()

    def reset(self) -> None:
        with self._state:
            self.faults["reset"] += 1
        self._reset_all()

    def refuse(self) -> None:
        with self._state:
            self._refusing = True
            self.faults["refused"] += 1
        self._reset_all()

    def heal(self) -> None:
        with self._state:
            self._latency = 0.0
            self._holding = False
            self._refusing = False
            self._state.notify_all()

    def close(self) -> None:
        with self._state:
            self._stopped = True
            self._holding = False
            self._state.notify_all()
        self._listener.close()
        self._reset_all()

    def _reset_all(self) -> None:
        with self._state:
            links, self._links = self._links, set()
        for link in links:
            link.reset()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            link = _Link(client)
            with self._state:
                if self._stopped:
                    link.reset()
                    return
                if self._refusing:
                    link.reset()
                    continue
                self._links.add(link)
            threading.Thread(target=self._connect, args=(link,), daemon=True).start()

    def _connect(self, link: _Link) -> None:
        try:
            if isinstance(self.target, str):
                server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                server.connect(self.target)
            else:
                server = socket.create_connection(self.target)
                server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link.client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            self._drop(link)
            return
        link.server = server
        if link.closed.is_set():
            # Reset while connecting: the new end goes too.
            server.close()
            return
        threading.Thread(target=self._pump, args=(link, link.client, server), daemon=True).start()
        self._pump(link, server, link.client)

    def _pump(self, link: _Link, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                chunk = source.recv(65536)
                if link.closed.is_set():
                    return
                if not chunk:
                    # One side finished sending: pass its end on, and keep the other way open.
                    with contextlib.suppress(OSError):
                        sink.shutdown(socket.SHUT_WR)
                    self._finished(link)
                    return
                self._pass(chunk, sink, link)
        except OSError:
            self._drop(link)

    def _pass(self, chunk: bytes, sink: socket.socket, link: _Link) -> None:
        with self._state:
            while self._holding and not link.closed.is_set():
                self._state.wait(0.05)
            latency = self._latency
        if latency:
            time.sleep(latency)
        if link.closed.is_set():
            raise OSError("the link was reset")
        sink.sendall(chunk)

    def _finished(self, link: _Link) -> None:
        with self._state:
            link.open_directions -= 1
            done = link.open_directions == 0
            if done:
                self._links.discard(link)
        if done:
            link.closed.set()
            for end in (link.client, link.server):
                if end is not None:
                    end.close()

    def _drop(self, link: _Link) -> None:
        with self._state:
            self._links.discard(link)
        link.reset()
