"""Every krone of a received payment counted once, however it was handled.

Each payment received from a sender ends in one place: itself, or the last of its follow-up
payments (``<key>:r1``, ``:r2`` …: resent, alternative account), which carry its amount. That
place's state says where the money is:

- ``paid``: at the bank (Retursvar 8; a registered failure not yet approved stays there),
  a cheque or NemKonto's error account, or paid by cash voucher;
- ``handled``: it will not be paid to the beneficiary, and that was decided and journaled:
  recalled, paid to the municipality's own account, moved to the trivial-amounts account;
- ``outstanding``: everything else: waiting, held, on its way, or failed and not yet handled
  (``failed``, a part of outstanding, counts those).

So ``received = paid + handled + outstanding``, in count and in øre, always.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from toekgw.adapters.g68.payments import FAILED_STATES
from toekgw.adapters.nemkonto.settings import FlowSettings
from toekgw.adapters.payments.query import PaymentQuery, find_payments, follow_ups
from toekgw.gateway.journal import JournalReader

__all__ = ["CLASSES", "PaymentsReconciliation", "classify", "reconcile_payments"]

CLASSES = ("received", "paid", "handled", "outstanding", "failed")
_PAID = frozenset({"at-bank", "cheque", "error-account", "cash-voucher", "fail-requested"})
_HANDLED = frozenset({"recalled", "own-account", "trivial-amount"})


def classify(state: str) -> str:
    """``paid``, ``handled`` or ``outstanding``: where the money of a final place is."""
    if state in _PAID:
        return "paid"
    if state in _HANDLED:
        return "handled"
    return "outstanding"


@dataclass
class PaymentsReconciliation:
    counts: Counter[str] = field(default_factory=Counter)
    sums: Counter[str] = field(default_factory=Counter)
    follow_ups: int = 0

    def add(self, cls: str, amount: int) -> None:
        self.counts[cls] += 1
        self.sums[cls] += amount

    @property
    def balanced(self) -> bool:
        parts = ("paid", "handled", "outstanding")
        return self.counts["received"] == sum(self.counts[p] for p in parts) and self.sums[
            "received"
        ] == sum(self.sums[p] for p in parts)

    def as_dict(self) -> dict[str, object]:
        return {
            **{c: {"count": self.counts[c], "oere": self.sums[c]} for c in CLASSES},
            "follow_ups": self.follow_ups,
            "balanced": self.balanced,
        }


def reconcile_payments(
    journal: JournalReader,
    flow: FlowSettings,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> PaymentsReconciliation:
    """The identity over the received payments dated ``date_from`` .. ``date_to``."""
    result = PaymentsReconciliation()
    query = PaymentQuery(date_from=date_from, date_to=date_to)
    for found in find_payments(journal, flow, query):
        if found.instruction.follows:
            continue  # counted with its original
        amount = found.instruction.amount_ore
        result.add("received", amount)
        chain = follow_ups(journal, flow, found.item.business_key)
        result.follow_ups += len(chain)
        state = chain[-1].item.state if chain else found.item.state
        result.add(classify(state), amount)
        if state in FAILED_STATES:
            result.add("failed", amount)
    return result
