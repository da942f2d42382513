"""Publishing the status of every item of TØK's interfaces to its sender's reply queue.

Reads the journal's status outbox (:class:`~toekgw.gateway.journal.outbox.StatusOutbox`):
for each item whose state was not yet told, a :class:`~toekgw.formats.tok.Status` goes to
the sender's reply queue (``reply_queue`` with ``{sender}`` filled in), published with
publisher confirms, then recorded as published. A crash in between publishes it again under
the same event id; the receiver drops the copy.

The first status of the item a message created answers that message (``InReplyTo``): its
receipt, in the state it was journaled in (``pending`` for a payment, ``received`` for a
claim, ``rejected`` with the findings for a refused message). Every other status (a later
state; a payment's next version after a change or a set-off) is told by business key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from toekgw.adapters.tok.kinds import STATUS_KINDS
from toekgw.formats.tok import Interface, Status, StatusFinding, build_status
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal import Journal, Transmission
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
    ) -> None:
        self.journal = journal
        self.outbox = outbox
        self.broker = broker
        self.now = now
        self.reply_queue = reply_queue
        self._declared: set[str] = set()
        self._transmissions: dict[int, Transmission] = {}

    def publish_due(self, *, batch: int = 500) -> PublishResult:
        """Publish every status due (in batches of ``batch``)."""
        result = PublishResult()
        while due := self.outbox.due_statuses(STATUS_KINDS, limit=batch):
            for entry in due:
                self._publish(entry)
                result.published += 1
        return result

    def _publish(self, due: DueStatus) -> None:
        tx = self._transmission(due.transmission_id)
        sender = str(tx.meta["sender"])
        queue = self.reply_queue.format(sender=sender)
        if queue not in self._declared:
            self.broker.declare(QueueSpec(queue))
            self._declared.add(queue)
        status = self.status_of(due, tx)
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
