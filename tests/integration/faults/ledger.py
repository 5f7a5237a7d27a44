"""Clients writing through the HTTP API under faults, and the ledger of what they were answered.

Each command carries its own ``Idempotency-Key`` and ``X-Correlation-ID`` (recorded on its
events), and a client that gets no answer or a ``503`` sends it again with both, as the API asks
(docs/api.md), until it succeeds or gives up. The ledger keeps every attempt, so a test can judge
each answer (its status, its time, its ``Retry-After``), and every command that succeeded, with
the id and position it was answered, to find in the log: each exactly once, with all its events.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from uuid import UUID, uuid4

import httpx

from services.infrastructure.codec import RecordedEvent

RETRIED = (0, 503)


@dataclass(frozen=True)
class Attempt:
    """One request and what came back (status 0: no answer at all)."""

    kind: str
    sent: float
    answered: float
    status: int
    code: str | None
    retry_after: str | None
    content_type: str | None

    @property
    def seconds(self) -> float:
        return self.answered - self.sent

    def describe(self) -> str:
        return f"{self.kind} {self.status} {self.code} in {self.seconds:.2f} s"


@dataclass
class Command:
    """A command and every attempt to have it done."""

    kind: str
    method: str
    path: str
    body: dict[str, Any]
    # The types of the events it writes, sorted: all of them, once, or none.
    expected: tuple[str, ...]
    correlation: UUID = field(default_factory=uuid4)
    key: str = field(default_factory=lambda: uuid4().hex)
    attempts: list[Attempt] = field(default_factory=list)
    answer: dict[str, Any] | None = None

    @property
    def confirmed(self) -> bool:
        return self.answer is not None

    @property
    def position(self) -> int:
        assert self.answer is not None
        return int(self.answer["position"])


def attempt(client: httpx.Client, command: Command) -> Attempt:
    headers = {"Idempotency-Key": command.key, "X-Correlation-ID": str(command.correlation)}
    sent = time.monotonic()
    try:
        response = client.request(
            command.method, command.path, json=command.body or None, headers=headers
        )
    except httpx.TransportError:
        return Attempt(command.kind, sent, time.monotonic(), 0, None, None, None)
    answered = time.monotonic()
    try:
        body = response.json()
    except ValueError:
        body = {"text": response.text}
    if response.status_code in (200, 201):
        command.answer = body
    return Attempt(
        command.kind,
        sent,
        answered,
        response.status_code,
        body.get("code") if isinstance(body, dict) else None,
        response.headers.get("retry-after"),
        response.headers.get("content-type"),
    )


def perform(client: httpx.Client, command: Command, give_up: float) -> Command:
    """Sends ``command`` until it succeeds, is refused for good, or ``give_up`` seconds passed."""
    deadline = time.monotonic() + give_up
    while True:
        answer = attempt(client, command)
        command.attempts.append(answer)
        if answer.status not in RETRIED or time.monotonic() > deadline:
            return command
        time.sleep(0.05)


class Writers:
    """``count`` clients creating issues in a project, commenting on them and retitling them,
    each one command at a time, ``rate`` commands a second between them, and ``readers``
    clients listing issues, until stopped or ``limit`` commands were sent."""

    def __init__(
        self,
        base: str,
        headers: dict[str, str],
        place: dict[str, str],
        *,
        count: int = 4,
        readers: int = 1,
        limit: int = 300,
        rate: float = 50.0,
        give_up: float = 30.0,
    ) -> None:
        self._base = base
        self._headers = headers
        self._place = place
        self._limit = limit
        # Each client's time between the starts of its commands.
        self._interval = count / rate
        self._give_up = give_up
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._commands: list[Command] = []
        self._reads: list[Attempt] = []
        self._started = 0
        self._writers = [threading.Thread(target=self._write) for _ in range(count)]
        self._readers = [threading.Thread(target=self._read) for _ in range(readers)]

    def __enter__(self) -> Writers:
        for thread in self._writers + self._readers:
            thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stops the clients once each has heard the answer to its last command."""
        self._stop.set()
        threads = self._writers + self._readers
        for thread in threads:
            thread.join(timeout=self._give_up + 30)
        assert not any(thread.is_alive() for thread in threads), "a client hangs"

    def finish(self) -> None:
        """Waits until the clients have sent ``limit`` commands and heard every answer."""
        for thread in self._writers:
            thread.join(timeout=self._give_up + 60)
        self.stop()

    def wait(self, commands: int, timeout: float = 60) -> None:
        """Waits until ``commands`` more commands succeeded than have so far."""
        goal = len(self.confirmed) + commands
        deadline = time.monotonic() + timeout
        while len(self.confirmed) < goal:
            assert any(thread.is_alive() for thread in self._writers), "the clients are done"
            if time.monotonic() > deadline:
                last = [a.describe() for a in self.attempts if a.kind != "read"][-5:]
                short = goal - len(self.confirmed)
                raise AssertionError(f"{short} commands short; the last answers: {last}")
            time.sleep(0.01)

    @property
    def commands(self) -> list[Command]:
        with self._lock:
            return list(self._commands)

    @property
    def confirmed(self) -> list[Command]:
        return [command for command in self.commands if command.confirmed]

    @property
    def attempts(self) -> list[Attempt]:
        with self._lock:
            reads = list(self._reads)
        return [a for command in self.commands for a in list(command.attempts)] + reads

    def _next(self, mine: list[str], number: int) -> Command | None:
        with self._lock:
            if self._started >= self._limit:
                return None
            self._started += 1
        tag = f"{uuid4().hex[:12]}"
        if not mine or number % 3 == 0:
            body = {"title": f"Issue {tag}", "kind": "task", **self._place}
            created = ("IssueCreated", "ProjectIssueAdded")
            return Command("create", "POST", "/v1/issues", body, created)
        issue = mine[number % len(mine)]
        if number % 3 == 1:
            body = {"body": f"Comment {tag}"}
            path = f"/v1/issues/{issue}/comments"
            return Command("comment", "POST", path, body, ("IssueCommented",))
        body = {"title": f"Retitled {tag}", "description": f"Described {tag}"}
        changed = ("IssueDescriptionChanged", "IssueRetitled")
        return Command("edit", "PATCH", f"/v1/issues/{issue}", body, changed)

    def _write(self) -> None:
        mine: list[str] = []
        with httpx.Client(base_url=self._base, headers=self._headers, timeout=15) as client:
            number = 0
            started = time.monotonic()
            while not self._stop.is_set():
                command = self._next(mine, number)
                if command is None:
                    return
                number += 1
                with self._lock:
                    self._commands.append(command)
                perform(client, command, self._give_up)
                if command.kind == "create" and command.answer is not None:
                    mine.append(command.answer["id"])
                self._stop.wait(started + number * self._interval - time.monotonic())

    def _read(self) -> None:
        with httpx.Client(base_url=self._base, headers=self._headers, timeout=15) as client:
            while not self._stop.is_set():
                query = Command("read", "GET", "/v1/issues?limit=1", {}, ())
                answer = attempt(client, query)
                with self._lock:
                    self._reads.append(answer)
                self._stop.wait(0.02)


