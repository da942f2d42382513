"""Konteringskontrol: the intermediate account against the outstanding payments.

By the model (:mod:`toekgw.adapters.oir.model`) the intermediate account's credit balance is,
at any moment, the sum of the outstanding payments: journaled, neither paid nor cancelled.
:func:`konteringskontrol` computes both sides from the journal — the balance from the postings
of every voucher that is booked or on its way (``built``, ``batched``, ``sent``,
``accepted``), the outstanding payments from the payments' own states — and lists every
payment where they differ (a held or rejected voucher shows here until it is regenerated).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from toekgw.adapters.oir.model import CLOSED_STATES, OUTSTANDING_STATES, PAYMENT_KINDS
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


@dataclass(frozen=True, slots=True)
class Konteringskontrol:
    as_of: dt.date | None
    accounts: tuple[str, ...]
    balance_ore: int
    outstanding_ore: int
    outstanding_count: int
    differences: tuple[Difference, ...]

    @property
    def agrees(self) -> bool:
        return self.balance_ore == self.outstanding_ore and not self.differences

    def as_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "intermediate_accounts": list(self.accounts),
            "intermediate_balance_ore": self.balance_ore,
            "outstanding_ore": self.outstanding_ore,
            "outstanding_payments": self.outstanding_count,
            "agrees": self.agrees,
            "differences": [
                {
                    "business_key": d.business_key,
                    "booked_ore": d.booked_ore,
                    "outstanding_ore": d.outstanding_ore,
                    "difference_ore": d.difference_ore,
                }
                for d in self.differences
            ],
        }


def _day(stamp: str, zone: ZoneInfo) -> dt.date:
    return dt.datetime.fromisoformat(stamp).astimezone(zone).date()


def konteringskontrol(
    journal: BooksJournal, settings: OirSettings, *, as_of: dt.date | None = None
) -> Konteringskontrol:
    """Both sides as of the end of ``as_of`` (now when None), and every difference."""
    accounts = sorted(
        {settings.accounts["intermediate"].code}
        | {
            own.code
            for m in settings.municipalities
            if (own := settings.account("intermediate", m)) is not None
        }
    )
    booked: dict[str, int] = defaultdict(int)
    for code in accounts:
        for key, signed in journal.account_lines(code, states=BOOKED_STATES, until=as_of):
            booked[key or ""] -= signed  # credit balance: what the municipality owes
    zone = ZoneInfo(settings.time_zone)
    outstanding: dict[str, int] = {}
    later_final = () if as_of is None else CLOSED_STATES
    for kind, state in itertools.product(PAYMENT_KINDS, OUTSTANDING_STATES + later_final):
        for item in journal.items_of_kind(kind, state):
            if item.amount_ore <= 0:
                continue
            if as_of is not None:
                if _day(item.created_at, zone) > as_of:
                    continue
                if state in later_final and _day(item.updated_at, zone) <= as_of:
                    continue
            outstanding[item.business_key] = item.amount_ore
    differences = tuple(
        Difference(key, booked.get(key, 0), outstanding.get(key, 0))
        for key in sorted(set(booked) | set(outstanding))
        if booked.get(key, 0) != outstanding.get(key, 0)
    )
    return Konteringskontrol(
        as_of,
        tuple(accounts),
        sum(booked.values()),
        sum(outstanding.values()),
        len(outstanding),
        differences,
    )
