"""Typed records of NemKonto: payment orders, bundles and answers. Money is integer øre."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, overload

from toekgw.formats.findings import mask_cpr

__all__ = [
    "Account",
    "Address",
    "AnswerType",
    "BundleAnswer",
    "OriginalTransaction",
    "PaymentBundle",
    "PaymentOrder",
    "PaymentState",
    "PaymentStatus",
    "PaymentStatuses",
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
    """A Danish bank account: 4-digit registration number and an account number of up to 10
    digits, kept zero-padded to 10 as in the BBAN (``registration + number``, 14 digits)."""

    registration: str
    number: str

    def __post_init__(self) -> None:
        if self.number.isdigit() and len(self.number) < 10:
            object.__setattr__(self, "number", self.number.zfill(10))

    @property
    def bban(self) -> str:
        return self.registration + self.number

    @classmethod
    def from_bban(cls, bban: str) -> Account:
        """The account of a 14-digit BBAN: 4-digit registration, 10-digit account."""
        return cls(bban[:4], bban[4:])


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
    """One NKSBetaling message (the payment bundle): one municipality, one disposition date,
    up to the cap of payments. The header's count and control sum are derived, never stored."""

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

    @property
    def bundle_level(self) -> bool:
        """Whether this kind can reject (5: stop) a whole bundle; 7, 8 and 9 cannot."""
        return self in (
            AnswerType.UNREADABLE,
            AnswerType.RECEIVED,
            AnswerType.RECEIVE_CONTROL,
            AnswerType.STOPPED,
        )


