"""ØiR's records: accounts of the municipal chart, postings, vouchers, answers, sortiments.

A **finansbilag** (finance voucher) is what the ERP books: one or more **posteringer**
(postings), each an amount in øre on one account, debit (``D``) or credit (``K``). The ERP
books a voucher only if its debits equal its credits, so :meth:`Voucher.imbalance` is checked
before a voucher is ever written. An **account** of the Ministry of the Interior's municipal
chart is a *funktion* (``hovedkonto.hovedfunktion.funktion``, e.g. ``5.57.72``), a *dranst*
(type of activity, one digit) and an *art* (kind, e.g. ``5.2``); SF7002 sortiments classify the
accounts a system may use, each class with a UUID and a validity interval.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, field

__all__ = [
    "Account",
    "AccountCodeError",
    "Delivery",
    "Klasse",
    "OirFormatError",
    "Party",
    "Posting",
    "RemovedKlasse",
    "Side",
    "SortimentDelivery",
    "UnbalancedVoucher",
    "Voucher",
    "VoucherAnswer",
    "VoucherError",
    "VoucherStatus",
]


class OirFormatError(ValueError):
    """A record that cannot be written or read as ØiR's format says."""


class AccountCodeError(OirFormatError):
    """An account code that is not ``<funktion>/<dranst>/<art>``."""


class UnbalancedVoucher(OirFormatError):
    """A voucher whose debits do not equal its credits (or has no postings): never written."""

    def __init__(self, voucher_id: str, debit: int, credit: int) -> None:
        self.voucher_id, self.debit, self.credit = voucher_id, debit, credit
        super().__init__(
            f"voucher {voucher_id} does not balance: debit {debit} øre, credit {credit} øre"
        )


_CODE = re.compile(r"([0-9]\.[0-9]{2}\.[0-9]{2})/([0-9])/([0-9](?:\.[0-9])?)")


@dataclass(frozen=True, slots=True, order=True)
class Account:
    """``funktion`` ``5.57.72``, ``dranst`` ``1``, ``art`` ``5.2``; written ``5.57.72/1/5.2``."""

    funktion: str
    dranst: str
    art: str

    @property
    def code(self) -> str:
        return f"{self.funktion}/{self.dranst}/{self.art}"

    @classmethod
    def parse(cls, code: str) -> Account:
        m = _CODE.fullmatch(code.strip())
        if m is None:
            raise AccountCodeError(
                f"account code {code!r}: expected <funktion>/<dranst>/<art>, e.g. 5.57.72/1/5.2"
            )
        return cls(m.group(1), m.group(2), m.group(3))

    def __str__(self) -> str:
        return self.code


class Side(enum.StrEnum):
    DEBIT = "D"
    CREDIT = "K"


@dataclass(frozen=True, slots=True)
class Party:
    """Who a posting concerns: ``CPR`` or ``CVR`` and the number."""

    kind: str
    number: str


@dataclass(slots=True)
class Posting:
    """One line of a voucher. ``amount_ore`` > 0; the side says which way."""

    posting_id: str
    date: dt.date
    amount_ore: int
    side: Side
    account: Account
    class_id: str | None = None
    text: str | None = None
    bundle_id: str | None = None
    payment_id: str | None = None
    business_key: str | None = None
    party: Party | None = None


@dataclass(slots=True)
class Voucher:
    """A finansbilag: ``number`` is the human-readable voucher number, ``voucher_id`` the
    stable UUID that makes a re-send recognisable."""

    voucher_id: str
    number: str
    date: dt.date
    postings: list[Posting] = field(default_factory=list)
    text: str | None = None
    reference: str | None = None

    def imbalance(self) -> int:
        """Debit minus credit in øre (0: it balances)."""
        total = 0
        for p in self.postings:
            total += p.amount_ore if p.side is Side.DEBIT else -p.amount_ore
        return total

    def require_balanced(self) -> None:
        debit = sum(p.amount_ore for p in self.postings if p.side is Side.DEBIT)
        credit = sum(p.amount_ore for p in self.postings if p.side is Side.CREDIT)
        if not self.postings or debit != credit:
            raise UnbalancedVoucher(self.voucher_id, debit, credit)


class VoucherStatus(enum.StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class VoucherError:
    code: str
    text: str
    posting_id: str | None = None


@dataclass(frozen=True, slots=True)
class VoucherAnswer:
    """The ERP's answer about one voucher."""

    voucher_id: str
    status: VoucherStatus
    errors: tuple[VoucherError, ...] = ()


class Delivery(enum.StrEnum):
    FULL = "FULD"
    DELTA = "DELTA"


@dataclass(frozen=True, slots=True)
class Klasse:
    """One class of a sortiment: an account with its UUID, title and validity."""

    class_id: str
    code: str
    title: str
    valid_from: dt.date
    valid_to: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class RemovedKlasse:
    """A class taken out of the sortiment (``FjernetKlasse``): no longer to be posted to."""

    class_id: str
    code: str


@dataclass(frozen=True, slots=True)
class SortimentDelivery:
    sortiment_id: str
    name: str
    valid_from: dt.date
    version: int
    delivery: Delivery
    classes: tuple[Klasse, ...]
    removed: tuple[RemovedKlasse, ...] = ()
