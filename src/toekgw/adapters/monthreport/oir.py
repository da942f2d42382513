"""The month-end report's ØiR section: vouchers booked → accepted by the ERP, from the books.

A voucher belongs to the month of its posting date. Per municipality (the voucher's group)
and in total, count and amount (the sum of its debit postings, in øre) of the vouchers:

- **booked**: every voucher made for the month (a voucher superseded by a regenerated one
  is left out: the one that replaced it counts);
- **accepted**: the ERP accepted it (SF1590_A status);
- **awaiting**: built, in a batch, or sent, with no status yet;
- **rejected**: the ERP rejected it (to be regenerated);
- **held**: not sent (a closed or unknown account): on the error list.

booked = accepted + awaiting + rejected + held, in count and amount.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from toekgw.gateway.journal.books import Books

__all__ = ["OIR_COLUMNS", "VoucherTally", "oir_tallies"]

OIR_COLUMNS = ("booked", "accepted", "awaiting", "rejected", "held")
_COLUMNS_OF = {
    "built": ("booked", "awaiting"),
    "batched": ("booked", "awaiting"),
    "sent": ("booked", "awaiting"),
    "accepted": ("booked", "accepted"),
    "rejected": ("booked", "rejected"),
    "held": ("booked", "held"),
}


@dataclass
class VoucherTally:
    counts: Counter[str] = field(default_factory=Counter)
    oere: Counter[str] = field(default_factory=Counter)

    def add(self, other: VoucherTally) -> None:
        self.counts.update(other.counts)
        self.oere.update(other.oere)


def oir_tallies(books: Books, first: dt.date, last: dt.date) -> dict[str, VoucherTally]:
    """Per municipality, the month's vouchers by column; one streamed pass over the postings."""
    tallies: dict[str, VoucherTally] = {}
    previous: int | None = None
    for voucher, posting in books.month_postings(first, last, states=tuple(_COLUMNS_OF)):
        tally = tallies.setdefault(voucher.group, VoucherTally())
        columns = _COLUMNS_OF[voucher.state]
        if voucher.id != previous:
            tally.counts.update(columns)
            previous = voucher.id
        if posting.side == "D":
            for column in columns:
                tally.oere[column] += posting.amount_ore
    return tallies
