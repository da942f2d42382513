"""A case system (fagsystem: KY, KP, KSD, ...) on TØK's interfaces, for testers.

:class:`CaseSystem` plays the sender's side: it orders payments (a share of them straks) and
claims, recalls some of the payments it ordered, sends a share of deliberately broken messages,
and then checks every status it gets back against what it sent, the way a case system would:

- every message it sent is answered (``InReplyTo``) exactly in the state it expects: an order
  ``pending`` (or later along), a claim ``received``, a recall ``recall-applied`` or
  ``recall-refused``, a broken message ``rejected`` with its findings;
- a status it has seen (by ``EventId``) is dropped; a status about something it never sent,
  or a copy that differs from the first, is an error;
- nothing it sent is left unanswered.

The orders are reproducible from ``seed``; the clock and the broker are given.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from toekgw.formats.tok import (
    ClaimCreate,
    Header,
    Interface,
    Party,
    PartyKind,
    PaymentOrder,
    PaymentRecall,
    Priority,
    Status,
    TokMessage,
    TokMessageError,
    build_message,
    read_status,
)
from toekgw.gateway.danish_time import danish_date
from toekgw.gateway.transport.amqp import MessageBroker, QueueSpec

__all__ = ["CaseSystem", "CheckReport", "Mix"]

_ORDERED = {"pending", "blocked", "released", "sent", "received", "accepted", "at-bank"}
_EXPECTED: dict[str, set[str]] = {
    "PaymentOrder": _ORDERED | {"recalled", "rejected", "cheque", "error-account", "stopped"},
    "ClaimCreate": {"received", "sent"},
    "PaymentRecall": {"recall-applied", "recall-refused"},
    "broken": {"rejected"},
}


@dataclass(frozen=True, slots=True)
class Mix:
    """What to send: shares of ``count`` messages (the rest are payment orders)."""

    straks: float = 0.1  # of the payment orders
    claims: float = 0.2
    recalls: float = 0.1
    broken: float = 0.02


@dataclass
class CheckReport:
    sent: int = 0
    answered: int = 0
    statuses: int = 0
    copies: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.answered == self.sent


@dataclass
class _Sent:
    what: str
    business_key: str


class CaseSystem:
    def __init__(
        self,
        broker: MessageBroker,
        *,
        sender: str,
        municipality: str,
        queues: dict[Interface, str],
        reply_queue: str,
        now: Callable[[], dt.datetime],
        seed: int = 0,
    ) -> None:
        self.broker = broker
        self.sender = sender
        self.municipality = municipality
        self.queues = queues
        self.reply_queue = reply_queue
        self.now = now
        self.rng = random.Random(seed)
        self.sent: dict[str, _Sent] = {}  # message id -> what it was
        self.seen: dict[str, Status] = {}  # event id -> the status
        self._payments: list[str] = []
        for queue in (*queues.values(),):
            broker.declare(QueueSpec(queue, max_priority=9))
        broker.declare(QueueSpec(reply_queue))

    def send(self, count: int, mix: Mix = Mix()) -> None:
        """Send ``count`` messages in the proportions of ``mix``."""
        for _ in range(count):
            roll = self.rng.random()
            if roll < mix.broken:
                self._send_broken()
            elif roll < mix.broken + mix.recalls and self._payments:
                self._publish(
                    PaymentRecall(self._header(Priority.STRAKS), self.rng.choice(self._payments),
                                  "ordered by mistake")
                )  # fmt: skip
            elif roll < mix.broken + mix.recalls + mix.claims:
                self._publish(self._claim())
            else:
                straks = self.rng.random() < mix.straks
                self._publish(self._payment(Priority.STRAKS if straks else Priority.NORMAL))

    def check(self, *, wait: float = 1.0) -> CheckReport:
        """Take every status waiting and check it; ``wait``: how long to wait for the next."""
        report = CheckReport(sent=len(self.sent))
        while (delivery := self.broker.get(self.reply_queue, wait=wait)) is not None:
            report.statuses += 1
            try:
                status = read_status(delivery.body)
            except TokMessageError as exc:
                report.errors.append(f"an unreadable status: {exc}")
            else:
                self._check_one(status, report)
            self.broker.ack(delivery)
        answered = {s.in_reply_to for s in self.seen.values() if s.in_reply_to}
        report.answered = len(answered & self.sent.keys())
        for message_id in sorted(self.sent.keys() - answered):
            report.errors.append(f"message {message_id} ({self.sent[message_id].what}) unanswered")
        return report

    def _check_one(self, status: Status, report: CheckReport) -> None:
        first = self.seen.setdefault(status.event_id, status)
        if first is not status:
            report.copies += 1
            if (first.state, first.business_key) != (status.state, status.business_key):
                report.errors.append(f"event {status.event_id} told twice, differently")
            return
        if status.in_reply_to is None:
            return
        sent = self.sent.get(status.in_reply_to)
        if sent is None:
            report.errors.append(f"a status in reply to {status.in_reply_to}, never sent")
        elif status.state not in _EXPECTED[sent.what]:
            report.errors.append(
                f"{sent.what} {status.in_reply_to} answered {status.state!r}, expected one of "
                f"{', '.join(sorted(_EXPECTED[sent.what]))}"
            )

    def _header(self, priority: Priority = Priority.NORMAL) -> Header:
        return Header(str(uuid.UUID(int=self.rng.getrandbits(128), version=4)), self.sender,
                      self.municipality, priority, self.now())  # fmt: skip

    def _cpr(self) -> str:
        born = dt.date(1940, 1, 1) + dt.timedelta(days=self.rng.randrange(365 * 60))
        # The seventh digit 0-3: born 1900-1999 (no modulus-11 check since 2007).
        return born.strftime("%d%m%y") + f"{self.rng.randrange(4)}{self.rng.randrange(1000):03d}"

    def _payment(self, priority: Priority) -> PaymentOrder:
        payment_id = f"P{len(self.sent):07d}"
        self._payments.append(payment_id)
        date = danish_date(self.now()) + dt.timedelta(days=self.rng.randrange(3, 20))
        return PaymentOrder(
            self._header(priority), payment_id, Party(PartyKind.CPR, self._cpr()),
            self.rng.randrange(100_00, 20_000_00), date, "KTH", ("Ydelse",),
        )  # fmt: skip

    def _claim(self) -> ClaimCreate:
        today = danish_date(self.now())
        return ClaimCreate(
            self._header(), f"C{len(self.sent):07d}", Party(PartyKind.CPR, self._cpr()),
            "TILBAGEBET", self.rng.randrange(100_00, 50_000_00), today - dt.timedelta(days=60),
            today - dt.timedelta(days=31), today, today + dt.timedelta(days=30),
        )  # fmt: skip

    def _publish(self, message: TokMessage, *, body: bytes | None = None) -> None:
        what = "broken" if body is not None else type(message).__name__
        self.sent[message.header.message_id] = _Sent(what, message.business_key)
        self.broker.publish(
            self.queues[message.interface],
            body if body is not None else build_message(message),
            message_id=message.header.message_id,
            priority=message.header.priority.level,
        )

    def _send_broken(self) -> None:
        order = self._payment(Priority.NORMAL)
        self._payments.pop()  # never journaled: not one to recall
        body = build_message(order).replace(b"<Amount>", b"<Amount>-", 1)
        self._publish(order, body=body)
