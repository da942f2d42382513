"""The embedded broker: :class:`~toekgw.gateway.transport.amqp.MessageBroker` over one SQLite
file, built on the embedded MQ queue manager (:class:`~toekgw.gateway.transport.mq.SqliteQueue`).

It is the default where no RabbitMQ is configured (``make demo``, a single host) and the local
twin the contract suite holds to RabbitMQ's behaviour. Two MQ sessions make one broker
session: the publisher puts and commits at once (a confirmed publish); the consumer gets under
syncpoint and settles each delivery alone (``SqliteQueue.settle``/``back_out``: an ack commits
that one get), so the death of a consuming process puts its unacked messages back, marked
redelivered, exactly as RabbitMQ does when a connection drops. A dead-letter moves the message
to the dead-letter queue in the same transaction that settles it. Declarations live in the
file, so every process sees the same queues.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

from toekgw.gateway.sqlite import connect, write
from toekgw.gateway.transport.amqp import (
    BrokerError,
    Delivery,
    DeliveryStateError,
    PublishRefused,
    QueueSpec,
)
from toekgw.gateway.transport.mq import Message, SqliteQueue

__all__ = ["SqliteBroker"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS amqp_queue (
    name         TEXT PRIMARY KEY,
    max_priority INTEGER NOT NULL,
    dead_letter  TEXT
);
"""

#: RabbitMQ requeues a message for ever; so does the twin (MQ's backout threshold unused).
_NO_THRESHOLD = 2**62

_ID, _TYPE, _HEADER = "amqp.message_id", "amqp.type", "amqp.header."


class SqliteBroker:
    """A broker session on the SQLite file ``path`` (created if missing), holding up to
    ``prefetch`` unsettled deliveries."""

    def __init__(
        self, path: str | os.PathLike[str], *, poll_interval: float = 0.02, prefetch: int = 1
    ) -> None:
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        self.path = Path(path)
        self.prefetch = prefetch
        self._db = connect(self.path, _SCHEMA)
        self._publisher = SqliteQueue(self.path, backout_threshold=_NO_THRESHOLD)
        self._consumer = SqliteQueue(
            self.path, backout_threshold=_NO_THRESHOLD, poll_interval=poll_interval
        )
        self._held: dict[int, tuple[Delivery, Message]] = {}
        self._tags = 0

    def declare(self, spec: QueueSpec) -> None:
        dead = spec.dead_letter_queue
        with write(self._db) as db:
            if dead is not None:
                _declare_one(db, QueueSpec(dead, dead_letter=""))
            _declare_one(db, spec)

    def publish(
        self,
        queue: str,
        body: bytes,
        *,
        message_id: str | None = None,
        type: str | None = None,
        priority: int = 0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        spec = self._spec(queue)
        if spec is None:
            raise PublishRefused(f"no queue {queue!r} to publish to")
        properties = {_HEADER + key: str(value) for key, value in (headers or {}).items()}
        if message_id is not None:
            properties[_ID] = message_id
        if type is not None:
            properties[_TYPE] = type
        level = min(max(priority, 0), spec.max_priority)
        self._publisher.put(queue, bytes(body), priority=level, properties=properties)
        self._publisher.commit()

    def get(self, queue: str, *, wait: float = 0.0) -> Delivery | None:
        if len(self._held) >= self.prefetch:
            raise DeliveryStateError(
                f"{len(self._held)} deliveries unsettled (prefetch {self.prefetch}): "
                "ack, reject or requeue one first"
            )
        message = self._consumer.get(queue, wait=wait)
        if message is None:
            return None
        self._tags += 1
        delivery = _delivery(queue, self._tags, message)
        self._held[delivery.tag] = (delivery, message)
        return delivery

    def ack(self, delivery: Delivery) -> None:
        self.ack_many([delivery])

    def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        self._check_held(deliveries)
        self._consumer.settle([self._settle(d) for d in deliveries])

    def reject(self, delivery: Delivery) -> None:
        message = self._settle(delivery)
        spec = self._spec(delivery.queue)
        dead = spec.dead_letter_queue if spec is not None else None
        if dead is None:
            self._consumer.settle([message])
            return
        properties = {_HEADER + key: value for key, value in delivery.headers.items()}
        properties[_HEADER + "x-first-death-queue"] = delivery.queue
        properties[_HEADER + "x-first-death-reason"] = "rejected"
        if delivery.message_id is not None:
            properties[_ID] = delivery.message_id
        if delivery.type is not None:
            properties[_TYPE] = delivery.type
        self._consumer.settle([message], to_queue=dead, properties=properties)

    def requeue(self, delivery: Delivery) -> None:
        self._consumer.back_out(self._settle(delivery))

    def close(self) -> None:
        self._held.clear()
        self._consumer.close()
        self._publisher.close()
        self._db.close()

    def __enter__(self) -> SqliteBroker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def depth(self, queue: str) -> int:
        """Messages ready on ``queue``."""
        return self._publisher.depth(queue)

    def _spec(self, queue: str) -> QueueSpec | None:
        row = self._db.execute(
            "SELECT max_priority, dead_letter FROM amqp_queue WHERE name = ?", (queue,)
        ).fetchone()
        return None if row is None else QueueSpec(queue, row[0], row[1])

    def _check_held(self, deliveries: Sequence[Delivery]) -> None:
        tags = [d.tag for d in deliveries]
        if len(set(tags)) != len(tags) or not set(tags) <= self._held.keys():
            raise DeliveryStateError("a delivery is not held by this session (or named twice)")

    def _settle(self, delivery: Delivery) -> Message:
        held = self._held.pop(delivery.tag, None)
        if held is None:
            raise DeliveryStateError(f"delivery {delivery.tag} is not held by this session")
        return held[1]


def _declare_one(db: sqlite3.Connection, spec: QueueSpec) -> None:
    row = db.execute(
        "SELECT max_priority, dead_letter FROM amqp_queue WHERE name = ?", (spec.name,)
    ).fetchone()
    if row is None:
        db.execute(
            "INSERT INTO amqp_queue (name, max_priority, dead_letter) VALUES (?, ?, ?)",
            (spec.name, spec.max_priority, spec.dead_letter),
        )
    elif QueueSpec(spec.name, row[0], row[1]).dead_letter_queue != spec.dead_letter_queue or (
        row[0] != spec.max_priority
    ):
        raise BrokerError(f"queue {spec.name!r} exists with other arguments")


def _delivery(queue: str, tag: int, message: Message) -> Delivery:
    props = message.properties
    headers = {k[len(_HEADER) :]: v for k, v in props.items() if k.startswith(_HEADER)}
    return Delivery(
        queue=queue,
        tag=tag,
        body=message.body,
        message_id=props.get(_ID),
        type=props.get(_TYPE),
        priority=message.priority,
        headers=headers,
        redelivered=message.backout_count > 0,
    )
