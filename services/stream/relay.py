"""The Kafka relay: publishes every event of the log to a Kafka topic, in log order.

Each record is one event as a CloudEvent in structured JSON (header ``content-type:
application/cloudevents+json``), keyed by the id of the object it happened to, so each object's
events land in one partition in order. The relay reads the log a page at a time, sends a batch,
waits until the broker has acknowledged all of it (``acks=all``, idempotent producer), and only
then saves its position, in a table of its own. So it publishes every event at least once: after a
crash it resumes from its saved position and re-sends at most the batch that was unacknowledged,
and consumers deduplicate on the CloudEvent ``id``.

A broker that comes back without the topic's records (one that keeps them in memory, restarted;
a cluster rebuilt empty; the topic deleted and made again) holds none of what was published: on
finding its topic without a single record while its saved position says it published some, the
relay publishes the log again from its start, so that the topic once more holds all of it.

Order survives failures because batches go one at a time and each is small enough to travel as a
single record batch per partition, which the broker takes whole or not at all: when a send fails,
nothing later of that partition can already have landed after the gap. On any failure the relay
drops its producer, backs off, and starts again from its saved position, so a broker outage only
delays events; it never drops or reorders them.

One relay publishes a topic at a time: it holds the topic's lease (``Backend.try_lock``, which a
dead holder lets go of at once), checks it still does before each batch, and any other relay of
the topic stands by until it can take the lease. A relay that loses it mid-batch can have sent
that batch once more, as after a crash, and never moves the saved position back.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError
from kafka.partitioner import DefaultPartitioner

from contracts.cloudevents import STRUCTURED_CONTENT_TYPE
from services.infrastructure.codec import RecordedEvent
from services.infrastructure.metrics import RelayMetrics
from services.infrastructure.settings import Settings
from services.infrastructure.store import EventStore, HeldLock
from services.stream.cloudevents import CloudEventMapper
from services.stream.relay_positions import (
    Clock,
    RelayPositions,
    RelayStatus,
    relay_name,
    utc_now,
)
from services.stream.relay_topic import prepare_topic

log = logging.getLogger("workledger.relay")

Acknowledged = Callable[[Sequence[RecordedEvent]], None]

HEADERS = [("content-type", STRUCTURED_CONTENT_TYPE.encode())]
# A Kafka record batch holds at most about 1 MB; a relay batch stays under it, counting each
# record's key, value, header and framing.
RECORD_BATCH_BYTES = 1_000_000
RECORD_OVERHEAD_BYTES = 96


class _Stopping(Exception):
    """The relay was asked to stop while it waited."""


class LeaseLost(Exception):
    """The relay no longer holds its topic's lease (its database connection ended): another
    relay may be publishing, so this one stops and stands by."""


@dataclass(frozen=True)
class _Record:
    event: RecordedEvent
    key: bytes
    value: bytes

    @property
    def size(self) -> int:
        return len(self.key) + len(self.value) + RECORD_OVERHEAD_BYTES


class _KeyCachingPartitioner(DefaultPartitioner):  # type: ignore[misc]
    """The default partitioner (murmur2 of the key, as Java clients do), remembered per key.

    One object's events share a key, and hashing it in Python is a fifth of a send.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        super().__init__()
        self._capacity = capacity
        self._partitions: dict[tuple[bytes, int], int] = {}

    def partition(
        self,
        topic: str,
        key: Any,
        serialized_key: bytes,
        value: Any,
        serialized_value: bytes,
        cluster: Any,
    ) -> int:
        remembered = (serialized_key, len(cluster.partitions_for_topic(topic) or ()))
        partition = self._partitions.get(remembered)
        if partition is None:
            partition = int(
                super().partition(topic, key, serialized_key, value, serialized_value, cluster)
            )
            if len(self._partitions) >= self._capacity:
                self._partitions.clear()
            self._partitions[remembered] = partition
        return partition


class _BatchReader:
    """Reads and encodes the log ahead of the publisher in a thread of its own, so that reading
    the next batch overlaps with waiting for the broker to acknowledge the current one."""

    def __init__(self, read: Callable[[int], list[list[_Record]]], position: int) -> None:
        self._read = read
        self._batches: queue.Queue[list[_Record] | Exception] = queue.Queue(maxsize=2)
        self._closing = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(position,), name="workledger-relay-reader", daemon=True
        )
        self._thread.start()

    def next_batch(self, timeout: float) -> list[_Record] | None:
        """The next batch in log order, or ``None`` if none came within ``timeout``."""
        try:
            batch = self._batches.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(batch, Exception):
            raise batch
        return batch

    def close(self) -> None:
        self._closing.set()
        self._thread.join()

    def _run(self, position: int) -> None:
        try:
            while not self._closing.is_set():
                for batch in self._read(position):
                    self._put(batch)
                    position = batch[-1].event.position
        except Exception as error:
            # The publisher raises it in its own thread, where failures are handled.
            self._put(error)

    def _put(self, item: list[_Record] | Exception) -> None:
        while not self._closing.is_set():
            try:
                self._batches.put(item, timeout=0.5)
                return
            except queue.Full:
                continue


