"""The accounting model: which payment event books what (solution description,
"Konteringskontrol" and "Udbetaling").

Every bookable event of a payment is one :class:`PostingRule`: a debit and a credit of the
payment's amount on two account *roles* (resolved per municipality by ``[oir]``). So every
event balances on its own, and every voucher, made of whole events, balances too.

===============  ============================================  ============  ============
event            when (the payment's state in the journal)      debit         credit
===============  ============================================  ============  ============
journaled        journaled (from a G68 delivery or TØK's        expense       intermediate
                 payments interface, or a follow-up payment:
                 resent, or to another account)
effectuated      at-bank (Retursvar 8, also while a failure      intermediate  bank
                 awaits approval); cheque or error account (7)
reversed         failed after the bank (approved), after it      bank          intermediate
                 was booked effectuated
cancelled        recalled; resent or redirected (the follow-up   intermediate  expense
                 payment carries the debt from then on)
cash             paid by cash voucher (kontantbilag)             intermediate  cash
own-account      paid to the municipality's own account          intermediate  own_account
trivial          below its benefit's lower limit                 intermediate  trivial
===============  ============================================  ============  ============

So the intermediate account holds exactly the payments journaled and not yet paid, cancelled
or moved elsewhere: the **outstanding** payments (:data:`OUTSTANDING_STATES`), including those
rejected, stopped or failed and waiting for handling. Events are found by the payments' states
(:data:`EVENT_SOURCES`), each recorded once per payment; ``reversed`` only for a payment whose
``effectuated`` was booked, so the books hold whichever path the payment took. A new payment
event is one more :class:`PostingRule` and one more
:class:`~toekgw.gateway.journal.books.EventSource` here, nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from toekgw.adapters.g68.inbound import G68_DELIVERY
from toekgw.adapters.g68.payments import FOLLOW_UP_KIND, PAYMENT_ITEM
from toekgw.adapters.tok.kinds import TOK_PAYMENTS
from toekgw.gateway.journal.books import EventSource

__all__ = [
    "CLOSED_STATES",
    "EFFECTUATED_STATES",
    "EVENT_SOURCES",
    "OIR_NAMESPACE",
    "OUTSTANDING_STATES",
    "PAYMENT_KINDS",
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
        PostingRule("reversed", "bank", "intermediate", "Udbetaling fejlet efter banken"),
        PostingRule("cancelled", "intermediate", "expense", "Udbetaling annulleret"),
        PostingRule("cash", "intermediate", "cash", "Udbetalt ved kontantbilag"),
        PostingRule("own-account", "intermediate", "own_account", "Udbetalt til egen konto"),
        PostingRule("trivial", "intermediate", "trivial", "Bagatelbeløb"),
    )
}

#: The journal kinds whose items are payments: from G68 deliveries, ordered on TØK's payments
#: interface (a changed or set-off payment is its original recalled, cancelled in the books,
#: and a next version journaled at the new amount), and their follow-ups.
PAYMENT_KINDS = (G68_DELIVERY.name, TOK_PAYMENTS, FOLLOW_UP_KIND)
#: Every state of a payment (not of a recall request).
PAYMENT_STATES = tuple(s for s in PAYMENT_ITEM.descriptions if not s.startswith("recall-"))
EFFECTUATED_STATES = ("at-bank", "fail-requested", "cheque", "error-account")
_AFTER_FAILURE = (
    "failed-after-bank",
    "awaiting-approval",
    "resent",
    "redirected",
    "cash-voucher",
    "own-account",
    "recalled",
)
_ENDS = {
    "cancelled": ("recalled", "resent", "redirected"),
    "cash": ("cash-voucher",),
    "own-account": ("own-account",),
    "trivial": ("trivial-amount",),
}
#: Where a payment's debt has left the intermediate account: paid, cancelled or moved.
CLOSED_STATES = EFFECTUATED_STATES + tuple(s for states in _ENDS.values() for s in states)
OUTSTANDING_STATES = tuple(s for s in PAYMENT_STATES if s not in CLOSED_STATES)


def _source(
    event: str, states: tuple[str, ...], dated_by: str, requires: str | None = None
) -> EventSource:
    assert set(states) <= set(PAYMENT_STATES), set(states) - set(PAYMENT_STATES)
    return EventSource(
        event,
        PAYMENT_KINDS,
        states,
        dated_by,
        group="municipality",
        category="transaction_type",
        requires=requires,
    )


#: Where each event of :data:`RULES` is found in the journal.
EVENT_SOURCES = (
    _source("journaled", PAYMENT_STATES, "created"),
    _source("effectuated", EFFECTUATED_STATES, "updated"),
    _source("reversed", _AFTER_FAILURE, "updated", requires="effectuated"),
    *(_source(event, states, "updated") for event, states in _ENDS.items()),
)
assert {s.event for s in EVENT_SOURCES} == set(RULES)
