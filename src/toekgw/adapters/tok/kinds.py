"""The journal kinds of TØK's interfaces: one transmission per message taken from a queue.

A payment ordered over the payments interface is an item of the same lifecycle as a payment
from a G68 delivery (:data:`~toekgw.adapters.g68.payments.PAYMENT_ITEM`), so the NemKonto
release, send and answers treat both alike. Claims are journaled here until the debtor
system's route (SF1590_B) takes them on, and their items follow what the debtor system
answers; effectuation orders are journaled here. A refused message with a
readable sender is journaled too (one item, ``rejected``), so that its rejection reaches the
sender through the same status outbox as every other change.
"""

from __future__ import annotations

from toekgw.adapters.g68.payments import PAYMENT_ITEM
from toekgw.formats.tok import Interface
from toekgw.gateway.journal import Direction, KindSpec, Lifecycle
from toekgw.gateway.kinds import register_kind

__all__ = [
    "CLAIM_ITEM",
    "COUNTERPART",
    "KINDS",
    "MESSAGE",
    "ORDER_ITEM",
    "PAYMENT",
    "REFUSED",
    "STATUS_KINDS",
    "TOK_PAYMENTS",
]

COUNTERPART = "tok"

MESSAGE = Lifecycle(
    initial=("taken", "refused"),
    transitions={},
    descriptions={
        "taken": "validated and journaled; acknowledged to the broker after the commit",
        "refused": "failed validation: answered with a rejection, dead-lettered, listed (final)",
    },
)

CLAIM_ITEM = Lifecycle(
    initial=("received", "rejected"),
    transitions={"received": ("sent", "rejected"), "sent": ("account-deleted",)},
    descriptions={
        "received": "journaled; waits for the debtor system's route (SF1590_B)",
        "sent": "taken by the municipality's debtor system",
        "rejected": "refused by the gateway or the debtor system: the status says why (final)",
        "account-deleted": "the debtor account was deleted with debt left on the claim (final)",
    },
)

# An effectuation order, a set-off or a case report: journaled, and for a set-off applied to
# the payment it reduces (or refused when that payment has gone).
ORDER_ITEM = Lifecycle(
    initial=("received", "applied", "rejected"),
    transitions={"received": ("applied", "rejected")},
    descriptions={
        "received": "journaled; waits for its route",
        "applied": "applied (final)",
        "rejected": "refused: the status says why (final)",
    },
)

_REFUSAL_ITEM = Lifecycle(
    initial=("rejected",),
    transitions={},
    descriptions={"rejected": "the message failed validation; the status lists why (final)"},
)

# A payment's lifecycle, and a change to one: it replaces a payment not yet released (the
# original is recalled, the changed payment journaled anew) or is refused.
PAYMENT = Lifecycle(
    (*PAYMENT_ITEM.initial, "change-requested"),
    {**PAYMENT_ITEM.transitions, "change-requested": ("change-applied", "change-refused")},
    {
        **PAYMENT_ITEM.descriptions,
        "change-requested": "a change to a payment ordered earlier",
        "change-applied": "the payment was changed before release (final)",
        "change-refused": "the payment had already been released: change refused (final)",
    },
)

#: The kind of a message of the payments interface: its payments are released like G68's.
TOK_PAYMENTS = "tok-payments"

KINDS: dict[Interface, KindSpec] = {
    Interface.PAYMENTS: KindSpec(TOK_PAYMENTS, Direction.IN, MESSAGE, PAYMENT),
    Interface.CLAIMS: KindSpec("tok-claims", Direction.IN, MESSAGE, CLAIM_ITEM),
    Interface.EFFECTUATIONS: KindSpec("tok-effectuations", Direction.IN, MESSAGE, ORDER_ITEM),
}
for _kind in KINDS.values():
    register_kind(_kind)
REFUSED = KindSpec("tok-refused", Direction.IN, MESSAGE, _REFUSAL_ITEM)
register_kind(REFUSED)

#: The kinds whose items' changes are told to their senders.
STATUS_KINDS = (*(k.name for k in KINDS.values()), REFUSED.name)