class Relay:
    """Follows the log and publishes each event to Kafka, at least once and in order.

    ``on_acknowledged`` is called with each batch after the broker acknowledged it and before
    the position is saved: for measurements, and to inject a crash at the worst moment in tests.
    """

    def __init__(
        self,
        store: EventStore,
        settings: Settings,
        *,
        partitions: int = 6,
        replication_factor: int = 1,
        page_size: int = 2000,
        batch_bytes: int = 900_000,
        delivery_timeout_ms: int = 15_000,
        backoff_seconds: tuple[float, float] = (0.2, 10.0),
        standby_poll_seconds: float = 1.0,
        clock: Clock = utc_now,
        on_acknowledged: Acknowledged | None = None,
        metrics: RelayMetrics | None = None,
    ) -> None:
        if not settings.kafka_bootstrap_servers:
            raise ValueError("the relay needs WORKLEDGER_KAFKA_BOOTSTRAP_SERVERS")
        if batch_bytes >= RECORD_BATCH_BYTES:
            raise ValueError(f"batch_bytes must stay under {RECORD_BATCH_BYTES}")
        self.store = store
        self.topic = settings.kafka_topic
        self.name = relay_name(self.topic)
        self._servers = [s.strip() for s in settings.kafka_bootstrap_servers.split(",")]
        self._partitions = partitions
        self._replication_factor = replication_factor
        self._page_size = page_size
        self._batch_bytes = batch_bytes
        self._delivery_timeout_ms = delivery_timeout_ms
        # delivery_timeout_ms must cover linger_ms + request_timeout_ms; linger only has to
        # outlast the appending of one batch, since every batch is flushed as soon as it is in.
        self._request_timeout_ms = delivery_timeout_ms // 3
        self._first_backoff, self._max_backoff = backoff_seconds
        self._standby_poll_seconds = standby_poll_seconds
        # Whether another relay holds the topic's lease; None until this one has asked.
        self._standby: bool | None = None
        self._clock = clock
        self._on_acknowledged = on_acknowledged
        self._metrics = metrics or RelayMetrics.detached()
        self._mapper = CloudEventMapper(store.codec)
        self._partitioner = _KeyCachingPartitioner()
        self._positions = RelayPositions(store.backend)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()
        self._reachable: bool | None = None
        self._last_error: str | None = None

    # Lifecycle

    def start(self) -> None:
        """Starts publishing in a background thread."""
        with self._lock:
            if self._thread is not None:
                return
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="workledger-relay", daemon=True)
            self._thread.start()
        log.info("relay %s: publishing to %s on %s", self.name, self.topic, self._servers)

    def stop(self, timeout: float = 30.0) -> None:
        """Stops publishing; a batch not yet acknowledged is published again next time."""
        with self._lock:
            thread, self._thread = self._thread, None
        self._stopping.set()
        if thread is not None:
            thread.join(timeout)
        self._close_producer()

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def status(self) -> RelayStatus:
        """Position, lag, broker reachability and last error, for ``workledger status``."""
        status = self._positions.status(
            self.store,
            self.name,
            self.topic,
            self._clock(),
            running=self.running,
            broker_reachable=self._reachable,
        )
        return dataclasses.replace(
            status,
            last_error=self._last_error if self._last_error is not None else status.last_error,
            standby=bool(self._standby) and self.running,
        )

    # Publishing

    def _run(self) -> None:
        backoff = self._first_backoff
        while not self._stopping.is_set():
            try:
                self._publish_until_stopped()
            except _Stopping:
                break
            except Exception as error:
                # Nothing unacknowledged was saved: starting over from the saved position
                # re-sends at most that batch.
                self._note_failure(error)
                self._close_producer()
                if self._stopping.wait(backoff):
                    break
                backoff = min(backoff * 2, self._max_backoff)
            else:
                backoff = self._first_backoff

    def _publish_until_stopped(self) -> None:
        lease = self._take_lease()
        try:
            topic_empty = self._ensure_topic()
            producer = self._connect()
            # Read only now: the position the previous holder of the lease saved last.
            reader = _BatchReader(self._read_batches, self._starting_position(topic_empty))
            try:
                while not self._stopping.is_set():
                    batch = reader.next_batch(timeout=0.5)
                    if batch is None:
                        continue
                    if not lease.held():
                        raise LeaseLost(f"the lease on topic {self.topic} was lost")
                    self._publish(producer, batch)
            finally:
                reader.close()
        finally:
            lease.release()
            self._standby = None

    def _take_lease(self) -> HeldLock:
        """The topic's lease, once no other relay holds it: one relay publishes a topic at a
        time, and the others stand by to take over the moment it stops or dies."""
        while True:
            lease = self.store.backend.try_lock(f"workledger-relay:{self.topic}")
            if lease is not None:
                if self._standby:
                    log.info("relay %s: took over publishing to %s", self.name, self.topic)
                self._standby = False
                return lease
            if not self._standby:
                log.info(
                    "relay %s: another relay publishes to %s; standing by", self.name, self.topic
                )
            self._standby = True
            if self._stopping.wait(self._standby_poll_seconds):
                raise _Stopping

    def _read_batches(self, position: int) -> list[list[_Record]]:
        """The batches of the next page after ``position``; none once the log is read."""
        events = self.store.read(position, self._page_size)
        if not events:
            self.store.wait_for_events(position, 0.5)
        return list(self._batches(events))

    def _starting_position(self, topic_empty: bool) -> int:
        saved = self._positions.load(self.name)
        if saved and topic_empty:
            log.warning(
                "relay %s: topic %s holds none of the %d events published to it (its broker "
                "lost them, or it was made again): publishing the log again from its start",
                self.name,
                self.topic,
                saved,
            )
            self._positions.restart(self.name, self._clock())
            return 0
        return saved

    def _connect(self) -> KafkaProducer:
        producer = KafkaProducer(
            bootstrap_servers=self._servers,
            client_id="workledger-relay",
            acks="all",
            enable_idempotence=True,
            max_in_flight_requests_per_connection=1,
            batch_size=RECORD_BATCH_BYTES,
            linger_ms=self._request_timeout_ms,
            request_timeout_ms=self._request_timeout_ms,
            delivery_timeout_ms=self._delivery_timeout_ms,
            max_block_ms=self._request_timeout_ms,
            bootstrap_timeout_ms=self._request_timeout_ms,
            reconnect_backoff_max_ms=1000,
            allow_auto_create_topics=False,
            partitioner=self._partitioner,
        )
        with self._lock:
            self._producer = producer
        return producer

    def _ensure_topic(self) -> bool:
        """Makes the topic if it is missing; whether it holds no record at all."""
        empty = prepare_topic(
            self._servers,
            self.topic,
            partitions=self._partitions,
            replication_factor=self._replication_factor,
            timeout_ms=self._request_timeout_ms,
        )
        self._reachable = True
        return empty

    def _batches(self, events: Sequence[RecordedEvent]) -> Iterator[list[_Record]]:
        """The page in batches of at most ``batch_bytes``: one record batch per partition."""
        batch: list[_Record] = []
        size = 0
        for event in events:
            record = _Record(event, event.stream_id_text.encode(), self._mapper.to_json(event))
            if batch and size + record.size > self._batch_bytes:
                yield batch
                batch, size = [], 0
            batch.append(record)
            size += record.size
        if batch:
            yield batch

    def _publish(self, producer: KafkaProducer, batch: list[_Record]) -> None:
        """Sends a batch and returns once the broker acknowledged all of it; saves the position."""
        started = time.perf_counter()
        futures = [
            producer.send(self.topic, value=record.value, key=record.key, headers=HEADERS)
            for record in batch
        ]
        while True:
            try:
                producer.flush(timeout=0.5)
                break
            except KafkaTimeoutError:
                if self._stopping.is_set():
                    raise _Stopping from None
        for future in futures:
            if not future.succeeded():
                error = future.exception
                raise error if isinstance(error, BaseException) else KafkaError(str(error))
        self._metrics.send_seconds.observe(time.perf_counter() - started)
        events = [record.event for record in batch]
        if self._on_acknowledged is not None:
            self._on_acknowledged(events)
        self._positions.save(self.name, events[-1].position, self._clock())
        self._reachable = True
        self._last_error = None

    def _note_failure(self, error: Exception) -> None:
        text = f"{type(error).__name__}: {error}"
        self._metrics.failures.inc()
        if isinstance(error, KafkaError):
            self._reachable = False
        self._last_error = text
        log.warning("relay %s: %s; retrying from the last acknowledged position", self.name, text)
        try:
            self._positions.record_error(self.name, text[:1000], self._clock())
        except Exception:
            log.exception("relay %s: can't record the error", self.name)

    def _close_producer(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            producer.close(timeout=0)
        except KafkaTimeoutError:
            # kafka-python refuses to close while batches still wait for the broker, and keeps
            # its network thread: close it once they have expired, without holding up the relay.
            threading.Thread(
                target=producer.close,
                kwargs={"timeout": self._delivery_timeout_ms / 1000 + 1},
                name="workledger-relay-close",
                daemon=True,
            ).start()
