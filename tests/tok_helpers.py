"""A case system's side of TØK's interfaces, for the intake tests: orders and status."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from toekgw.formats.tok import (
    Header,
    Interface,
    Party,
    PartyKind,
    PaymentOrder,
    Priority,
    Status,
    build_message,
    read_status,
)
from toekgw.gateway.transport.amqp import MessageBroker, QueueSpec

MUNICIPALITY = "29189846"
PLACES = {MUNICIPALITY: "0751"}
CPR = "0101901234"
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


def clock() -> dt.datetime:
    return NOW


def header(priority: Priority = Priority.NORMAL, sender: str = "KY") -> Header:
    return Header(str(uuid.uuid4()), sender, MUNICIPALITY, priority, NOW)


def order(payment_id: str, amount_ore: int = 100_00, **kw: object) -> PaymentOrder:
    return PaymentOrder(
        header(**kw),  # type: ignore[arg-type]
        payment_id,
        Party(PartyKind.CPR, CPR),
        amount_ore,
        dt.date(2026, 12, 10),
        "KTH",
        ("Kontanthjælp",),
    )


@dataclass
class Names:
    """Queue names of one test (unique, so tests share a RabbitMQ node safely)."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    @property
    def queues(self) -> dict[Interface, str]:
        return {i: f"{self.tag}.tok.{i.value}" for i in Interface}

    @property
    def payments(self) -> str:
        return self.queues[Interface.PAYMENTS]

    @property
    def claims(self) -> str:
        return self.queues[Interface.CLAIMS]

    @property
    def effectuations(self) -> str:
        return self.queues[Interface.EFFECTUATIONS]

    @property
    def reply(self) -> str:
        return f"{self.tag}.{{sender}}.status"

    def reply_of(self, sender: str) -> str:
        return self.reply.format(sender=sender)


def send(broker: MessageBroker, queue: str, message: object) -> None:
    broker.declare(QueueSpec(queue, max_priority=9))
    head = message.header  # type: ignore[attr-defined]
    broker.publish(
        queue,
        build_message(message),  # type: ignore[arg-type]
        message_id=head.message_id,
        priority=head.priority.level,
    )


def statuses(broker: MessageBroker, queue: str, copies: list[int] | None = None) -> list[Status]:
    """Every status waiting on ``queue``, de-duplicated by event id as a receiver does
    (``copies`` gets how many arrived, copies included)."""
    broker.declare(QueueSpec(queue))
    seen: dict[str, Status] = {}
    arrived = 0
    while (delivery := broker.get(queue, wait=0.5)) is not None:
        status = read_status(delivery.body)
        assert delivery.message_id == status.event_id
        assert seen.setdefault(status.event_id, status) == status  # a copy is the same status
        arrived += 1
        broker.ack(delivery)
    if copies is not None:
        copies.append(arrived)
    return list(seen.values())
