"""A payment on its way from its sender (a G68 record from KSD) to NemKonto and the bank.

Two things live here because two adapters share them: the states a payment item moves
through in the journal (:data:`PAYMENT_ITEM`), and the payload journaled with each payment
(:class:`PaymentInstruction`) — everything NemKonto bundling needs, so that a bundle is built
from the journal alone and never from a staging file that an operator may have moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from json.encoder import encode_basestring

from toekgw.formats.g68 import G68Header, G68Payment
from toekgw.formats.g68.codec import PaymentValues
from toekgw.gateway.journal import Lifecycle, NewItem

__all__ = [
    "FAILED_STATES",
    "FINAL_STATES",
    "FOLLOW_UP_KIND",
    "HANDLED_STATES",
    "HOLD_STATES",
    "NOT_PAID_STATES",
    "PAYMENT_ITEM",
    "InstructionFields",
    "PaymentInstruction",
    "control_key",
    "control_key_text",
    "payment_item",
    "received_item",
]

#: The journal kind of follow-up payments (``toekgw payments resend`` / ``pay-alternative``):
#: released, bundled and answered like the payments received from a sender.
FOLLOW_UP_KIND = "payment-follow-up"

# Held before release by an operator or a payment control (``toekgw payments``).
HOLD_STATES = ("held", "suspected-duplicate", "over-limit")
# Not paid after NemKonto or the bank answered: each may be handled (``toekgw payments``).
FAILED_STATES = ("rejected", "bank-error", "stopped", "failed-after-bank")
# Where a handled payment ends: each is an explicit, journaled event with who and why.
HANDLED_STATES = ("resent", "redirected", "cash-voucher", "own-account", "trivial-amount")
# Ended unpaid (recalled, or failed and not yet handled): a payment like it is no duplicate.
NOT_PAID_STATES = frozenset({"recalled", *FAILED_STATES})
_OUT_OF_NEMKONTO = ("recalled", "own-account")
_HANDLING = ("resent", "awaiting-approval", "redirected", "cash-voucher", *_OUT_OF_NEMKONTO)

PAYMENT_ITEM = Lifecycle(
    initial=("pending", "recall-requested"),
    transitions={
        "pending": (
            "released",
            "recalled",
            "blocked",
            *HOLD_STATES,
            "trivial-amount",
            "own-account",
        ),
        "blocked": ("pending", "recalled", "held", "own-account"),
        "held": ("pending", *_OUT_OF_NEMKONTO),
        "suspected-duplicate": ("pending", "held", *_OUT_OF_NEMKONTO),
        "over-limit": ("pending", "held", *_OUT_OF_NEMKONTO),
        # Blocked after release, before the send: its bundle is withdrawn, the others of the
        # bundle are bundled again (toekgw.adapters.nemkonto.withdraw).
        "released": ("sent", "held", "pending"),
        # Answers may arrive out of order (a Retursvar 2 before the Kvitteringssvar 1), so a
        # sent payment may move straight to any answered state; answer 0 returns it to pending.
        # Any later answer may overtake an earlier one (an 8 before its 2), so each state may
        # move to any state further along; a 7 may reject a payment the 2 accepted.
        "sent": (
            "received",
            "accepted",
            "rejected",
            "cheque",
            "error-account",
            "pending",
            "at-bank",
            "stopped",
            "bank-error",
        ),
        "received": (
            "accepted",
            "rejected",
            "cheque",
            "error-account",
            "at-bank",
            "stopped",
            "bank-error",
        ),
        "accepted": ("at-bank", "stopped", "bank-error", "cheque", "error-account", "rejected"),
        "recall-requested": ("recall-applied", "recall-refused"),
        **{state: _HANDLING for state in FAILED_STATES},
        "awaiting-approval": ("redirected", *FAILED_STATES),
        "at-bank": ("fail-requested",),
        "fail-requested": ("failed-after-bank", "at-bank"),
    },
    descriptions={
        "pending": "journaled; waits for its release date (or is straks)",
        "blocked": "held in the journal: its recipient is blocked",
        "recalled": "recalled by its sender before release (final)",
        "released": "released for NemKonto; being bundled",
        "sent": "in a bundle put on the NemKonto request queue",
        "received": "NemKonto received its bundle (Kvitteringssvar 1)",
        "accepted": "accepted by NemKonto's receive control (Retursvar 2)",
        "at-bank": "received by the recipient's bank (Retursvar 8) (final)",
        "rejected": "rejected (Retursvar 2 or 7): on the manual-handling list (final)",
        "cheque": "no NemKonto account: sent as a cheque (Retursvar 7) (final)",
        "error-account": "no NemKonto account: paid to the error account (Retursvar 7) (final)",
        "stopped": "stopped on request (Retursvar 5) (final)",
        "bank-error": "error in the bank (Retursvar 9): manual handling (final)",
        "recall-requested": "a G68 '-' record asking to recall the payment with its ident",
        "recall-applied": "the recall stopped the payment before release (final)",
        "recall-refused": "the payment was already released: recall refused (final)",
        "held": "held by an operator (toekgw payments block) until unblocked",
        "suspected-duplicate": "held by the duplicate-payment control until released or recalled",
        "over-limit": "above its benefit type's upper amount limit: held for manual handling",
        "trivial-amount": "below the lower amount limit: moved to the trivial-amounts account "
        "(final)",
        "own-account": "paid to the municipality's own account, never to NemKonto (final)",
        "resent": "handled: paid again by a new payment to NemKonto, linked (final)",
        "awaiting-approval": "an alternative account is requested: waits for a second person",
        "redirected": "handled: paid to an alternative account by a new linked payment (final)",
        "cash-voucher": "handled: paid outside NemKonto by cash voucher (kontantbilag) (final)",
        "fail-requested": "registered as failed after the bank: waits for a second person",
        "failed-after-bank": "failed after the bank (approved): to be handled",
    },
)

FINAL_STATES = frozenset(
    {
        state
        for state in PAYMENT_ITEM.descriptions
        if state not in PAYMENT_ITEM.transitions and state not in PAYMENT_ITEM.initial
    }
    | {"at-bank", *FAILED_STATES}
)
"""Where NemKonto's flow ends a payment: no answer moves it on. A failed one (and one at the
bank, once registered as failed) leaves only by an explicit handling event."""


@dataclass(frozen=True, slots=True)
class PaymentInstruction:
    """One payment (or recall) as journaled: the G68 record plus where it came from.

    ``municipality`` is the G68 registration place; ``beneficiary`` the 14-digit field as
    written, read according to ``ident_code`` (02 CPR, 11 CVR, 03 SE, 12 P-number,
    01 registration + account number). ``amount_ore`` is unsigned; ``recall`` marks a
    ``-`` record.
    """

    supplier_id: str
    delivery_number: int
    line: int
    municipality: str
    paying_unit: str | None
    payment_ident: str
    amount_ore: int
    recall: bool
    transaction_type: str
    ident_code: str
    beneficiary: str
    disposition_date: dt.date | None
    posting_reference: str
    texts: tuple[str, ...]
    straks: bool
    # A follow-up payment (``toekgw payments resend`` / ``pay-alternative``): its own key
    # (the original's with ``:r<n>``) and the key of the payment it pays again.
    follow_up_key: str | None = None
    follows: str | None = None

    @property
    def business_key(self) -> str:
        """Unique per payment; a recall is its own item, keyed by where it was asked for."""
        if self.follow_up_key:
            return self.follow_up_key
        key = f"{self.supplier_id}:{self.payment_ident}"
        if self.recall:
            return f"{key}:recall:{self.delivery_number}:{self.line}"
        return key

    @property
    def control_key(self) -> str:
        """The duplicate-payment control's key (state payroll-control guidance): paying unit,
        beneficiary, amount and disposition date. Not the payment ident: a reused ident is a
        different error, found at receive."""
        return control_key(
            self.paying_unit, self.ident_code, self.beneficiary, self.amount_ore,
            self.disposition_date,
        )  # fmt: skip

    @property
    def fingerprint(self) -> str:
        """What makes two payments "the same" for the duplicate-payment control."""
        date = self.disposition_date.isoformat() if self.disposition_date else ""
        return "|".join(
            (
                self.paying_unit or "",
                self.payment_ident,
                self.ident_code,
                self.beneficiary,
                date,
                str(self.amount_ore),
                "-" if self.recall else "+",
            )
        )

    @classmethod
    def from_g68(
        cls, payment: G68Payment, header: G68Header, line: int, *, straks: bool
    ) -> PaymentInstruction:
        return cls(*_g68_fields(payment, header, line, straks))

    def new_item(self) -> NewItem:
        """The payment as a journal item: its payload, and the typed columns release and
        status group and sum on (a recall's amount is negative)."""
        return NewItem(
            self.business_key,
            -self.amount_ore if self.recall else self.amount_ore,
            seq=self.line,
            fingerprint=self.fingerprint,
            data=self.to_data(),
            lookup=None if self.recall else self.control_key,
            municipality=self.municipality,
            disposition_date=self.disposition_date,
        )

    def to_data(self) -> dict[str, object]:
        # The fields as they are (all plain values), not dataclasses.asdict: that deep-copies
        # each value and costs more than the rest of a receive of 99,999 payments.
        data: dict[str, object] = {name: getattr(self, name) for name in _FIELDS}
        if self.follow_up_key is None:
            del data["follow_up_key"], data["follows"]
        data["disposition_date"] = (
            self.disposition_date.isoformat() if self.disposition_date else None
        )
        data["texts"] = list(self.texts)
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> PaymentInstruction:
        values = dict(data)
        date = values.get("disposition_date")
        values["disposition_date"] = dt.date.fromisoformat(str(date)) if date else None
        texts = values.get("texts") or []
        assert isinstance(texts, list)
        values["texts"] = tuple(str(t) for t in texts)
        return cls(**values)  # type: ignore[arg-type]


def control_key(
    paying_unit: str | None,
    ident_code: str,
    beneficiary: str,
    amount_ore: int,
    disposition_date: dt.date | None,
) -> str:
    """See :attr:`PaymentInstruction.control_key`."""
    date = disposition_date.isoformat() if disposition_date else ""
    return control_key_text(paying_unit or "", ident_code, beneficiary, amount_ore, date)


def control_key_text(
    paying_unit: str, ident_code: str, beneficiary: str, amount_ore: int, date: str
) -> str:
    """:func:`control_key` of values already text: the paying unit ``""`` where there is
    none, the date ISO or ``""`` (for a caller that has them so, once per payment)."""
    return f"{paying_unit}|{ident_code}|{beneficiary}|{amount_ore}|{date}"


_FIELDS = tuple(f.name for f in fields(PaymentInstruction))


#: The payload of :meth:`PaymentInstruction.to_data` (a received payment: no follow-up keys) as
#: ``json.dumps(data, ensure_ascii=False)`` writes it, keys in the same order; ``%s`` takes a
#: value already in JSON (:func:`_text`, :func:`_maybe`).
_PAYLOAD = (
    '{"supplier_id": %s, "delivery_number": %d, "line": %d, "municipality": %s, '
    '"paying_unit": %s, "payment_ident": %s, "amount_ore": %d, "recall": %s, '
    '"transaction_type": %s, "ident_code": %s, "beneficiary": %s, "disposition_date": %s, '
    '"posting_reference": %s, "texts": [%s], "straks": %s}'
)
#: A string as ``json.dumps(..., ensure_ascii=False)`` writes it (the encoder's own function).
_text = encode_basestring


def _maybe(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def received_item(payment: G68Payment, header: G68Header, line: int, *, straks: bool) -> NewItem:
    """``PaymentInstruction.from_g68(payment, header, line, straks=straks).new_item()``, the
    same item built straight from the record (:func:`payment_item`): the receiver journals up
    to 99,999 of them per delivery, and the frozen instruction and the payload's dict in
    between cost more than the rest of the item (``tests/test_g68_received_item.py`` holds
    the two journal rows equal, byte for byte)."""
    return payment_item(*_g68_fields(payment, header, line, straks), seq=line)


def item_of_values(values: PaymentValues, header: G68Header, line: int, *, straks: bool) -> NewItem:
    """:func:`received_item` of a payment given as its values (``FAST.values_of_matching``),
    without the :class:`G68Payment` in between."""
    rp, _, tt, unit, _, ident, amount, sign, code, ben, day, ref, texts = values
    return payment_item(
        header.supplier_id, header.delivery_number, line, rp, unit, ident, amount, sign == "-",
        tt, code, ben, day, ref, texts, straks, seq=line,
    )  # fmt: skip


#: A :class:`PaymentInstruction`'s own fields in their order (no follow-up keys): what
#: ``PaymentInstruction(*fields)`` and ``payment_item(*fields, seq=...)`` both take, so that
#: a source's fields are mapped once for both.
InstructionFields = tuple[
    str, int, int, str, str | None, str, int, bool, str, str, str, dt.date | None, str,
    tuple[str, ...], bool,
]  # fmt: skip


def _g68_fields(
    payment: G68Payment, header: G68Header, line: int, straks: bool
) -> InstructionFields:
    return (
        header.supplier_id, header.delivery_number, line, payment.registration_place,
        payment.paying_unit, payment.payment_ident, payment.amount, payment.is_recall,
        payment.transaction_type, payment.ident_code, payment.beneficiary,
        payment.payment_date, payment.posting_reference, tuple(payment.texts), straks,
    )  # fmt: skip


def payment_item(
    supplier_id: str,
    delivery_number: int,
    line: int,
    municipality: str,
    paying_unit: str | None,
    payment_ident: str,
    amount_ore: int,
    recall: bool,
    transaction_type: str,
    ident_code: str,
    beneficiary: str,
    disposition_date: dt.date | None,
    posting_reference: str,
    texts: Sequence[str],
    straks: bool,
    *,
    seq: int,
) -> NewItem:
    """The item of the :class:`PaymentInstruction` of these fields (no follow-up keys), with
    ``seq`` (:meth:`~PaymentInstruction.new_item` takes the line), built without the
    instruction: its payload encoded here (:data:`_PAYLOAD`, the same JSON text as the
    journal's encoder makes of ``to_data()``), its keys and columns as the instruction's
    properties make them."""
    ident, unit, code, day = payment_ident, paying_unit, ident_code, disposition_date
    date = day.isoformat() if day else ""
    key, sign = f"{supplier_id}:{ident}", "-" if recall else "+"
    payload = _PAYLOAD % (
        _text(supplier_id),
        delivery_number,
        line,
        _text(municipality),
        _maybe(unit),
        _text(ident),
        amount_ore,
        "true" if recall else "false",
        _text(transaction_type),
        _text(code),
        _text(beneficiary),
        _text(date) if date else "null",
        _text(posting_reference),
        ", ".join(map(_text, texts)),
        "true" if straks else "false",
    )
    return NewItem(
        f"{key}:recall:{delivery_number}:{line}" if recall else key,
        -amount_ore if recall else amount_ore,
        seq=seq,
        fingerprint=f"{unit or ''}|{ident}|{code}|{beneficiary}|{date}|{amount_ore}|{sign}",
        lookup=None
        if recall
        else control_key_text(unit or "", code, beneficiary, amount_ore, date),
        municipality=municipality,
        disposition_date=day,
        payload=payload,
    )
