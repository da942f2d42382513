"""Taking messages of TØK's interfaces from their queues into the journal.

Each interface has its own queue (declared with priorities: a ``straks`` message overtakes
``normal`` ones). For each delivery, in this order:

1. read it (:func:`toekgw.formats.tok.read_message`: schema and rules);
2. journal it: a transmission keyed by sender and message id (the idempotency key) and the
   item(s) it orders;
3. acknowledge it to the broker - only after the durable commit, so a crash in between
   delivers it again and step 2 finds the message id journaled: acknowledged again, no
   second effect.

The intake takes a batch at a time: what the broker has already pushed, up to the session's
``prefetch``, journaled in one durable commit, then acknowledged with one "multiple" ack. In
the batch, consecutive plain messages (orders: :mod:`~toekgw.adapters.tok.filing`) are filed
together in a few set-based statements; the others, and a run of plain ones the journal
refuses as a whole (a redelivery, a payment ordered before), one at a time, each in a
savepoint of its own. One fsync serves the batch; a straks message published while a batch of
ordinary ones is held waits at most for that batch.

A message that fails validation is journaled as refused (when its sender can be read, so
that the status outbox answers it with ``rejected`` and the findings), put on the error list,
and dead-lettered. A message that breaks the reader is put back and listed; after
:data:`~toekgw.gateway.refusals.MAX_ATTEMPTS_PER_RUN` attempts in one run it is
dead-lettered too. An error of the environment (the journal's disk) stops the run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from toekgw.adapters.tok.filing import Run, new_transmission, plain_filing
from toekgw.adapters.tok.kinds import COUNTERPART, KINDS, REFUSED
from toekgw.adapters.tok.orders import apply_order_message
from toekgw.adapters.tok.payments import UnknownMunicipality, apply_payment_message
from toekgw.adapters.tok.refusal import business_finding, refuse, wrong_queue
from toekgw.formats.tok import (
    Interface,
    PaymentChange,
    PaymentOrder,
    PaymentRecall,
    TokMessage,
    TokMessageError,
    read_message,
)
from toekgw.gateway.danish_time import danish_date
from toekgw.gateway.errors import is_environmental
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal import (
    DuplicateItem,
    DuplicateTransmission,
    Journal,
    NewFiling,
    Transmission,
)
from toekgw.gateway.refusals import MAX_ATTEMPTS_PER_RUN, list_failed_message
from toekgw.gateway.transport.amqp import BrokerError, Delivery, MessageBroker, QueueSpec

__all__ = ["DEFAULT_QUEUES", "MAX_PRIORITY", "Intake", "IntakeResult"]

_T = TypeVar("_T")
#: A delivery as read: its message (``None``: it fails) and its filing (``None``: not plain).
_Read = tuple[Delivery, TokMessage | None, NewFiling | None]

MAX_PRIORITY = 9
#: Seconds a get waits for a message the broker says is waiting on a queue (it pushes the
#: next ones only after the last batch's ack); a queue with none waiting is not waited on.
#: A message that comes later waits for the next run; nothing is lost, only later.
GRACE = 0.5
#: Seconds the first get of a batch waits for the broker's next push when the queue's last
#: batch filled the session's window (so more is likely waiting): RabbitMQ pushes as soon as
#: it has the acks, and asking it for the depth first costs a round trip that answers only
#: after the push began. Nothing within it: the depth is asked, as for any other batch.
PUSH_WAIT = 0.05
DEFAULT_QUEUES: Mapping[Interface, str] = {
    Interface.PAYMENTS: "tok.payments",
    Interface.CLAIMS: "tok.claims",
    Interface.EFFECTUATIONS: "tok.effectuations",
}


@dataclass
class IntakeResult:
    taken: int = 0  # journaled for the first time
    repeated: int = 0  # delivered again: acknowledged, no second effect
    refused: int = 0  # failed validation: answered, dead-lettered, listed
    failed: int = 0  # broke the reader: put back (dead-lettered after repeated attempts)

    @property
    def messages(self) -> int:
        return self.taken + self.repeated + self.refused + self.failed


class Intake:
    """The intake of TØK's interfaces from one broker session into one journal.

    ``registration_places`` maps a municipality's CVR to the registration place its NemKonto
    agreement is configured under; ``now`` is the clock (its date is the one a CPR number is
    checked against)."""

    def __init__(
        self,
        journal: Journal,
        broker: MessageBroker,
        *,
        registration_places: Mapping[str, str],
        now: Callable[[], dt.datetime],
        queues: Mapping[Interface, str] = DEFAULT_QUEUES,
        grace: float = GRACE,
    ) -> None:
        self.journal = journal
        self.broker = broker
        self.registration_places = registration_places
        self.now = now
        self.queues = dict(queues)
        self.grace = grace
        for kind in (*KINDS.values(), REFUSED):
            journal.define_kind(kind)
        for queue in self.queues.values():
            broker.declare(QueueSpec(queue, max_priority=MAX_PRIORITY))
        self._attempts: dict[str, int] = {}
        #: Queues this session put a delivery back on, not yet fetched from again: the
        #: broker may be sending it back already (RabbitMQ counts it in no queue's depth then).
        self._put_back: set[str] = set()
        #: Queues whose last batch in this run filled the session's window (``prefetch``).
        self._flowing: set[str] = set()

    def take(self, *, max_messages: int | None = None, wait: float = 0.0) -> IntakeResult:
        """Take what waits on the queues, a batch from each in turn (a queue found empty is not
        asked again in this run), up to ``max_messages``; the first get waits up to ``wait``
        seconds for a message to come. A queue is found empty when nothing is at hand and
        the broker says nothing waits on it (or nothing came within ``grace``,
        :data:`GRACE`, of its saying so)."""
        result = IntakeResult()
        self._flowing.clear()  # a run later than the last push: what came is at hand
        active = list(self.queues.items())
        first = True
        while active and (max_messages is None or result.messages < max_messages):
            for interface, queue in list(active):
                room = self.broker.prefetch
                if max_messages is not None:
                    room = min(room, max_messages - result.messages)
                if room <= 0:
                    break
                batch = self._fetch(queue, room, wait if first else 0.0)
                first = False
                if batch:
                    self._take_batch(interface, batch, result)
                else:
                    active.remove((interface, queue))
        return result

    def _fetch(self, queue: str, room: int, wait: float) -> list[Delivery]:
        """Up to ``room`` deliveries of ``queue``: the first waited for, the rest only those
        already at hand (a batch is what has arrived, not what may come)."""
        batch: list[Delivery] = []
        delivery = self._first(queue, wait)
        while delivery is not None:
            batch.append(delivery)
            if len(batch) >= room:
                break
            delivery = self.broker.get(queue, wait=0.0)
        if len(batch) >= self.broker.prefetch:  # the window was full: more may be on its way
            self._flowing.add(queue)
        else:
            self._flowing.discard(queue)
        return batch

    def _first(self, queue: str, wait: float) -> Delivery | None:
        """The first delivery of a batch: at hand, or waited for - up to ``wait`` seconds for
        messages yet to come, up to ``grace`` for one the broker says is waiting or this
        session put back (on its way back, it is in no depth); after a batch that filled the
        window, up to :data:`PUSH_WAIT` for the broker's next push before the depth is asked.
        An empty queue costs no wait but the caller's (and that moment, once, after a full
        batch)."""
        put_back = queue in self._put_back
        self._put_back.discard(queue)
        delivery = self.broker.get(queue, wait=PUSH_WAIT if queue in self._flowing else 0.0)
        if delivery is not None:
            return delivery
        if put_back or self.broker.depth(queue):
            wait = max(wait, self.grace)
        # With no wait: what the broker pushed before it answered.
        return self.broker.get(queue, wait=wait)

    def _take_batch(
        self, interface: Interface, batch: list[Delivery], result: IntakeResult
    ) -> None:
        """Journal ``batch`` in one durable commit, then settle each delivery."""
        try:
            # Read and validated before the transaction: the journal's writer lock (on a
            # server, shared by every worker) is held for the journal's work only.
            read = self._read_batch(interface, batch)
            with self.journal.transaction(durable=True):
                outcomes = self._journal_batch(interface, read, result)
        except Exception:
            # An error of the environment: nothing of the batch is journaled. Best effort: a
            # broker that is gone puts the unacknowledged messages back by itself, and its
            # error must not hide this one.
            with contextlib.suppress(BrokerError):
                for delivery in batch:
                    self.broker.requeue(delivery)
            raise
        crash_point("tok.intake.after_commit")
        for delivery, outcome in zip(batch, outcomes, strict=True):
            if outcome == "requeue":
                self._put_back.add(delivery.queue)
            if outcome != "ack":
                (self.broker.reject if outcome == "reject" else self.broker.requeue)(delivery)
        self.broker.ack_many([d for d, o in zip(batch, outcomes, strict=True) if o == "ack"])

    def _read_batch(self, interface: Interface, batch: list[Delivery]) -> list[_Read]:
        """Each delivery of ``batch`` with its message (``None``: it fails) and, for a plain
        message, its filing."""
        today = danish_date(self.now())
        read: list[_Read] = []
        for delivery in batch:
            message = self._read(interface, delivery, today)
            filing = None if message is None else self._plain_filing(interface, delivery, message)
            read.append((delivery, message, filing))
        return read

    def _journal_batch(
        self, interface: Interface, batch: list[_Read], result: IntakeResult
    ) -> list[str]:
        """How to settle each of ``batch``, journaling it (in the caller's transaction).

        Consecutive plain messages (an order that needs nothing of the journal but its
        guards) are filed together (:meth:`~toekgw.gateway.journal.base.Journal.
        create_filings`); the rest, and a run the journal refuses as a whole (a message
        delivered again, a payment ordered before), one at a time, each in a savepoint of its
        own, so one refused or broken message is set aside alone. Delivery order is kept."""
        outcomes: list[str] = []
        run = Run()
        for delivery, message, filing in batch:
            if message is not None and filing is not None and run.fits(filing):
                run.add(delivery, message, filing)
                continue
            outcomes += self._file_run(interface, run, result)
            run = Run()
            if message is not None and filing is not None:
                run.add(delivery, message, filing)
            else:
                outcomes.append(self._take_one(interface, delivery, message, result))
        outcomes += self._file_run(interface, run, result)
        return outcomes

    def _file_run(self, interface: Interface, run: Run, result: IntakeResult) -> list[str]:
        if not run.filings:
            return []
        try:
            self.journal.create_filings(run.filings)
        except Exception as exc:
            # A message delivered again, a payment ordered before, a bug: sorted out (and
            # set aside alone) one at a time.
            if is_environmental(exc) and not isinstance(exc, DuplicateTransmission | DuplicateItem):
                raise
            return [
                self._take_one(interface, d, m, result)
                for d, m in zip(run.deliveries, run.messages, strict=True)
            ]
        result.taken += len(run.filings)
        return ["ack"] * len(run.filings)

    def _read(self, interface: Interface, delivery: Delivery, today: dt.date) -> TokMessage | None:
        """The message of ``delivery`` if it passes (``None``: it fails, and the one-at-a-time
        path reads it again to refuse it or set it aside)."""
        message = _unless_broken(lambda: read_message(delivery.body, today=today))
        return message if message is not None and message.interface is interface else None

    def _plain_filing(
        self, interface: Interface, delivery: Delivery, message: TokMessage
    ) -> NewFiling | None:
        """The filing of a plain message (:func:`~toekgw.adapters.tok.filing.plain_filing`);
        ``None`` for another, or one that breaks it (set aside alone, one at a time)."""
        places = self.registration_places
        return _unless_broken(lambda: plain_filing(interface, delivery, message, places))

    def _take_one(
        self,
        interface: Interface,
        delivery: Delivery,
        message: TokMessage | None,
        result: IntakeResult,
    ) -> str:
        """Journal one delivery (inside the batch's transaction, in a savepoint of its own);
        says how to settle it: ``ack``, ``reject`` (dead-letter) or ``requeue``."""
        try:
            with self.journal.transaction(durable=True):
                outcome = self._journal(interface, delivery, message, result)
        except Exception as exc:
            if is_environmental(exc):
                raise
            return self._set_aside(delivery, exc, result)
        return "reject" if outcome == "refused" else "ack"

    def _set_aside(self, delivery: Delivery, exc: Exception, result: IntakeResult) -> str:
        msg_id = delivery.message_id or hashlib.sha256(delivery.body).hexdigest()[:32]
        list_failed_message(
            self.journal, COUNTERPART, delivery.queue, msg_id.encode("utf-8", "replace"), exc
        )
        result.failed += 1
        self._attempts[msg_id] = self._attempts.get(msg_id, 0) + 1
        return "reject" if self._attempts[msg_id] >= MAX_ATTEMPTS_PER_RUN else "requeue"

    def _journal(
        self,
        interface: Interface,
        delivery: Delivery,
        message: TokMessage | None,
        result: IntakeResult,
    ) -> str:
        if message is None:
            try:
                message = read_message(delivery.body, today=danish_date(self.now()))
                if message.interface is not interface:
                    raise TokMessageError(
                        [wrong_queue(delivery.queue, message, interface)],
                        message.header.origin,
                    )  # fmt: skip
            except TokMessageError as exc:
                refuse(self.journal, interface, delivery, exc.findings, exc.origin)
                result.refused += 1
                return "refused"
        try:
            with self.journal.transaction(durable=True):
                tx = self.journal.create_transmission(
                    new_transmission(interface, delivery, message)
                )
                self._apply(tx, message)
        except DuplicateTransmission:
            result.repeated += 1
            return "repeated"
        except (UnknownMunicipality, DuplicateItem) as exc:
            refuse(
                self.journal, interface, delivery, [business_finding(exc)], message.header.origin
            )
            result.refused += 1
            return "refused"
        result.taken += 1
        return "taken"

    def _apply(self, tx: Transmission, message: TokMessage) -> None:
        if isinstance(message, PaymentOrder | PaymentChange | PaymentRecall):
            apply_payment_message(self.journal, tx, message, self.registration_places)
        else:
            apply_order_message(self.journal, tx, message)


def _unless_broken(make: Callable[[], _T]) -> _T | None:
    """``make()``, or ``None`` when it fails for a reason of the message, not of the
    environment (which stops the run)."""
    try:
        return make()
    except Exception as exc:
        if is_environmental(exc):
            raise
        return None