class PaymentState(enum.StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    CHEQUE = "CHEQUE"
    ERROR_ACCOUNT = "ERROR_ACCOUNT"
    STOPPED = "STOPPED"
    # ours: a stop request (NKSStop) came too late, the payment goes ahead (Retursvar 5)
    STOP_REFUSED = "STOP_REFUSED"
    RECEIVED_BY_BANK = "RECEIVED_BY_BANK"
    BANK_ERROR = "BANK_ERROR"


@dataclass(frozen=True, slots=True)
class OriginalTransaction:
    """What an answer repeats of the payment it is about (``OrgnlTxInf``): the amount, whether
    it was incomplete (NemKonto found the account), the recipient and, when known, the
    account the money went to."""

    amount_ore: int
    incomplete: bool
    recipient: RecipientId | None = None
    account: Account | None = None


@dataclass(frozen=True, slots=True)
class PaymentStatus:
    """One payment in an answer. ``payment_id`` is the echoed ``EndToEndId``;
    ``instruction_id`` the echoed ``InstrId`` when it differs (we send both the same)."""

    payment_id: str
    status: PaymentState
    error_code: str | None = None
    error_text: str | None = None
    original: OriginalTransaction | None = None
    instruction_id: str | None = None


_V = TypeVar("_V")


class PaymentStatuses(Sequence[PaymentStatus]):
    """An answer's payments held as columns, one list per field of :class:`PaymentStatus`:
    a Retursvar about 100,000 payments is six lists, not 100,000 objects. A
    :class:`PaymentStatus` is made when one is asked for (by index or iteration); a reader
    that goes through them all reads the columns. Equal to any sequence of the same
    payments."""

    __slots__ = (
        "error_codes",
        "error_texts",
        "instruction_ids",
        "originals",
        "payment_ids",
        "statuses",
    )

    def __init__(
        self,
        payment_ids: Sequence[str],
        statuses: Sequence[PaymentState],
        *,
        error_codes: Sequence[str | None] | None = None,
        error_texts: Sequence[str | None] | None = None,
        originals: Sequence[OriginalTransaction | None] | None = None,
        instruction_ids: Sequence[str | None] | None = None,
    ) -> None:
        """A column left out is ``None`` for every payment. The columns are kept as tuples
        (copied: a few microseconds for 10,000), so the payments cannot change."""
        count = len(payment_ids)
        nothing: tuple[None, ...] = (None,) * count
        self.payment_ids: tuple[str, ...] = tuple(payment_ids)
        self.statuses: tuple[PaymentState, ...] = tuple(statuses)
        self.error_codes: tuple[str | None, ...] = _column(error_codes, nothing)
        self.error_texts: tuple[str | None, ...] = _column(error_texts, nothing)
        self.originals: tuple[OriginalTransaction | None, ...] = _column(originals, nothing)
        self.instruction_ids: tuple[str | None, ...] = _column(instruction_ids, nothing)
        if any(len(c) != count for c in self._columns()):
            raise ValueError("the columns of an answer's payments differ in length")

    @classmethod
    def of(cls, payments: Sequence[PaymentStatus]) -> PaymentStatuses:
        """``payments`` as columns (the same object if it is already)."""
        if isinstance(payments, PaymentStatuses):
            return payments
        return cls(
            [p.payment_id for p in payments],
            [p.status for p in payments],
            error_codes=[p.error_code for p in payments],
            error_texts=[p.error_text for p in payments],
            originals=[p.original for p in payments],
            instruction_ids=[p.instruction_id for p in payments],
        )

    def __len__(self) -> int:
        return len(self.payment_ids)

    @overload
    def __getitem__(self, index: int) -> PaymentStatus: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[PaymentStatus, ...]: ...

    def __getitem__(self, index: int | slice) -> PaymentStatus | tuple[PaymentStatus, ...]:
        if isinstance(index, slice):
            return tuple(self[n] for n in range(len(self))[index])
        return PaymentStatus(
            self.payment_ids[index],
            self.statuses[index],
            self.error_codes[index],
            self.error_texts[index],
            self.originals[index],
            self.instruction_ids[index],
        )

    def __iter__(self) -> Iterator[PaymentStatus]:
        for row in zip(*self._columns(), strict=True):
            yield PaymentStatus(*row)

    def _columns(self) -> tuple[Sequence[object], ...]:
        return (
            self.payment_ids,
            self.statuses,
            self.error_codes,
            self.error_texts,
            self.originals,
            self.instruction_ids,
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PaymentStatuses):
            return self._columns() == other._columns()
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"PaymentStatuses({list(self)!r})"


def _column(values: Sequence[_V] | None, nothing: tuple[None, ...]) -> tuple[_V | None, ...]:
    return nothing if values is None else tuple(values)


@dataclass(frozen=True, slots=True)
class BundleAnswer:
    """One answer on the reply queue. ``bundle_id`` is ``None`` only in a type 0 answer to a
    message whose bundle id could not be read.

    ``bundle_rejected`` is the bundle-level status (``GrpSts`` RJCT): always so in a
    Kvitteringssvar 0; a Kvitteringssvar 1 or Retursvar 2 that rejects the whole bundle; a
    Retursvar 5 (payments stopped). A bundle-level answer that lists no payments is about
    every payment of the bundle. ``error_code``/``error_text`` are the bundle-level
    ``StsRsn``/``AddtlInf``; ``message_id`` the answer's own id and ``ref_to_message_id`` the
    id of the message it answers (the header's ``RefToMessageId``), when the document has them.
    """

    answer_type: AnswerType
    bundle_id: str | None
    processed_at: dt.datetime
    error_code: str | None = None
    error_text: str | None = None
    payments: Sequence[PaymentStatus] = field(default=())
    bundle_rejected: bool = False
    message_id: str | None = None
    ref_to_message_id: str | None = None

    def __post_init__(self) -> None:
        if self.processed_at.tzinfo is None:
            raise ValueError("processed_at must carry a time zone")
        if self.bundle_id is None and self.answer_type is not AnswerType.UNREADABLE:
            raise ValueError("only a type 0 answer may lack the bundle id")
        if self.answer_type is AnswerType.UNREADABLE:
            object.__setattr__(self, "bundle_rejected", True)
        if self.message_id is None:
            # Every answer document has an id (PmtInitnStsId); ours is derived when not given.
            mid = f"{self.bundle_id or 'unread'}-{int(self.answer_type)}"
            object.__setattr__(self, "message_id", mid)
        if self.bundle_rejected and not self.answer_type.bundle_level:
            raise ValueError(f"answer type {int(self.answer_type)} cannot reject a bundle")
        if self.answer_type.about_payments and not self.payments and not self.bundle_rejected:
            raise ValueError(f"answer type {int(self.answer_type)} names at least one payment")
        if not self.answer_type.about_payments and self.payments:
            raise ValueError(f"answer type {int(self.answer_type)} names no payments")

    @property
    def whole_bundle(self) -> bool:
        """A bundle-level reject or stop that names no payment: it is about them all."""
        return self.bundle_rejected and not self.payments
