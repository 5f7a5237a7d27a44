"""The README's first session, pasted into bash against a real ``workledger serve``, does what the
README says it does.

The session is the ``sh`` block between ``<!-- walkthrough -->`` and ``<!-- /walkthrough -->``.
A line of it that is only a comment shows what the commands above it print: each piece between
``…`` (what is left out) must appear, in that order, in what they printed since the last such
comment. Explanations go at the end of a command's line instead.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
WALKTHROUGH = re.compile(
    r"<!-- walkthrough -->\n```sh\n(?P<script>.*?)```\n<!-- /walkthrough -->", re.DOTALL
)
# Printed between the commands of one comment and the next, so each comment is checked against
# what its own commands printed.
MARK = "@@ walkthrough mark @@"
START_SECONDS = 30.0


@dataclass(frozen=True)
class Step:
    """Lines of the walkthrough, and what the comment after them says they print."""

    commands: list[str]
    shown: list[str]


def walkthrough() -> str:
    found = WALKTHROUGH.search(README.read_text())
    assert found, "README.md has no ```sh block between <!-- walkthrough --> markers"
    return found["script"]


def steps(script: str) -> list[Step]:
    """The script cut after each run of whole-line comments (what the lines before print)."""
    cut: list[Step] = [Step([], [])]
    for line in script.splitlines():
        if line.startswith("#"):
            cut[-1].shown.append(line.removeprefix("#").strip())
        else:
            if cut[-1].shown:
                cut.append(Step([], []))
            cut[-1].commands.append(line)
    return cut


def marked(script_steps: list[Step]) -> str:
    """The script, printing ``MARK`` where each shown output ends."""
    lines: list[str] = []
    for step in script_steps:
        lines += step.commands
        if step.shown:
            lines.append(f"echo '{MARK}'")
    return "\n".join(lines) + "\n"


def unmet(shown: str, printed: str) -> str | None:
    """The first piece of ``shown`` (split at ``…``) not found, in order, in ``printed``."""
    at = 0
    for piece in filter(None, shown.split("…")):
        found = printed.find(piece, at)
        if found < 0:
            return piece
        at = found + len(piece)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Serving:
    url: str
    token: str
    env: dict[str, str]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serving]:
    """``workledger serve`` as ``make run`` starts it, on a fresh data directory holding a demo
    organisation and a free port, once it answers the token it printed."""
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("WORKLEDGER_")}
    env |= {
        "WORKLEDGER_DATA_DIR": str(tmp_path / "data"),
        "WORKLEDGER_HOST": "127.0.0.1",
        "WORKLEDGER_PORT": str(port),
    }
    output = tmp_path / "serve.log"
    # As `make run` does, a demo organisation first (smaller here, to be quick).
    subprocess.run(
        [sys.executable, "-m", "services.cli", "demo", "--if-empty", "--scale", "0.02"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve"],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/v1"
        token = _printed_token(output, process)
        # A person pastes the session seconds after the token appears; here, wait until the
        # service answers it (the token's member is in the queue view by then).
        deadline = time.monotonic() + START_SECONDS
        headers = {"Authorization": f"Bearer {token}"}
        while True:
            try:
                if httpx.get(f"{url}/views/queue/me", headers=headers).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, output.read_text(errors="replace")
            assert time.monotonic() < deadline, output.read_text(errors="replace")
            time.sleep(0.05)
        yield Serving(url, token, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _printed_token(output: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        for line in output.read_text(errors="replace").splitlines():
            if line.startswith("workledger: admin token"):
                return line.split()[-1]
        assert process.poll() is None, output.read_text(errors="replace")
        time.sleep(0.05)
    raise AssertionError(f"workledger serve printed no admin token:\n{output.read_text()}")


def test_the_walkthrough_shows_the_key_the_queue_the_workload_the_history_and_a_412() -> None:
    script = walkthrough()
    shown = "\n".join(line for step in steps(script) for line in step.shown)

    assert '"key":"PAY-1"' in shown
    assert '"status":412' in shown
    for query in ("/views/queue/me", "/views/workload/", "/history?object_id="):
        assert query in script, query
    assert "min_position=$POS" in script
    assert "If-Match" in script


def test_the_readmes_first_session_runs_against_workledger_serve_and_prints_what_it_shows(
    serve: Serving,
) -> None:
    script_steps = steps(walkthrough())
    # ``python3`` is this interpreter, as on a machine where ``make run`` works.
    path = f"{Path(sys.executable).parent}{os.pathsep}{serve.env.get('PATH', '')}"
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", marked(script_steps)],
        env={**serve.env, "PATH": path, "WL": serve.url, "TOKEN": serve.token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert ran.returncode == 0, f"exit {ran.returncode}\n{ran.stdout}\n{ran.stderr}"
    printed = ran.stdout.split(MARK)
    with_output = [step for step in script_steps if step.shown]
    assert len(printed) == len(with_output) + 1, ran.stdout
    for step, output in zip(with_output, printed, strict=False):
        for line in step.shown:
            missing = unmet(line, output)
            assert missing is None, (
                f"the README shows {line!r} after {step.commands[-1]!r}, but {missing!r} is not "
                f"in what it printed:\n{output}"
            )