@dataclass(frozen=True)
class Tally:
    """What the log holds of the ledger's commands."""

    confirmed: int
    unconfirmed: int
    attempts: int
    lost: int
    doubled: int
    partial: int
    written_unconfirmed: int

    def describe(self) -> str:
        return (
            f"commands in the ledger {self.confirmed} (attempts {self.attempts}; "
            f"{self.unconfirmed} given up, of which {self.written_unconfirmed} written once); "
            f"lost {self.lost}, doubled {self.doubled}, half-applied {self.partial}"
        )


def tally(commands: Sequence[Command], log: Sequence[RecordedEvent]) -> Tally:
    """Finds each command's events in ``log`` by its correlation id; fails unless every command
    that succeeded is there exactly once, at the position it was answered, and every other
    command is there once or not at all, never in part."""
    found: dict[UUID, list[RecordedEvent]] = defaultdict(list)
    for event in log:
        found[event.metadata.correlation_id].append(event)
    lost = doubled = partial = written = 0
    problems: list[str] = []
    for command in commands:
        events = found.get(command.correlation, [])
        types = Counter(event.type for event in events)
        expected = Counter(command.expected)
        if not events:
            lost += command.confirmed
            if command.confirmed:
                problems.append(f"lost: {command.kind} {command.answer}")
            continue
        if types == expected:
            written += not command.confirmed
            last = max(event.position for event in events)
            if command.confirmed and last != command.position:
                problems.append(f"{command.kind} answered {command.position}, written {last}")
        elif all(types[name] >= 2 * count for name, count in expected.items()):
            doubled += 1
            problems.append(f"doubled: {command.kind} {dict(types)}")
        else:
            partial += 1
            problems.append(f"half-applied: {command.kind} {dict(types)}")
    confirmed = sum(command.confirmed for command in commands)
    result = Tally(
        confirmed=confirmed,
        unconfirmed=len(commands) - confirmed,
        attempts=sum(len(command.attempts) for command in commands),
        lost=lost,
        doubled=doubled,
        partial=partial,
        written_unconfirmed=written,
    )
    assert not problems, f"{result.describe()}: {problems[:10]}"
    return result
