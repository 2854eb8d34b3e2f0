"""``heatcore watch --kafka BOOTSTRAP --topic T --vault URL``: a confluent-kafka consumer of the
Kerberos Vault messages (``pip install heatcore[kafka]``).

Offsets are committed by hand (``enable.auto.commit=false``), synchronously, and only after the
ledger checkpoint holding the message's recording is on disk: a crash before the commit makes
Kafka redeliver the message, and the ledger then skips the key it already counted. Messages that
are not valid JSON or lack fields are reported and skipped (their offset committed); broker
errors are logged and the consumer reconnects with backoff (librdkafka retries by itself; a
fatal error recreates the consumer).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from ..limits import clip, json_loads

if TYPE_CHECKING:
    from . import Watcher
    from .vault import VaultClient

__all__ = ["parse_message", "watch_kafka", "consumer_config"]

log = logging.getLogger("heatcore.ingest")


def parse_message(value: bytes | str | None) -> dict[str, Any]:
    """The Kerberos Vault message as ``{"key", "provider", "file_size", "metadata", "date"}``;
    raises ValueError naming what is wrong."""
    if value is None:
        raise ValueError("empty Kafka message")
    try:
        msg = json_loads(value, what="Kafka message")
    except ValueError as exc:
        raise ValueError(f"the Kafka message is not valid JSON: {clip(str(exc), 200)}") from None
    if not isinstance(msg, dict):
        raise ValueError(f"the Kafka message is not a JSON object: {clip(repr(msg), 80)}")
    payload = msg.get("payload")
    if not isinstance(payload, dict):
        raise ValueError("the Kafka message has no 'payload' object")
    key = payload.get("key")
    if not isinstance(key, str) or not key.strip():
        raise ValueError("the Kafka message has no 'payload.key' (the recording's file name)")
    source = msg.get("source", msg.get("provider"))
    if not isinstance(source, str) or not source:
        raise ValueError(f"the Kafka message for {clip(key, 200)} has no 'source' (storage provider)")
    size = payload.get("fileSize")
    if size is not None:
        if isinstance(size, str) and size.isdigit():
            size = int(size)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"payload.fileSize of {clip(key, 200)} is not a byte count: {clip(repr(size), 40)}")
    meta = payload.get("metadata") or {}
    if not isinstance(meta, dict):
        raise ValueError(f"payload.metadata of {clip(key, 200)} is not an object")
    date = msg.get("date")
    return {"key": key, "provider": source, "file_size": size, "metadata": meta,
            "date": float(date) if isinstance(date, (int, float)) and not isinstance(date, bool) else None}


def consumer_config(bootstrap: str, group: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The consumer settings: manual offset commits, earliest offset for a new group,
    reconnect backoff; ``options`` (librdkafka names) override."""
    conf: dict[str, Any] = {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                            "enable.auto.offset.store": False, "auto.offset.reset": "earliest",
                            "reconnect.backoff.ms": 200, "reconnect.backoff.max.ms": 10000,
                            "session.timeout.ms": 10000, "heartbeat.interval.ms": 1000}
    conf.update(options or {})
    return conf


def _commit(consumer: Any, msg: Any, watcher: "Watcher") -> None:
    from confluent_kafka import KafkaException

    delay = 0.2
    for _ in range(8):
        try:
            consumer.commit(message=msg, asynchronous=False)
            return
        except KafkaException as exc:
            log.warning("offset commit failed (%s); retrying in %.1f s", exc, delay)
            watcher.status.error(f"offset commit failed: {exc}")
            if watcher.wait(delay):
                return
            delay = min(delay * 2, 5.0)
    # not committed: the message is redelivered later and skipped by the ledger


def _note_lag(consumer: Any, msg: Any, watcher: "Watcher") -> None:
    """Messages behind the partition's end (from the cached high watermark), when known."""
    from confluent_kafka import TopicPartition

    try:
        _, hi = consumer.get_watermark_offsets(TopicPartition(msg.topic(), msg.partition()), cached=True)
    except Exception:  # noqa: BLE001 - the lag is informational only
        return
    if hi is not None and hi >= 0:
        watcher.status.data["lag_messages"] = max(0, int(hi) - int(msg.offset()) - 1)
        watcher.status.write()


def watch_kafka(watcher: "Watcher", bootstrap: str, topic: str, vault: "VaultClient", *,
                group: str = "heatcore", options: dict[str, Any] | None = None,
                idle_exit: float | None = None) -> None:
    """Consume ``topic`` until ``watcher.stop`` is set (or, with ``idle_exit``, until no message
    arrived for that many seconds)."""
    try:
        from confluent_kafka import Consumer, KafkaError, KafkaException
    except ImportError:
        raise ImportError("heatcore watch --kafka needs confluent-kafka: pip install 'heatcore[kafka]'") from None

    conf = consumer_config(bootstrap, group, options)
    backoff = 0.5
    consumer = None
    idle_since = time.monotonic()
    assigned = False

    def on_assign(c: Any, partitions: Any) -> None:  # the idle clock starts once partitions are ours
        nonlocal idle_since, assigned
        idle_since, assigned = time.monotonic(), True

    try:
        while not watcher.stop:
            if consumer is None:
                consumer = Consumer(conf)
                consumer.subscribe([topic], on_assign=on_assign)
            try:
                msg = consumer.poll(0.5)
            except KafkaException as exc:
                log.warning("Kafka error: %s", exc)
                watcher.status.error(f"Kafka: {exc}")
                watcher.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if msg is None:
                watcher.tick()
                if idle_exit is not None and assigned and time.monotonic() - idle_since >= idle_exit:
                    log.info("no messages for %.1f s: exiting", idle_exit)
                    break
                continue
            err: Any = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                log.warning("Kafka error: %s", err.str())
                watcher.status.error(f"Kafka: {err.str()}")
                if err.fatal():
                    consumer.close()
                    consumer = None
                watcher.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 0.5
            idle_since = time.monotonic()
            try:
                m = parse_message(msg.value())
            except ValueError as exc:
                where = f"{msg.topic()}[{msg.partition()}]@{msg.offset()}"
                log.error("skipped Kafka message %s: %s", where, exc)
                watcher.status.invalid(f"message {where}: {exc}")
                watcher.status.write()
                _commit(consumer, msg, watcher)
                continue
            watcher.handle_message(m, vault)
            _commit(consumer, msg, watcher)  # the ledger checkpoint holding it is durable now
            _note_lag(consumer, msg, watcher)
            watcher.tick()
    finally:
        if consumer is not None:
            consumer.close()
