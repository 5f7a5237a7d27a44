"""PostgreSQL away under write load: stopped and started again, slow, silent (a black hole), or
cutting connections. While it is away every answer is a prompt ``503`` with ``Retry-After``,
the service recovers by itself once it is back, and every command a client was told succeeded
is in the log exactly once, whole (clients retry with their ``Idempotency-Key``).

``tests/integration/test_outage.py`` checks the prompt ``503``s of ``workledger serve`` through
a short and a long outage; here the API, the views' worker and the relay are processes of their
own, and the clients keep a ledger that the log must match.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import pytest

from tests.integration.faults.checks import (
    assert_chain_verifies,
    assert_views_equal_a_rebuild,
    caught_up,
    read_log,
)
from tests.integration.faults.conftest import DATABASE_WAIT_SECONDS, Faulty
from tests.integration.faults.ledger import Attempt, Tally, Writers, tally

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.filterwarnings("ignore::platformdirs.api.RuntimeDirWarning"),
]

OUTAGES = 2
OUTAGE_SECONDS = 1.5
# Longer than the wait and its margin, so that a request waiting for it would be seen waiting.
BLACK_HOLE_SECONDS = 3.0
# What an answer may take beyond the wait: the request's own work, a command queued behind
# another that is still waiting, and a machine busy with the rest of the suite.
MARGIN_SECONDS = 1.0
RECOVERY_SECONDS = 3.0
SETTLE_SECONDS = 5.0
# Commands a second: enough for the clients to write through every fault.
RATE = 30.0
LATENCY_SECONDS = 0.02


def assert_prompt_and_unavailable(during: Sequence[Attempt], healed: float) -> None:
    """Each answer came within the wait, and was a ``503`` problem saying when to try again,
    unless the database was back by then."""
    for answer in during:
        assert answer.status != 0, answer.describe()
        # The documented exception: a command whose COMMIT went unanswered is settled by asking
        # the database what happened, for up to five seconds.
        settle = SETTLE_SECONDS if answer.code == "outcome_unknown" else 0
        bound = DATABASE_WAIT_SECONDS + settle + MARGIN_SECONDS
        assert answer.seconds <= bound, answer.describe()
        if answer.status == 503:
            assert answer.content_type == "application/problem+json", answer.describe()
            assert answer.code in ("unavailable", "outcome_unknown"), answer.describe()
            assert answer.retry_after is not None
            assert int(answer.retry_after) >= 1
        else:
            assert answer.answered >= healed, answer.describe()


def settle(service: Faulty, writers: Writers) -> tuple[Tally, int]:
    """Once the clients are done: the tally of their commands in the log, and how many events
    it holds, each with its entry in the history's hash chain, which verifies once every view
    has caught up; every view then equals a rebuild."""
    log = read_log(service.database)
    head = log[-1].position
    caught_up(service.stack.api_url, head, relay=True)
    entries = assert_chain_verifies(service.stack.api_url, service.stack.headers, log)
    statuses = Counter(a.status for a in writers.attempts)
    assert set(statuses) <= {200, 201, 503}, statuses
    ledger = tally(writers.commands, log)
    service.stack.worker.stop()
    views = assert_views_equal_a_rebuild(service.database)
    assert views > 0
    return ledger, entries


def test_postgresql_stopped_under_load_answers_503_promptly_and_every_command_lands_once(
    service: Faulty,
) -> None:
    stack = service.stack
    outages: list[tuple[float, float, float]] = []
    recoveries: list[float] = []
    with Writers(stack.api_url, stack.headers, service.place, limit=240, rate=RATE) as writers:
        writers.wait(20)
        for _ in range(OUTAGES):
            service.postgres.stop()
            down = time.monotonic()
            time.sleep(OUTAGE_SECONDS)
            restarting = time.monotonic()
            service.postgres.start()
            up = time.monotonic()
            outages.append((down, restarting, up))
            writers.wait(5, timeout=RECOVERY_SECONDS + 30)
            recoveries.append(first_success_after(writers.attempts, up) - up)
        writers.finish()
    ledger, events = settle(service, writers)

    attempts = writers.attempts
    during = [a for a in attempts if any(down <= a.sent < back for down, back, _ in outages)]
    unavailable = sum(a.status == 503 for a in during)
    assert unavailable >= OUTAGES, [a.describe() for a in during]
    for down, restarting, up in outages:
        window = [a for a in attempts if down <= a.sent < restarting]
        assert_prompt_and_unavailable(window, up)
    assert max(recoveries) <= RECOVERY_SECONDS, recoveries
    print(
        f"\nPostgreSQL stopped {OUTAGES} times for {OUTAGE_SECONDS} s: {len(during)} requests "
        f"meanwhile, {unavailable} answered 503, slowest "
        f"{max(a.seconds for a in during):.2f} s; recovered in "
        f"{', '.join(f'{s:.2f}' for s in recoveries)} s; {ledger.describe()}; "
        f"log {events} events, each in the verified hash chain; every view equals a rebuild"
    )


def first_success_after(attempts: Sequence[Attempt], moment: float) -> float:
    return min(a.answered for a in attempts if a.sent >= moment and a.status in (200, 201))


def test_a_slow_silent_or_cutting_network_to_postgresql_gives_bounded_answers_and_loses_nothing(
    service: Faulty,
) -> None:
    stack, proxy = service.stack, service.database_proxy
    faults: list[tuple[str, float, float]] = []
    with Writers(stack.api_url, stack.headers, service.place, limit=360, rate=RATE) as writers:
        writers.wait(20)
        proxy.delay(LATENCY_SECONDS)
        started = time.monotonic()
        writers.wait(20)
        proxy.heal()
        faults.append(("latency", started, time.monotonic()))
        for _ in range(2):
            proxy.black_hole()
            started = time.monotonic()
            time.sleep(BLACK_HOLE_SECONDS)
            ended = time.monotonic()
            proxy.heal()
            faults.append(("black hole", started, ended))
            writers.wait(10, timeout=RECOVERY_SECONDS + 30)
        for _ in range(3):
            proxy.reset()
            writers.wait(10, timeout=RECOVERY_SECONDS + 30)
        writers.finish()
    ledger, events = settle(service, writers)

    attempts = writers.attempts
    seen: list[str] = []
    for kind, started, ended in faults:
        window = [a for a in attempts if started <= a.sent < ended]
        if kind == "black hole":
            assert_prompt_and_unavailable(window, ended)
        else:
            # Slow, not away: answers may come late, but within the wait, or a 503 saying so.
            for answer in window:
                bound = DATABASE_WAIT_SECONDS + SETTLE_SECONDS + MARGIN_SECONDS
                assert answer.seconds <= bound, answer.describe()
        unavailable = sum(a.status == 503 for a in window)
        slowest = max(a.seconds for a in window)
        seen.append(f"{kind}: {len(window)} requests, {unavailable} 503, slowest {slowest:.2f} s")
    print(
        f"\nbetween the API and PostgreSQL, {dict(proxy.faults)}: {'; '.join(seen)}; "
        f"{ledger.describe()}; log {events} events, each in the verified hash chain; "
        "every view equals a rebuild"
    )
