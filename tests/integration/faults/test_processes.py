"""Processes killed with ``kill -9`` under write load: the views' worker and the relay, at random
moments, each started again at once. Nothing any client was told is lost or doubled, every view
equals one rebuilt from zero (now, and as of each moment a process died), and a consumer of the
topic sees every event of the log, each object's in order."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import pytest

from tests.integration.faults.checks import (
    assert_chain_verifies,
    assert_consumer_saw,
    assert_views_equal_a_rebuild,
    caught_up,
    read_log,
)
from tests.integration.faults.conftest import Faulty
from tests.integration.faults.ledger import Writers, tally

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.kafka]

COMMANDS = 300
KILLS_EACH = 3
# Commands a second: the clients write for about as long as the kills take.
RATE = 30.0


def test_a_worker_and_a_relay_killed_at_random_moments_lose_nothing_and_views_equal_a_rebuild(
    service: Faulty,
) -> None:
    stack = service.stack
    assert stack.relay is not None
    assert stack.topic is not None
    seed = random.randrange(1 << 32)
    chance = random.Random(seed)
    victims = [stack.worker] * KILLS_EACH + [stack.relay] * KILLS_EACH
    chance.shuffle(victims)
    moments: list[datetime] = []
    writing = Writers(stack.api_url, stack.headers, service.place, limit=COMMANDS, rate=RATE)
    with writing as writers:
        for victim in victims:
            time.sleep(chance.uniform(0.2, 1.5))
            victim.kill()
            moments.append(datetime.now(UTC))
            # Started again at once, so that the next kill may find it starting: a moment too.
            victim.start()
        writers.finish()
    stack.ensure_running()
    log = read_log(service.database)
    head = log[-1].position
    caught_up(stack.api_url, head, relay=True)
    entries = assert_chain_verifies(stack.api_url, stack.headers, log)
    ledger = tally(writers.commands, log)
    consumed = assert_consumer_saw(service.broker_proxy.address, stack.topic, log)
    stack.worker.stop()
    views = assert_views_equal_a_rebuild(service.database, moments)

    assert ledger.confirmed == COMMANDS
    print(
        f"\nkill -9 (seed {seed}): the worker {KILLS_EACH} times, the relay {KILLS_EACH} times; "
        f"{ledger.describe()}; log {entries} events, each in the verified hash chain; "
        f"{views} views equal a rebuild now and as of each kill; {consumed.describe()}"
    )
