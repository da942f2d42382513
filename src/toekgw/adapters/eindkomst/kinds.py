"""eIndkomst in the journal: its kinds, their lifecycles (as data) and the lookup keys.

A delivery (1000 … 9999) is one outbound transmission. Its items are of four sorts, told apart
by ``data["type"]``:

- ``5000`` / ``3101``: one per report (business key = the report id): what its 7100 confirms;
- ``6000``: one per recipient (business key ``<report id>:<line>``, amount = the sum of its
  6001 amounts, ``seq`` its line): what an error or advice points at, and what the history
  rules sum;
- ``4101``: a reversal; ``2101``: a tax-card order.

Receipts and tax cards are inbound transmissions; their records are items too, found by
lookup key (``rc|<report id>``, ``card|<cpr>``); a tax-card order by ``order|<cpr>``.
"""

from __future__ import annotations

from toekgw.gateway.journal import Direction, Journal, KindSpec, Lifecycle
from toekgw.gateway.kinds import register_kind

__all__ = [
    "COUNTERPART",
    "DELIVERY",
    "RECEIPTS",
    "TAXCARDS",
    "card_lookup",
    "define_kinds",
    "month_lookup",
    "order_lookup",
    "receipt_lookup",
    "recipient_lookup",
    "reversal_lookup",
]

COUNTERPART = "skat-eindkomst"

DELIVERY = KindSpec(
    "eindkomst-delivery",
    Direction.OUT,
    Lifecycle(
        initial=("journaled",),
        transitions={
            "journaled": ("sent", "receipted", "uploaded"),
            "uploaded": ("sent", "failed", "receipted"),
            "failed": ("journaled",),
            "sent": ("receipted",),
        },
        descriptions={
            "journaled": "validated and journaled; not yet handed over (a restart hands it over)",
            "uploaded": "SF0770_B: uploaded with its trigger; waiting for the platform's receipt",
            "failed": "SF0770_B: the platform refused the upload (see toekgw errors)",
            "sent": "with SKAT (MQ put committed, or the platform took the file); "
            "waiting for the receipts",
            "receipted": "every report of the delivery has its 7100 sum receipt",
        },
    ),
    Lifecycle(
        initial=("journaled",),
        transitions={
            "journaled": ("sent", "accepted", "rejected"),
            "sent": ("accepted", "rejected", "error"),
        },
        descriptions={
            "journaled": "in a delivery not yet handed over",
            "sent": "sent; no receipt yet",
            "accepted": "report: 7100 status G (accepted)",
            "rejected": "report: 7100 status A (rejected); it does not count with SKAT",
            "error": "recipient: an error in SKAT's error/advice file names it (see toekgw errors)",
        },
    ),
)
register_kind(DELIVERY)

_RECEIVED = Lifecycle(
    initial=("received", "unreadable"),
    transitions={},
    descriptions={
        "received": "read and journaled; its records are the items",
        "unreadable": "could not be read (see toekgw errors); nothing applied",
    },
)

RECEIPTS = KindSpec(
    "eindkomst-receipts",
    Direction.IN,
    _RECEIVED,
    Lifecycle(("received",), {}, {"received": "a 7100 or error/advice record as received"}),
)
register_kind(RECEIPTS)

TAXCARDS = KindSpec(
    "eindkomst-taxcards",
    Direction.IN,
    _RECEIVED,
    Lifecycle(("received",), {}, {"received": "a tax card as received"}),
)
register_kind(TAXCARDS)


def define_kinds(journal: Journal) -> None:
    for kind in (DELIVERY, RECEIPTS, TAXCARDS):
        journal.define_kind(kind)


def recipient_lookup(se: str, recipient: str, month: str) -> str:
    return f"r|{se}|{recipient}|{month}"


def month_lookup(se: str, month: str) -> str:
    return f"m|{se}|{month}"


def reversal_lookup(report_id: str) -> str:
    return f"rev|{report_id}"


def receipt_lookup(report_id: str) -> str:
    return f"rc|{report_id}"


def card_lookup(cpr: str) -> str:
    return f"card|{cpr}"


def order_lookup(cpr: str) -> str:
    """A citizen's tax-card orders (2101) as sent, oldest first."""
    return f"order|{cpr}"
