"""The accounting model: which payment event books what (solution description,
"Konteringskontrol" and "Udbetaling").

Every bookable event of a payment is one :class:`PostingRule`: a debit and a credit of the
payment's amount on two account *roles* (resolved per municipality by ``[oir]``). So every
event balances on its own, and every voucher, made of whole events, balances too.

=============  ========================================  ==========  =============
event          when (the payment's state in the journal)  debit       credit
=============  ========================================  ==========  =============
journaled      journaled from its G68 delivery            expense     intermediate
effectuated    at-bank (Retursvar 8); cheque or error     intermediate bank
               account (Retursvar 7: paid, not to a
               NemKonto account)
cancelled      recalled before release; stopped (5)       intermediate expense
=============  ========================================  ==========  =============

So at any moment the intermediate account holds exactly the payments journaled and neither
paid nor cancelled: the **outstanding** payments (:data:`OUTSTANDING_STATES`), including those
rejected by NemKonto or the bank and waiting for manual handling. A new payment event (a
failure after the bank, a cash voucher, a trivial amount) is one more :class:`PostingRule`
and one more :class:`~toekgw.gateway.journal.books.EventSource` here, nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from toekgw.adapters.g68.inbound import G68_DELIVERY
from toekgw.adapters.g68.payments import PAYMENT_ITEM
from toekgw.gateway.journal.books import EventSource

__all__ = [
    "CANCELLED_STATES",
    "EFFECTUATED_STATES",
    "EVENT_SOURCES",
    "OIR_NAMESPACE",
    "OUTSTANDING_STATES",
    "PAYMENT_STATES",
    "RULES",
    "PostingRule",
]

#: UUIDv5 namespace of voucher and batch ids (stable: a re-send carries the same ids).
OIR_NAMESPACE = uuid.UUID("6f0d7f39-7a51-5d0e-9c57-4b9f4c0e1a13")


@dataclass(frozen=True, slots=True)
class PostingRule:
    event: str
    debit: str
    credit: str
    text: str


RULES: Mapping[str, PostingRule] = {
    rule.event: rule
    for rule in (
        PostingRule("journaled", "expense", "intermediate", "Udbetaling registreret"),
        PostingRule("effectuated", "intermediate", "bank", "Udbetaling effektueret"),
        PostingRule("cancelled", "intermediate", "expense", "Udbetaling annulleret"),
    )
}

#: Every state of a payment (not of a recall request) of a G68 delivery.
PAYMENT_STATES = tuple(s for s in PAYMENT_ITEM.descriptions if not s.startswith("recall-"))
EFFECTUATED_STATES = ("at-bank", "cheque", "error-account")
CANCELLED_STATES = ("recalled", "stopped")
OUTSTANDING_STATES = tuple(
    s for s in PAYMENT_STATES if s not in EFFECTUATED_STATES and s not in CANCELLED_STATES
)


def _source(event: str, states: tuple[str, ...], dated_by: str) -> EventSource:
    return EventSource(
        event,
        G68_DELIVERY.name,
        states,
        dated_by,
        group="municipality",
        category="transaction_type",
    )


#: Where each event of :data:`RULES` is found in the journal.
EVENT_SOURCES = (
    _source("journaled", PAYMENT_STATES, "created"),
    _source("effectuated", EFFECTUATED_STATES, "updated"),
    _source("cancelled", CANCELLED_STATES, "updated"),
)
assert {s.event for s in EVENT_SOURCES} == set(RULES)
