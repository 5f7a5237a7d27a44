"""The soak's parts: the organisation it works in, the mix of commands and queries it sends, what
it samples of the processes meanwhile, and its table of one row per period.

The load is open loop (``tests/benchmarks/loadgen.py``'s ``run_paced``): each request leaves at
its scheduled moment whatever the earlier ones did, and its latency runs from that moment, so a
stall shows as the queue it makes instead of slowing the load down.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import orjson

from tests.benchmarks.loadgen import Request, run_paced, send_all

HOST = "127.0.0.1"
CONNECTIONS = 64
TEAMS = 4
MEMBERS_PER_TEAM = 8
# One request in four is a query: 300 commands/s come with 100 queries/s.
QUERY_EVERY = 4
# An issue takes about this many commands in its life (tens of events, as a real issue has):
# one command in this many creates an issue, and the seeded issues are as many as give each
# about this many of the run's other commands (rather than a few streams growing all run).
COMMANDS_PER_ISSUE = 25
# Four kinds of command take turns over a connection's issues; with an odd count of issues,
# every issue meets every kind.
WORK_KINDS = 4
CYCLE = ("todo", "in_progress", "in_review", "done", "todo")
SAMPLE_SECONDS = 1.0
MB = 1024 * 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass(frozen=True)
class Team:
    id: str
    project_id: str
    member_ids: list[str]


@dataclass(frozen=True)
class Workload:
    """The organisation the soak works in; each connection has issues of its own (with their
    team's index), so that its commands, answered in order, stay valid."""

    teams: list[Team]
    issues: list[list[tuple[str, int]]]


def issues_per_connection(rate: float, seconds: float) -> int:
    commands = rate * seconds / CONNECTIONS * (COMMANDS_PER_ISSUE - 1) / COMMANDS_PER_ISSUE
    count = max(5, math.ceil(commands / COMMANDS_PER_ISSUE))
    return count + 1 if count % 2 == 0 else count


def _post(path: str, body: dict[str, Any]) -> Request:
    return "POST", path, orjson.dumps(body)


def _member(team: int, number: int, team_id: str) -> dict[str, Any]:
    return {
        "name": f"Member {team}.{number}",
        "email": f"soak{team}-{number}-{uuid4().hex[:6]}@example.com",
        "role": "member",
        "weekly_capacity": 10,
        "team_ids": [team_id],
    }


def _project(team: int, team_id: str, owner_id: str) -> dict[str, Any]:
    start = date.today()
    return {
        "name": f"Soak project {team}",
        "key": f"SOAK{team}",
        "owner_id": owner_id,
        "team_id": team_id,
        "start_date": start.isoformat(),
        "target_date": (start + timedelta(days=90)).isoformat(),
    }


def _issue(title: str, kind: str, team: Team) -> Request:
    body = {"title": title, "kind": kind, "team_id": team.id, "project_id": team.project_id}
    return _post("/v1/issues", body)


def seed(port: int, token: str, per_connection: int) -> Workload:
    """Teams with members and a project each, then every connection's issues, over HTTP."""

    def created(batches: list[list[Request]]) -> list[list[str]]:
        """The ids created, batch by batch (see ``send_all``)."""
        ids = []
        for answers in send_all(HOST, port, token, batches):
            for status, body in answers:
                assert status == 201, f"seeding was refused: {status} {body[:500]!r}"
            ids.append([orjson.loads(body)["id"] for _, body in answers])
        return ids

    numbers = range(TEAMS)
    team_ids = [
        i[0] for i in created([[_post("/v1/teams", {"name": f"Soak {t}"})] for t in numbers])
    ]
    members = created(
        [
            [_post("/v1/members", _member(t, n, team_ids[t])) for n in range(MEMBERS_PER_TEAM)]
            for t in numbers
        ]
    )
    projects = created(
        [[_post("/v1/projects", _project(t, team_ids[t], members[t][0]))] for t in numbers]
    )
    teams = [Team(team_ids[t], projects[t][0], members[t]) for t in numbers]
    placed = [[(c + n) % TEAMS for n in range(per_connection)] for c in range(CONNECTIONS)]
    issues = created(
        [
            [_issue(f"Issue {c}.{n}", "task", teams[t]) for n, t in enumerate(placed[c])]
            for c in range(CONNECTIONS)
        ]
    )
    return Workload(teams, [list(zip(ids, placed[c], strict=True)) for c, ids in enumerate(issues)])


def _commands(workload: Workload, connection: int) -> Iterator[Request]:
    """Transitions, comments, edits and assignments of the connection's issues, and now and then
    a new issue; each command writes at least one event."""
    issues = workload.issues[connection]
    step = [0] * len(issues)
    edits = [0] * len(issues)
    assignee = [connection % MEMBERS_PER_TEAM] * len(issues)
    work = 0
    for turn in itertools.count():
        if turn % COMMANDS_PER_ISSUE == COMMANDS_PER_ISSUE - 1:
            team = workload.teams[(connection + turn) % TEAMS]
            yield _issue(f"Follow-up {connection}.{turn}", "bug", team)
            continue
        n, kind = work % len(issues), work % WORK_KINDS
        work += 1
        issue_id, team_index = issues[n]
        if kind == 0:
            status = CYCLE[step[n]]
            step[n] = step[n] + 1 if step[n] + 1 < len(CYCLE) else 1
            yield "POST", f"/v1/issues/{issue_id}/transition", orjson.dumps({"status": status})
        elif kind == 1:
            body = {"body": f"progress note {turn}"}
            yield "POST", f"/v1/issues/{issue_id}/comments", orjson.dumps(body)
        elif kind == 2:
            edits[n] += 1
            priority = ("high", "low")[edits[n] % 2]
            yield "PATCH", f"/v1/issues/{issue_id}", orjson.dumps({"priority": priority})
        else:
            # The next member along: never the one already assigned, so never a no-op.
            assignee[n] = (assignee[n] + 1) % MEMBERS_PER_TEAM
            member = workload.teams[team_index].member_ids[assignee[n]]
            yield "POST", f"/v1/issues/{issue_id}/assign", orjson.dumps({"assignee_id": member})


def _queries(workload: Workload, connection: int) -> Iterator[Request]:
    """What people look at while others work: an issue, a queue, a team's workload and history,
    a list, the portfolio."""
    issues = workload.issues[connection]
    for turn in itertools.count():
        issue_id, team_index = issues[turn % len(issues)]
        team = workload.teams[team_index]
        member = team.member_ids[turn % MEMBERS_PER_TEAM]
        paths = (
            f"/v1/issues/{issue_id}",
            f"/v1/views/queue/{member}",
            f"/v1/views/workload/{team.id}",
            f"/v1/history?team_id={team.id}&newest_first=true&limit=50",
            f"/v1/issues?team_id={team.id}&limit=50",
            "/v1/views/portfolio",
        )
        yield "GET", paths[(turn + connection) % len(paths)], b""


def requests(workload: Workload, connection: int) -> Iterator[Request]:
    """The connection's requests: three commands, then a query, and again."""
    commands, queries = _commands(workload, connection), _queries(workload, connection)
    for turn in itertools.count():
        yield next(queries) if turn % QUERY_EVERY == QUERY_EVERY - 1 else next(commands)


@dataclass(frozen=True)
class Answer:
    """One answered request: whether a command and whether one that creates an issue, when it
    was due (seconds after the run began), its latency from then, its status, and for a command
    the log position it wrote."""

    command: bool
    creates_issue: bool
    due: float
    latency: float
    status: int
    position: int | None


@dataclass(frozen=True)
class Run:
    started_at: float
    answers: list[Answer]
    # The CPU time the load generator's process took, in seconds.
    cpu: float


def drive(port: int, token: str, workload: Workload, rate: float, seconds: float) -> Run:
    """The paced load, run in a process of its own; ``rate`` counts commands alone."""
    answers: list[Answer] = []

    def note(request: Request, due: float, latency: float, status: int, body: bytes) -> None:
        command, creates_issue = request[0] != "GET", request[:2] == ("POST", "/v1/issues")
        position = orjson.loads(body)["position"] if command and status in (200, 201) else None
        answers.append(Answer(command, creates_issue, due, latency, status, position))

    total = rate * QUERY_EVERY / (QUERY_EVERY - 1)

    def source(connection: int) -> Iterator[Request]:
        return requests(workload, connection)

    result = run_paced(HOST, port, token, source, CONNECTIONS, total, seconds, note)
    return Run(result.started_at, answers, time.process_time())


@dataclass(frozen=True)
class Sample:
    at: float
    rss: dict[str, int]
    # Each process's CPU time so far, and the machine's, busy and in all (``/proc``, in ticks):
    # what the soak shares its cores with shows in the machine's busy share.
    cpu: dict[str, int]
    busy: int
    ticks: int
    ready: int | None
    lag: float | None


PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _machine() -> tuple[int, int]:
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command's name (which may hold spaces)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _children(parent: int) -> list[int]:
    """The processes ``parent`` started to serve requests (its multiprocessing children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and int(fields[1]) == parent:
            try:
                if b"spawn_main" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return sorted(found)


@dataclass
class Sampler:
    """Each second: the resident memory and CPU time of the API's parent, of each API process
    and of the worker, from ``/proc``; and ``/readyz``, its status and the most any view lags."""

    api_base: str
    api_pid: int
    worker_pid: int
    samples: list[Sample] = field(default_factory=list)
    # Every API process seen, by pid: a third would mean one was replaced.
    labels: dict[int, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        with httpx.Client(base_url=self.api_base, timeout=5) as http:
            while not self._stop.wait(SAMPLE_SECONDS):
                self.samples.append(self._sample(http))

    def _sample(self, http: httpx.Client) -> Sample:
        pids = {"api": self.api_pid, "worker": self.worker_pid}
        for child in _children(self.api_pid):
            pids[self.labels.setdefault(child, f"api-{len(self.labels) + 1}")] = child
        rss, cpu = {}, {}
        for label, pid in pids.items():
            if (fields := _stat(pid)) is not None:
                # utime and stime are fields 14 and 15 of the line, rss (in pages) field 24.
                cpu[label] = int(fields[11]) + int(fields[12])
                rss[label] = int(fields[21]) * PAGE
        at, (busy, ticks) = time.time(), _machine()
        try:
            answer = http.get("/readyz")
        except httpx.HTTPError:
            return Sample(at, rss, cpu, busy, ticks, None, None)
        views = answer.json().get("views", {}) if answer.status_code == 200 else {}
        lag = max((view["lag_seconds"] for view in views.values()), default=None)
        return Sample(at, rss, cpu, busy, ticks, answer.status_code, lag)

    def cores(self, start: float, end: float) -> dict[str, float]:
        """The cores each process kept busy on average from ``start`` to ``end``."""
        during = [s for s in self.samples if start <= s.at <= end]
        if len(during) < 2:
            return {}
        first, last = during[0], during[-1]
        seconds = (last.at - first.at) * TICKS_PER_SECOND
        return {
            label: (last.cpu[label] - first.cpu[label]) / seconds
            for label in last.cpu
            if label in first.cpu
        }


@dataclass(frozen=True)
class Period:
    """One row of the table: the requests due in one period and what was sampled during it."""

    commands: list[float]
    queries: list[float]
    errors: int
    lag: float | None
    rss: dict[str, int]
    busy: float | None

    def p99(self, command: bool) -> float:
        return percentile(self.commands if command else self.queries, 0.99) * 1000


def periods(run: Run, samples: list[Sample], seconds: float, length: float) -> list[Period]:
    count = max(1, round(seconds / length))
    rows = []
    for index in range(count):
        due = [a for a in run.answers if index * length <= a.due < (index + 1) * length]
        ok = [a for a in due if a.status in ((200, 201) if a.command else (200,))]
        start, end = run.started_at + index * length, run.started_at + (index + 1) * length
        during = [s for s in samples if start <= s.at < end]
        lags = [s.lag for s in during if s.lag is not None]
        ticks = during[-1].ticks - during[0].ticks if len(during) > 1 else 0
        rows.append(
            Period(
                commands=[a.latency for a in ok if a.command],
                queries=[a.latency for a in ok if not a.command],
                errors=len(due) - len(ok),
                lag=max(lags) if lags else None,
                # Memory as it stood at the period's end: its last sample.
                rss=during[-1].rss if during else {},
                busy=(during[-1].busy - during[0].busy) / ticks if ticks else None,
            )
        )
    return rows


def table(rows: list[Period], length: float, processes: list[str]) -> str:
    """One line per period: commands and queries answered, their p50 and p99 in ms, errors, the
    most a view lagged, how busy the machine's cores were, and each process's resident memory in
    MB at the period's end."""
    head = (
        f"{'until':>6} {'cmds':>6} {'p50':>6} {'p99':>6} {'qrys':>5} {'p50':>6} {'p99':>6}"
        f" {'errs':>4} {'lag s':>5} {'cpu':>4}" + "".join(f" {name:>7}" for name in processes)
    )
    lines = [head]
    for index, row in enumerate(rows):
        lag = f"{row.lag:>5.2f}" if row.lag is not None else f"{'-':>5}"
        busy = f"{row.busy:>4.0%}" if row.busy is not None else f"{'-':>4}"
        memory = "".join(
            f" {row.rss[name] / MB:>7.1f}" if name in row.rss else f" {'-':>7}"
            for name in processes
        )
        lines.append(
            f"{(index + 1) * length:>5.0f}s {len(row.commands):>6}"
            f" {percentile(row.commands, 0.5) * 1000:>6.1f} {row.p99(command=True):>6.1f}"
            f" {len(row.queries):>5} {percentile(row.queries, 0.5) * 1000:>6.1f}"
            f" {row.p99(command=False):>6.1f} {row.errors:>4} {lag} {busy}{memory}"
        )
    return "\n".join(lines)
