"""A small HTTP/1.1 load generator: keep-alive connections, one request in flight each, either
closed loop (each connection sends as soon as its last answer came) or paced (open loop).

It runs in a process of its own so its work does not share the server's interpreter lock, and
it speaks raw HTTP over asyncio streams because general-purpose clients cost more per request
than the server under test.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

Request = tuple[str, str, bytes]
RequestSource = Callable[[int], Iterator[Request]]
# What a paced run tells its caller of each answer: the request, when it was due (seconds after
# the run's start), its latency from that moment, its status and its body.
Note = Callable[[Request, float, float, int, bytes], None]


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    elapsed: float = 0.0
    # When a paced run's first request was due, on the wall clock (``time.time()``), so that
    # what others sampled meanwhile lines up with its schedule.
    started_at: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length) if length else b""


def _prefix(host: str, token: str) -> str:
    """The headers every request of a run carries."""
    return f"Host: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"


def _encode(prefix: str, method: str, path: str, body: bytes) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\n{prefix}Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _connection(
    host: str,
    port: int,
    token: str,
    requests: Iterator[Request],
    deadline: float,
    result: LoadResult,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    prefix = _prefix(host, token)
    try:
        for method, path, body in requests:
            if time.perf_counter() >= deadline:
                break
            started = time.perf_counter()
            writer.write(_encode(prefix, method, path, body))
            status, _ = await _read_response(reader)
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] += 1
    finally:
        writer.close()


def run_load(
    host: str,
    port: int,
    token: str,
    source: RequestSource,
    connections: int,
    seconds: float,
) -> LoadResult:
    """Drives ``connections`` connections for ``seconds``, each taking requests from ``source``."""
    result = LoadResult()

    async def main() -> None:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _connection(host, port, token, source(index), deadline, result)
                for index in range(connections)
            )
        )
        result.elapsed = time.perf_counter() - started

    asyncio.run(main())
    return result


def send_all(
    host: str, port: int, token: str, batches: Sequence[Sequence[Request]]
) -> list[list[tuple[int, bytes]]]:
    """Sends every batch at once, each over a connection of its own one request at a time (so
    its requests are answered in order); each answer's status and body, batch by batch."""

    async def batch(requests: Sequence[Request]) -> list[tuple[int, bytes]]:
        reader, writer = await asyncio.open_connection(host, port)
        prefix = _prefix(host, token)
        try:
            answers = []
            for request in requests:
                writer.write(_encode(prefix, *request))
                answers.append(await _read_response(reader))
            return answers
        finally:
            writer.close()

    async def main() -> list[list[tuple[int, bytes]]]:
        return list(await asyncio.gather(*(batch(requests) for requests in batches)))

    return asyncio.run(main())


def run_paced(
    host: str,
    port: int,
    token: str,
    source: RequestSource,
    connections: int,
    rate: float,
    seconds: float,
    note: Note | None = None,
) -> LoadResult:
    """Open loop at ``rate`` requests/s for ``seconds``: request ``n`` is due at
    ``start + n / rate``, round robin over the connections; ``note`` hears of each answer.

    A request's latency runs from the moment it was due, not from when it left: a connection
    still waiting on a slow answer sends its next request late, and that wait is the server's
    doing, so it counts (otherwise a slow server would slow the load and hide its own queueing).
    """
    result = LoadResult()

    async def connection(index: int, start: float) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        prefix = _prefix(host, token)
        try:
            for turn, request in enumerate(source(index)):
                due = start + (turn * connections + index) / rate
                if due >= start + seconds:
                    break
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(_encode(prefix, *request))
                status, answer = await _read_response(reader)
                latency = time.perf_counter() - due
                result.latencies.append(latency)
                result.statuses[status] += 1
                if note is not None:
                    note(request, due - start, latency, status, answer)
        finally:
            writer.close()

    async def main() -> None:
        start = time.perf_counter() + 0.2
        result.started_at = time.time() + 0.2
        await asyncio.gather(*(connection(index, start) for index in range(connections)))
        result.elapsed = time.perf_counter() - start

    asyncio.run(main())
    return result
