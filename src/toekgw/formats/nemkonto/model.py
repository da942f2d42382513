"""Typed records of NemKonto: payment orders, bundles and answers. Money is integer øre."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from toekgw.formats.findings import mask_cpr

__all__ = [
    "Account",
    "Address",
    "AnswerType",
    "BundleAnswer",
    "PaymentBundle",
    "PaymentOrder",
    "PaymentState",
    "PaymentStatus",
    "RecipientId",
    "RecipientKind",
]


class RecipientKind(enum.StrEnum):
    """How an incomplete payment names its recipient; the value is the XML element name."""

    CPR = "CPR"
    CVR = "CVR"
    SE = "SE"
    PNUMBER = "PNumber"


@dataclass(frozen=True, slots=True)
class RecipientId:
    kind: RecipientKind
    number: str

    def __repr__(self) -> str:
        # A CPR number must not reach a log or a traceback through a repr.
        shown = mask_cpr(self.number) if self.kind is RecipientKind.CPR else self.number
        return f"RecipientId({self.kind.value}, {shown!r})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class Account:
    """A Danish bank account: 4-digit registration number and an account number."""

    registration: str
    number: str


@dataclass(frozen=True, slots=True)
class Address:
    lines: tuple[str, ...]
    post_code: str
    city: str
    country: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """One payment (level C). Complete when it carries the recipient's account, else
    incomplete: NemKonto finds the account from the recipient id."""

    payment_id: str
    amount_ore: int
    recipient: RecipientId
    account: Account | None = None
    name: str | None = None
    address: Address | None = None
    notification: tuple[str, ...] = ()
    benefit_kind: str | None = None

    def __post_init__(self) -> None:
        if type(self.amount_ore) is not int or self.amount_ore <= 0:
            raise ValueError(f"payment {self.payment_id!r}: amount_ore must be a positive int")
        if len(self.notification) > 4:
            raise ValueError(f"payment {self.payment_id!r}: at most 4 notification lines")

    @property
    def complete(self) -> bool:
        return self.account is not None


@dataclass(frozen=True, slots=True)
class PaymentBundle:
    """One NKSPayment message: one municipality, one disposition date, up to the cap of
    payments. The header's count and control sum are derived, never stored."""

    bundle_id: str
    created_at: dt.datetime
    authority_cvr: str
    agreement_number: str
    payment_information_id: str
    disposition_date: dt.date
    debtor_account: Account
    payments: tuple[PaymentOrder, ...]

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must carry a time zone")
        if not self.payments:
            raise ValueError("a bundle holds at least one payment")

    @property
    def number_of_payments(self) -> int:
        return len(self.payments)

    @property
    def control_sum_ore(self) -> int:
        return sum(p.amount_ore for p in self.payments)


class AnswerType(enum.IntEnum):
    """Kvitteringssvar 0/1 and Retursvar 2/5/7/8/9."""

    UNREADABLE = 0
    RECEIVED = 1
    RECEIVE_CONTROL = 2
    STOPPED = 5
    COMPLETION_FAILED = 7
    RECEIVED_BY_BANK = 8
    BANK_ERROR = 9

    @property
    def about_payments(self) -> bool:
        return self not in (AnswerType.UNREADABLE, AnswerType.RECEIVED)


class PaymentState(enum.StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    CHEQUE = "CHEQUE"
    ERROR_ACCOUNT = "ERROR_ACCOUNT"
    STOPPED = "STOPPED"
    RECEIVED_BY_BANK = "RECEIVED_BY_BANK"
    BANK_ERROR = "BANK_ERROR"


@dataclass(frozen=True, slots=True)
class PaymentStatus:
    payment_id: str
    status: PaymentState
    error_code: str | None = None
    error_text: str | None = None


@dataclass(frozen=True, slots=True)
class BundleAnswer:
    """One answer on the reply queue. ``bundle_id`` is ``None`` only in a type 0 answer to a
    message whose bundle id could not be read."""

    answer_type: AnswerType
    bundle_id: str | None
    processed_at: dt.datetime
    received_count: int | None = None
    accepted_count: int | None = None
    error_code: str | None = None
    error_text: str | None = None
    payments: tuple[PaymentStatus, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.processed_at.tzinfo is None:
            raise ValueError("processed_at must carry a time zone")
        if self.bundle_id is None and self.answer_type is not AnswerType.UNREADABLE:
            raise ValueError("only a type 0 answer may lack the bundle id")
        if self.answer_type.about_payments and not self.payments:
            raise ValueError(f"answer type {int(self.answer_type)} names at least one payment")
        if not self.answer_type.about_payments and self.payments:
            raise ValueError(f"answer type {int(self.answer_type)} names no payments")
