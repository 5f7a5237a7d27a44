"""The Kafka consumer of docs/events.md: a consumer group that handles each event once.

The relay delivers at least once, so an event can arrive again after a crash or an outage; the
event's ``id`` never changes, so remembering the ids handled makes handling exactly-once. Keep
``seen`` where ``handle`` writes (the same database transaction) to survive restarts.
"""

from collections.abc import Callable, MutableSet
from typing import Any

from kafka import JsonSerializer, KafkaConsumer


def consume(
    handle: Callable[[dict[str, Any]], None],
    seen: MutableSet[str],
    keep_going: Callable[[], bool],
    bootstrap_servers: str = "localhost:9092",
    topic: str = "workledger.events",
    group_id: str = "invoicing",
    **options: Any,
) -> None:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,  # the group's members share the partitions
        auto_offset_reset="earliest",  # a new group starts from the first event
        enable_auto_commit=False,  # commit offsets only for handled events
        value_deserializer=JsonSerializer(),  # each value is a CloudEvent in JSON
        **options,
    )
    try:
        while keep_going():
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:  # one object's events arrive in order
                    event = record.value
                    if event["id"] not in seen:  # a redelivery is skipped
                        handle(event)
                        seen.add(event["id"])
            consumer.commit()
    finally:
        consumer.close()
