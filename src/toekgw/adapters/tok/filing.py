"""What a message of TØK's interfaces journals, and which messages are filed in a batch.

Every message taken becomes a transmission (:func:`new_transmission`) keyed by sender and
message id, the idempotency key. A *plain* message - a payment order, a new claim, a new
effectuation - needs nothing of the journal but its guards: its item follows from the
message alone (:func:`plain_filing`), so consecutive plain messages of a batch are filed
together (a :class:`Run`, :meth:`~toekgw.gateway.journal.base.Journal.create_filings`). Any
other message (a change, a recall, a set-off, a case report) reads the journal first and is
journaled on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from toekgw.adapters.tok.kinds import COUNTERPART, KINDS
from toekgw.adapters.tok.orders import created_item
from toekgw.adapters.tok.payments import ordered_payment
from toekgw.formats.tok import ClaimCreate, EffectuationOrder, Interface, PaymentOrder, TokMessage
from toekgw.formats.tok.model import Origin
from toekgw.gateway.journal import NewFiling, NewItem, NewTransmission
from toekgw.gateway.transport.amqp import Delivery

__all__ = ["Run", "message_meta", "new_transmission", "plain_filing"]


def new_transmission(
    interface: Interface, delivery: Delivery, message: TokMessage
) -> NewTransmission:
    """The transmission of a message taken from ``delivery``."""
    header = message.header
    return NewTransmission(
        counterpart=COUNTERPART,
        kind=KINDS[interface].name,
        state="taken",
        sha256=hashlib.sha256(delivery.body).hexdigest(),
        delivery_key=f"{header.sender_system}:{header.message_id}",
        ref=f"tok:{header.sender_system}:{header.message_id}",
        file_name=f"{delivery.queue} {type(message).__name__}",
        size=len(delivery.body),
        meta=message_meta(interface, header.origin),
    )


def message_meta(interface: Interface, origin: Origin) -> dict[str, object]:
    """What a message's transmission keeps of its origin (the status outbox answers it)."""
    return {
        "interface": interface.value,
        "sender": origin.sender_system,
        "message_id": origin.message_id,
        "municipality": origin.municipality,
    }


def plain_filing(
    interface: Interface,
    delivery: Delivery,
    message: TokMessage,
    registration_places: Mapping[str, str],
) -> NewFiling | None:
    """The filing of a plain message; ``None`` for any other (and for an order of a
    municipality with no agreement: refused on its own)."""
    item: NewItem
    if isinstance(message, PaymentOrder):
        place = registration_places.get(message.header.municipality)
        if place is None:
            return None
        item, state, reason = ordered_payment(message, place), "pending", "ordered"
    elif isinstance(message, ClaimCreate | EffectuationOrder):
        item, state, reason = created_item(message), "received", type(message).__name__
    else:
        return None
    return NewFiling(new_transmission(interface, delivery, message), (item,), state, reason)


@dataclass
class Run:
    """Consecutive plain messages of a batch, filed together: no two with the same delivery
    or item (a repeat goes the one-at-a-time way, which tells a repeat from a first)."""

    deliveries: list[Delivery] = field(default_factory=list)
    messages: list[TokMessage] = field(default_factory=list)
    filings: list[NewFiling] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)

    def fits(self, filing: NewFiling) -> bool:
        return not _keys(filing) & self.keys

    def add(self, delivery: Delivery, message: TokMessage, filing: NewFiling) -> None:
        self.deliveries.append(delivery)
        self.messages.append(message)
        self.filings.append(filing)
        self.keys |= _keys(filing)


def _keys(filing: NewFiling) -> set[str]:
    new = filing.transmission
    return {
        f"delivery:{new.delivery_key}",
        f"sha256:{new.sha256}",
        *(f"item:{i.business_key}" for i in filing.items),
    }
