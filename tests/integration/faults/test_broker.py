"""The broker away under write load: out of reach, slow or silent between the relay and it, or
stopped and started again. Commands go on meanwhile, the relay catches up by itself once the
broker is back, and a consumer reading the topic from its start sees every event of the log
(after dropping what it saw before, by CloudEvent ``id``), each object's in log order.

The broker here keeps its records in memory: stopped, it loses them, and comes back without the
topic. The relay then publishes the log again from its start, as into a new topic, rather than
go on from where it was and leave a topic that begins halfway through the log.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.integration.faults.checks import (
    Consumed,
    assert_consumer_saw,
    caught_up,
    read_log,
    relay_position,
)
from tests.integration.faults.conftest import Faulty
from tests.integration.faults.ledger import Tally, Writers, tally

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.kafka,
    pytest.mark.filterwarnings("ignore::platformdirs.api.RuntimeDirWarning"),
]

OUTAGE_SECONDS = 2.5
# Commands a second: enough for the clients to write through every fault.
RATE = 30.0
LATENCY_SECONDS = 0.05
# Longer than the relay waits for the broker's answer (5 s): it gives up on the batch it sent and
# sends it again, while the first copy is still held, to be delivered once the network heals.
BLACK_HOLE_SECONDS = 6.0
# The relay backs off up to 10 s between attempts, and a request it sent into silence waits
# 5 s for its answer: catching up after a fault takes up to about that.
CATCH_UP_SECONDS = 30.0


def published(service: Faulty, writers: Writers) -> tuple[Tally, Consumed, float]:
    """Once the clients are done: the tally of their commands, what a consumer of the topic
    saw, and how long the relay took to publish the log's last event."""
    done = time.monotonic()
    log = read_log(service.database)
    caught_up(service.stack.api_url, log[-1].position, relay=True, timeout=CATCH_UP_SECONDS)
    seconds = time.monotonic() - done
    assert service.stack.topic is not None
    consumed = assert_consumer_saw(service.broker_proxy.address, service.stack.topic, log)
    return tally(writers.commands, log), consumed, seconds


def during(
    writers: Writers,
    fault: Callable[[], None],
    heal: Callable[[], None],
    seconds: float = OUTAGE_SECONDS,
) -> None:
    """Injects ``fault`` for ``seconds`` while the clients write, and heals it."""
    writers.wait(10)
    fault()
    time.sleep(seconds)
    heal()
    writers.wait(10)


def test_a_broker_out_of_reach_slow_or_silent_delays_the_topic_but_loses_or_reorders_nothing(
    service: Faulty,
) -> None:
    stack, proxy = service.stack, service.broker_proxy
    writing = Writers(stack.api_url, stack.headers, service.place, limit=360, rate=RATE / 1.5)
    with writing as writers:
        during(writers, proxy.refuse, proxy.heal)
        during(writers, lambda: proxy.delay(LATENCY_SECONDS), proxy.heal)
        during(writers, proxy.black_hole, proxy.heal, BLACK_HOLE_SECONDS)
        writers.finish()
    ledger, consumed, seconds = published(service, writers)

    print(
        f"\nbetween the relay and the broker, {dict(proxy.faults)} ({OUTAGE_SECONDS:g} s, the "
        f"black hole {BLACK_HOLE_SECONDS:g} s): "
        f"{ledger.describe()}; the relay caught up {seconds:.1f} s after the last command; "
        f"{consumed.describe()}"
    )


def test_a_broker_stopped_and_started_empty_gets_the_whole_log_again_in_order(
    service: Faulty,
) -> None:
    stack = service.stack
    assert stack.topic is not None
    lost: list[int] = []
    writing = Writers(stack.api_url, stack.headers, service.place, limit=240, rate=RATE)
    with writing as writers:
        for _ in range(2):
            writers.wait(20)
            # The broker holds the log up to here, and then loses it.
            caught_up(stack.api_url, read_log(service.database)[-1].position, relay=True)
            service.broker.stop()
            lost.append(relay_position(service.database, stack.topic))
            time.sleep(OUTAGE_SECONDS)
            service.broker.start()
        writers.finish()
    ledger, consumed, seconds = published(service, writers)

    print(
        f"\nthe broker stopped {len(lost)} times, losing the topic's records up to positions "
        f"{', '.join(map(str, lost))}: {ledger.describe()}; the relay published the whole log "
        f"again, caught up {seconds:.1f} s after the last command; {consumed.describe()}"
    )
