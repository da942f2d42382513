"""Konteringskontrol: the intermediate account against the outstanding payments.

By the model (:mod:`toekgw.adapters.oir.model`) the intermediate account's credit balance is,
at any moment, the sum of the outstanding payments: journaled, neither paid nor cancelled.
:func:`konteringskontrol` computes both sides from the journal — the balance from the postings
of every voucher that is booked or on its way (``built``, ``batched``, ``sent``,
``accepted``), the outstanding payments from the payments' states (on a past date: the state
each had then, replayed from the journal's event log) — and lists every payment where they
differ (a held or rejected voucher shows here until it is regenerated). Both sides are read as
streams sorted by business key and merged, so memory does not grow with the journal.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from toekgw.adapters.oir.model import OUTSTANDING_STATES, PAYMENT_KINDS
from toekgw.adapters.oir.settings import OirSettings
from toekgw.adapters.oir.store import BooksJournal

__all__ = ["BOOKED_STATES", "Difference", "Konteringskontrol", "konteringskontrol"]

#: Vouchers whose postings count: booked by the ERP, or on their way to it.
BOOKED_STATES = ("built", "batched", "sent", "accepted")


@dataclass(frozen=True, slots=True)
class Difference:
    business_key: str
    booked_ore: int  # the intermediate account's credit balance for this payment
    outstanding_ore: int  # the payment's amount if it is outstanding, else 0

    @property
    def difference_ore(self) -> int:
        return self.booked_ore - self.outstanding_ore

    def as_dict(self) -> dict[str, object]:
        return {
            "business_key": self.business_key,
            "booked_ore": self.booked_ore,
            "outstanding_ore": self.outstanding_ore,
            "difference_ore": self.difference_ore,
        }


@dataclass(frozen=True, slots=True)
class Konteringskontrol:
    as_of: dt.date | None
    accounts: tuple[str, ...]
    balance_ore: int
    outstanding_ore: int
    outstanding_count: int
    difference_count: int
    differences: tuple[Difference, ...]  # the first of them (``keep``)

    @property
    def agrees(self) -> bool:
        return self.balance_ore == self.outstanding_ore and not self.difference_count

    def as_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "intermediate_accounts": list(self.accounts),
            "intermediate_balance_ore": self.balance_ore,
            "outstanding_ore": self.outstanding_ore,
            "outstanding_payments": self.outstanding_count,
            "agrees": self.agrees,
            "difference_count": self.difference_count,
            "differences": [d.as_dict() for d in self.differences],
        }


def _end_of(day: dt.date, zone: ZoneInfo) -> str:
    """The first instant after ``day`` (a local date) as the journal writes instants."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    return midnight.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _per_payment(
    journal: BooksJournal, settings: OirSettings, accounts: Sequence[str], as_of: dt.date | None
) -> Iterator[tuple[str, int, int]]:
    """``(business key, booked, outstanding)`` per payment, in business-key order: the books'
    and the payments' streams merged, so memory does not grow with the journal."""
    booked = (
        (key, -signed, 0)  # credit balance: what the municipality owes
        for key, signed in journal.account_balances(accounts, states=BOOKED_STATES, until=as_of)
    )
    before = None if as_of is None else _end_of(as_of, ZoneInfo(settings.time_zone))
    outstanding = (
        (key, 0, amount)
        for key, amount in journal.item_amounts(PAYMENT_KINDS, OUTSTANDING_STATES, before=before)
        if amount > 0
    )
    merged = heapq.merge(booked, outstanding, key=operator.itemgetter(0))
    for key, rows in itertools.groupby(merged, key=operator.itemgetter(0)):
        lines = list(rows)
        yield key, sum(r[1] for r in lines), sum(r[2] for r in lines)


def konteringskontrol(
    journal: BooksJournal,
    settings: OirSettings,
    *,
    as_of: dt.date | None = None,
    keep: int = 1000,
    on_difference: Callable[[Difference], None] | None = None,
) -> Konteringskontrol:
    """Both sides as of the end of ``as_of`` (now when None), in one streamed pass: each
    difference goes to ``on_difference`` as it is found; the first ``keep`` are kept."""
    accounts = sorted(
        {settings.accounts["intermediate"].code}
        | {
            own.code
            for m in settings.municipalities
            if (own := settings.account("intermediate", m)) is not None
        }
    )
    balance = outstanding = count = differing = 0
    kept: list[Difference] = []
    for key, booked, owed in _per_payment(journal, settings, accounts, as_of):
        balance += booked
        outstanding += owed
        count += owed > 0
        if booked != owed:
            differing += 1
            difference = Difference(key, booked, owed)
            if on_difference is not None:
                on_difference(difference)
            if len(kept) < keep:
                kept.append(difference)
    return Konteringskontrol(
        as_of, tuple(accounts), balance, outstanding, count, differing, tuple(kept)
    )
