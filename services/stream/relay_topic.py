"""The relay's topic on the broker: made when it is missing, and asked whether it holds anything.

A topic that holds no record at all, not even one retention has since deleted (every partition's
end offset is 0), is new to its broker, whatever the relay published to it before: the broker
lost it (a broker that keeps its records in memory, restarted; a cluster rebuilt empty) or it was
deleted and made again. What the relay had published is not there for a consumer to read.
"""

from __future__ import annotations

import logging

from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import NewTopic, OffsetSpec
from kafka.errors import TopicAlreadyExistsError

log = logging.getLogger("workledger.relay")


def prepare_topic(
    servers: list[str],
    topic: str,
    *,
    partitions: int,
    replication_factor: int,
    timeout_ms: int,
) -> bool:
    """Creates ``topic`` unless it exists; whether it holds no record at all."""
    admin = KafkaAdminClient(
        bootstrap_servers=servers,
        client_id="workledger-relay-admin",
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
    )
    try:
        try:
            admin.create_topics(
                [NewTopic(topic, partitions, replication_factor)], timeout_ms=timeout_ms
            )
            log.info(
                "created topic %s (%d partitions, replication %d)",
                topic,
                partitions,
                replication_factor,
            )
        except TopicAlreadyExistsError:
            pass
        described = admin.describe_topics([topic])
        indexes = [p["partition_index"] for d in described for p in d["partitions"]]
        ends = admin.list_partition_offsets(
            {TopicPartition(topic, index): OffsetSpec.LATEST for index in indexes},
            timeout_ms=timeout_ms,
        )
        return all(end.offset == 0 for end in ends.values())
    finally:
        admin.close()
