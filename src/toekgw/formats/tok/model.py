"""The messages of TØK's own interfaces as typed records.

Three interfaces, one pattern (solution description: "bidirectional queues (AMQP) with
prioritisation of the messages"): a case system (KY, KP, KSD, ...) sends an order; TØK answers
with a :class:`Status` on receipt and on every later change of the item. Every message carries a
:class:`Header`: its id (the idempotency key), the sender system, the municipality (CVR), the
priority, and when it was created. Money is integer øre, dates are :class:`datetime.date`.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

__all__ = [
    "CaseEvent",
    "CaseReport",
    "ClaimAdjustment",
    "ClaimChange",
    "ClaimCreate",
    "CollectionRelease",
    "EffectuationMethod",
    "EffectuationOrder",
    "Header",
    "Interface",
    "Origin",
    "Party",
    "PartyKind",
    "PaymentChange",
    "PaymentOrder",
    "PaymentRecall",
    "Priority",
    "SetOff",
    "Status",
    "StatusFinding",
    "SubClaim",
    "TokMessage",
]


class Interface(enum.StrEnum):
    PAYMENTS = "payments"
    CLAIMS = "claims"
    EFFECTUATIONS = "effectuations"


class Priority(enum.StrEnum):
    """``straks`` overtakes ``normal``: straks payments, recalls, what a case worker waits for."""

    STRAKS = "straks"
    NORMAL = "normal"

    @property
    def level(self) -> int:
        """The broker priority (AMQP 0-9-1 ``priority``; queues declare ``x-max-priority`` 9)."""
        return 9 if self is Priority.STRAKS else 1


class PartyKind(enum.StrEnum):
    CPR = "CPR"
    CVR = "CVR"


@dataclass(frozen=True, slots=True)
class Party:
    """A citizen (CPR) or a company (CVR). ``repr`` never shows a CPR number in clear."""

    kind: PartyKind
    number: str

    def __repr__(self) -> str:
        shown = f"{self.number[:6]}-****" if self.kind is PartyKind.CPR else self.number
        return f"Party({self.kind.value} {shown})"


@dataclass(frozen=True, slots=True)
class Origin:
    """Who sent a message and under which id: enough to answer it, also when the rest of the
    message (even the rest of its header) cannot be read. ``municipality`` is ``None`` when
    it is not a well-formed CVR number."""

    message_id: str
    sender_system: str
    municipality: str | None


@dataclass(frozen=True, slots=True)
class Header:
    message_id: str
    sender_system: str
    municipality: str
    priority: Priority
    created: dt.datetime

    @property
    def origin(self) -> Origin:
        return Origin(self.message_id, self.sender_system, self.municipality)


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    header: Header
    payment_id: str
    recipient: Party
    amount_ore: int
    disposition_date: dt.date
    benefit_type: str
    texts: tuple[str, ...] = ()

    interface = Interface.PAYMENTS

    @property
    def business_key(self) -> str:
        return self.payment_id


@dataclass(frozen=True, slots=True)
class PaymentChange:
    """A new amount, a new disposition date, or both (at least one is given)."""

    header: Header
    payment_id: str
    amount_ore: int | None
    disposition_date: dt.date | None

    interface = Interface.PAYMENTS

    @property
    def business_key(self) -> str:
        return self.payment_id


@dataclass(frozen=True, slots=True)
class PaymentRecall:
    header: Header
    payment_id: str
    reason: str

    interface = Interface.PAYMENTS

    @property
    def business_key(self) -> str:
        return self.payment_id


@dataclass(frozen=True, slots=True)
class SubClaim:
    sub_claim_id: str
    claim_type: str
    amount_ore: int


@dataclass(frozen=True, slots=True)
class ClaimCreate:
    """A claim (fordring); its sub-claims, when given, add up to its amount."""

    header: Header
    claim_id: str
    debtor: Party
    claim_type: str
    amount_ore: int
    period_from: dt.date
    period_to: dt.date
    founding_date: dt.date
    due_date: dt.date
    sub_claims: tuple[SubClaim, ...] = ()

    interface = Interface.CLAIMS

    @property
    def business_key(self) -> str:
        return self.claim_id


@dataclass(frozen=True, slots=True)
class ClaimAdjustment:
    """A write-up (``up``) or write-down (``down``) of a claim by ``amount_ore``."""

    header: Header
    claim_id: str
    direction: str
    amount_ore: int
    effective_date: dt.date
    reason: str

    interface = Interface.CLAIMS

    @property
    def business_key(self) -> str:
        return self.claim_id


@dataclass(frozen=True, slots=True)
class ClaimChange:
    header: Header
    claim_id: str
    claim_type: str | None
    founding_date: dt.date | None

    interface = Interface.CLAIMS

    @property
    def business_key(self) -> str:
        return self.claim_id


@dataclass(frozen=True, slots=True)
class CollectionRelease:
    header: Header
    claim_id: str

    interface = Interface.CLAIMS

    @property
    def business_key(self) -> str:
        return self.claim_id


class EffectuationMethod(enum.StrEnum):
    SET_OFF = "set-off"
    PAYMENT_PLAN = "payment-plan"
    WITHHOLDING = "withholding"


@dataclass(frozen=True, slots=True)
class EffectuationOrder:
    header: Header
    effectuation_id: str
    claim_id: str
    debtor: Party
    method: EffectuationMethod
    start_date: dt.date

    interface = Interface.EFFECTUATIONS

    @property
    def business_key(self) -> str:
        return self.effectuation_id


@dataclass(frozen=True, slots=True)
class SetOff:
    """A claim reduces a payment by ``amount_ore``; ``action`` is ``create`` or ``change``."""

    header: Header
    set_off_id: str
    action: str
    payment_id: str
    claim_id: str
    amount_ore: int

    interface = Interface.EFFECTUATIONS

    @property
    def business_key(self) -> str:
        return self.set_off_id


class CaseEvent(enum.StrEnum):
    CLOSED = "closed"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class CaseReport:
    """A case closed or deleted: the citizen's tax-card subscription for it stops."""

    header: Header
    case_id: str
    citizen: Party
    event: CaseEvent
    event_date: dt.date

    interface = Interface.EFFECTUATIONS

    @property
    def business_key(self) -> str:
        return self.case_id


TokMessage = (
    PaymentOrder
    | PaymentChange
    | PaymentRecall
    | ClaimCreate
    | ClaimAdjustment
    | ClaimChange
    | CollectionRelease
    | EffectuationOrder
    | SetOff
    | CaseReport
)


@dataclass(frozen=True, slots=True)
class StatusFinding:
    code: str
    where: str | None
    message: str


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    """Where a payment that came in a file stands: the delivery's reference and the line."""

    reference: str
    line: int


@dataclass(frozen=True, slots=True)
class Status:
    """What TØK tells the sender: ``state`` is ``received``, ``rejected`` or the item's state.

    ``event_id`` is unique per event; ``in_reply_to`` is the message id the status answers (absent
    for a change the item went through later, which is found by ``business_key``); ``delivery``
    names the file delivery and line of a payment that came in a G68 file."""

    event_id: str
    in_reply_to: str | None
    interface: Interface
    municipality: str | None
    business_key: str | None
    state: str
    time: dt.datetime
    findings: tuple[StatusFinding, ...] = ()
    delivery: DeliveryLine | None = None
