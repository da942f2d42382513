"""Typed G68 records. Money is integer øre; the sign is kept beside the unsigned amount.

Plain ``slots`` dataclasses (not frozen): a delivery has up to 99,999 payments and a frozen
dataclass costs several times as much to build (see PERFORMANCE.md).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

__all__ = ["G68Delivery", "G68Form", "G68Header", "G68Payment", "G68Trailer"]


class G68Form(enum.StrEnum):
    """The form of a delivery's G68 records, as Z300 and each record's position 14 say."""

    FLOATING = "1"  # flydende: fixed prefix plus tagged fields
    FAST = "2"  # fast: fixed positions, 256 characters

    @classmethod
    def from_name(cls, name: str) -> G68Form:
        return cls[name.upper()]


@dataclass(slots=True)
class G68Header:
    """Z300: the start record."""

    supplier_id: str  # dataleverandør-id, 8 digits
    created_date: dt.date
    created_time: dt.time
    delivery_number: int
    form: G68Form


@dataclass(slots=True)
class G68Trailer:
    """SLUTD: the end record with the delivery's control totals."""

    supplier_id: str
    count: int
    net_sum: int  # øre, signed: pluses minus minuses


@dataclass(slots=True)
class G68Payment:
    """One G68 payment transaction, the same in both forms.

    ``amount`` is unsigned øre as written; ``sign`` ``-`` makes the record a recall of an
    earlier payment with the same ``payment_ident``. ``ident_code`` is always the digit code
    (letter aliases C/E are read as 11/12). ``beneficiary`` is the 14-digit field as written
    (zero-padded); ``texts`` are the payment text lines in order, ``""`` for a skipped line.
    """

    registration_place: str
    sequence: int
    transaction_type: str  # "01" another destination allowed, "10" forced destination
    paying_unit: str | None
    organisation_type: str | None
    payment_ident: str
    amount: int
    sign: str
    ident_code: str
    beneficiary: str
    payment_date: dt.date | None
    posting_reference: str
    texts: tuple[str, ...] = ()

    @property
    def signed_amount(self) -> int:
        return -self.amount if self.sign == "-" else self.amount

    @property
    def is_recall(self) -> bool:
        return self.sign == "-"


@dataclass(slots=True)
class G68Delivery:
    """A whole delivery in memory (for writing and for tests; reading streams instead)."""

    header: G68Header
    payments: list[G68Payment] = field(default_factory=list)
    trailer: G68Trailer | None = None

    def control_trailer(self) -> G68Trailer:
        """The SLUTD that matches the payments (count and net sum)."""
        return G68Trailer(
            self.header.supplier_id,
            len(self.payments),
            sum(p.signed_amount for p in self.payments),
        )
