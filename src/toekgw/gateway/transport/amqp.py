"""Message brokers with AMQP 0-9-1 semantics: the protocol every broker transport implements.

A :class:`MessageBroker` is one session (an AMQP connection with one channel) that declares
queues, publishes to them and consumes from them, reduced to what a gateway that must never
lose or double a message needs:

- ``publish`` returns only when the broker has taken the message durably (publisher
  confirms on a persistent message); a message the broker cannot route or refuses raises
  :class:`PublishRefused`, so the caller never believes an unsent message sent;
- ``get`` delivers one message and holds it for this session until ``ack``, ``reject`` or
  ``requeue`` (manual acknowledgement); a session holds up to ``prefetch`` unsettled
  deliveries (1 unless opened with more), each settled on its own, in any order. The
  consumer commits its own journal first and acks after, so a crash in between redelivers
  the message (``redelivered`` set) and the journal's idempotency makes the second delivery
  harmless; with a prefetch of N it may journal N deliveries in one commit, then ack them;
- ``reject`` dead-letters the message (to the queue's dead-letter queue, or drops it where
  the queue has none, as RabbitMQ does); ``requeue`` puts it back for another attempt;
- a queue declared with ``max_priority`` delivers the message of the highest priority first.

Implementations: :class:`toekgw.gateway.transport.amqp_pika.PikaBroker` (RabbitMQ over
``pika``) and the embedded twin :class:`toekgw.gateway.transport.amqp_sqlite.SqliteBroker`
(a durable SQLite file, the default where no broker is configured). One contract suite
(``tests/test_amqp_contract.py``) runs against both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from toekgw.gateway.errors import GatewayError

__all__ = [
    "MAX_PRIORITY",
    "BrokerError",
    "BrokerUnavailable",
    "Delivery",
    "DeliveryStateError",
    "MessageBroker",
    "PublishRefused",
    "QueueSpec",
    "dead_letter_name",
]

#: RabbitMQ's ceiling for ``x-max-priority`` (it recommends at most 10).
MAX_PRIORITY = 255


class BrokerError(GatewayError):
    """The broker refused or failed an operation (a clear reason in the message)."""


class BrokerUnavailable(BrokerError):
    """The broker cannot be reached or the connection broke. Unacked deliveries come back to
    the queue; an unconfirmed publish may or may not have been taken (publish again: the
    consumer side de-duplicates by ``message_id``)."""


class PublishRefused(BrokerError):
    """The broker did not take a message: no such queue, or it nacked the publish."""


class DeliveryStateError(BrokerError):
    """A delivery was settled twice, or a get was made while ``prefetch`` are unsettled."""


def dead_letter_name(queue: str) -> str:
    """The default dead-letter queue of ``queue``."""
    return f"{queue}.dead"


@dataclasses.dataclass(frozen=True, slots=True)
class QueueSpec:
    """A durable queue: ``max_priority`` 0 means no priorities (1..255 otherwise);
    ``dead_letter`` names the queue rejected messages go to (``None``: the default name,
    ``""``: none, rejected messages are dropped)."""

    name: str
    max_priority: int = 0
    dead_letter: str | None = None

    def __post_init__(self) -> None:
        if not self.name or len(self.name.encode("utf-8")) > 255:
            raise ValueError("a queue name must be 1 to 255 bytes")
        if not 0 <= self.max_priority <= MAX_PRIORITY:
            raise ValueError(f"max_priority must be 0..{MAX_PRIORITY}")

    @property
    def dead_letter_queue(self) -> str | None:
        if self.dead_letter is None:
            return dead_letter_name(self.name)
        return self.dead_letter or None


@dataclasses.dataclass(frozen=True, slots=True)
class Delivery:
    """One message delivered by ``get`` and not yet settled.

    ``tag`` identifies it to the session that got it; ``redelivered`` says it was delivered
    before without being acked (a consumer crashed or requeued it)."""

    queue: str
    tag: int
    body: bytes
    message_id: str | None
    type: str | None
    priority: int
    headers: Mapping[str, str]
    redelivered: bool


@runtime_checkable
class MessageBroker(Protocol):
    """One session with a broker; it belongs to one thread."""

    #: How many deliveries the session may hold unsettled at once (at least 1).
    prefetch: int

    def declare(self, spec: QueueSpec) -> None:
        """Declare ``spec`` (and its dead-letter queue); idempotent for the same spec."""
        ...

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
        """Publish a persistent message to ``queue``; returns once the broker confirmed it."""
        ...

    def get(self, queue: str, *, wait: float = 0.0) -> Delivery | None:
        """The next message of ``queue``, waiting up to ``wait`` seconds; ``None`` if none.
        Raises :class:`DeliveryStateError` when ``prefetch`` deliveries are unsettled."""
        ...

    def depth(self, queue: str) -> int:
        """How many messages of ``queue`` wait to be delivered (those delivered and not yet
        settled not counted): a consumer tells an empty queue without waiting on it."""
        ...

    def ack(self, delivery: Delivery) -> None:
        """The message is done with: the broker forgets it."""
        ...

    def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        """``ack`` each of ``deliveries`` (all held, none twice), in one go where the broker
        can (one "multiple" ack, one transaction)."""
        ...

    def reject(self, delivery: Delivery) -> None:
        """Dead-letter the message (never delivered from this queue again)."""
        ...

    def requeue(self, delivery: Delivery) -> None:
        """Put the message back for a later delivery (``redelivered`` set)."""
        ...

    def close(self) -> None:
        """End the session; an unsettled delivery goes back to its queue."""
        ...
