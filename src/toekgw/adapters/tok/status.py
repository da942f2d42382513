"""Publishing the status of every item of TØK's interfaces to its sender's reply queue.

Reads the journal's status outbox (:class:`~toekgw.gateway.journal.outbox.StatusOutbox`):
for each item whose state was not yet told, a :class:`~toekgw.formats.tok.Status` goes to
the sender's reply queue (``reply_queue`` with ``{sender}`` filled in), published with
publisher confirms, then recorded as published. A crash in between publishes it again under
the same event id; the receiver drops the copy. Several publishers (one per worker) share the
outbox: each claims the items of a batch (``claims``), skips those another one holds, and
publishes only what is still due after its claim.

The first status of the item a message created answers that message (``InReplyTo``): its
receipt, in the state it was journaled in (``pending`` for a payment, ``received`` for a
claim, ``rejected`` with the findings for a refused message). Every other status (a later
state; a payment's next version after a change or a set-off) is told by business key.

Where ``g68_sender`` is set (KSD), the payments of G68 deliveries are told too, to that
sender's reply queue: each by its payment ident, the delivery and line it came on, in every
state it reaches (its receipt is the first, ``pending``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from toekgw.adapters.g68.inbound import G68_DELIVERY
from toekgw.adapters.tok.kinds import STATUS_KINDS
from toekgw.formats.tok import DeliveryLine, Interface, Status, StatusFinding, build_status
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal import Journal, Transmission
from toekgw.gateway.journal.claims import ItemClaims, LocalClaims
from toekgw.gateway.journal.outbox import DueStatus, StatusOutbox
from toekgw.gateway.transport.amqp import MessageBroker, QueueSpec

__all__ = ["DEFAULT_REPLY_QUEUE", "StatusPublisher"]

DEFAULT_REPLY_QUEUE = "{sender}.tok.status"


@dataclass
class PublishResult:
    published: int = 0


class StatusPublisher:
    def __init__(
        self,
        journal: Journal,
        outbox: StatusOutbox,
        broker: MessageBroker,
        *,
        now: Callable[[], dt.datetime],
        reply_queue: str = DEFAULT_REPLY_QUEUE,
        g68_sender: str | None = None,
        claims: ItemClaims | None = None,
    ) -> None:
        self.journal = journal
        self.claims = claims or LocalClaims()
        self.g68_sender = g68_sender
        self.kinds = (*STATUS_KINDS, G68_DELIVERY.name) if g68_sender else STATUS_KINDS
        self.outbox = outbox
        self.broker = broker
        self.now = now
        self.reply_queue = reply_queue
        self._declared: set[str] = set()
        self._transmissions: dict[int, Transmission] = {}

    def publish_due(self, *, batch: int = 500) -> PublishResult:
        """Publish every status due (in batches of ``batch``) that no other publisher has
        claimed; those are the other's (or, if it dies, the next run's)."""
        result = PublishResult()
        after = 0
        while due := self.outbox.due_statuses(self.kinds, limit=batch, after=after):
            after = due[-1].item_id
            mine = self.claims.claim([entry.item_id for entry in due])
            try:
                for entry in self.outbox.still_due([e for e in due if e.item_id in mine]):
                    self._publish(entry)
                    result.published += 1
            finally:
                self.claims.release()
        return result

    def _publish(self, due: DueStatus) -> None:
        tx = self._transmission(due.transmission_id)
        g68 = tx.kind == G68_DELIVERY.name
        sender = str(self.g68_sender) if g68 else str(tx.meta["sender"])
        queue = self.reply_queue.format(sender=sender)
        if queue not in self._declared:
            self.broker.declare(QueueSpec(queue))
            self._declared.add(queue)
        status = self.g68_status_of(due, tx) if g68 else self.status_of(due, tx)
        self.broker.publish(queue, build_status(status), message_id=status.event_id, type="Status")
        crash_point("tok.status.after_publish")
        self.outbox.mark_published(due)

    def status_of(self, due: DueStatus, tx: Transmission) -> Status:
        meta = tx.meta
        findings = meta.get("findings") or []
        assert isinstance(findings, list)
        municipality = meta.get("municipality")
        return Status(
            event_id=due.event_id,
            in_reply_to=str(meta["message_id"]) if due.sequence == 1 and due.seq == 1 else None,
            interface=Interface(str(meta["interface"])),
            municipality=str(municipality) if municipality else None,
            business_key=_business_key(due.business_key),
            state=due.state,
            time=self.now(),
            findings=tuple(
                StatusFinding(str(f["code"]), f.get("where"), str(f["message"])) for f in findings
            ),
        )

    def g68_status_of(self, due: DueStatus, tx: Transmission) -> Status:
        """A G68 payment's status: by its ident (the business key's part after the supplier),
        with the delivery and line it came on; its municipality is the delivery's data supplier
        where that is a CVR number."""
        reference = tx.delivery_key or tx.file_name or str(tx.id)
        supplier = reference.split("/", 1)[0]
        return Status(
            event_id=due.event_id,
            in_reply_to=None,
            interface=Interface.PAYMENTS,
            municipality=supplier if len(supplier) == 8 and supplier.isdigit() else None,
            business_key=due.business_key.split(":")[1],
            state=due.state,
            time=self.now(),
            delivery=DeliveryLine(reference, due.seq or 1),
        )

    def _transmission(self, transmission_id: int) -> Transmission:
        tx = self._transmissions.get(transmission_id)
        if tx is None:
            if len(self._transmissions) > 10_000:
                self._transmissions.clear()
            tx = self._transmissions[transmission_id] = self.journal.get_transmission(
                transmission_id
            )
        return tx


def _business_key(item_key: str) -> str | None:
    """The sender's own id in a journal business key (``KY:claim:C-17@42`` -> ``C-17``,
    ``KY:P-1~2`` -> ``P-1``); ``None`` for a refused message's item."""
    if item_key.startswith("refused:"):
        return None
    own = item_key.split("@", 1)[0].split(":")[-1]
    return own.split("~", 1)[0]
