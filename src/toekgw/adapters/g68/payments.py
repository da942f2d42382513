"""A payment on its way from its sender (a G68 record from KSD) to NemKonto and the bank.

Two things live here because two adapters share them: the states a payment item moves
through in the journal (:data:`PAYMENT_ITEM`), and the payload journaled with each payment
(:class:`PaymentInstruction`) — everything NemKonto bundling needs, so that a bundle is built
from the journal alone and never from a staging file that an operator may have moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields

from toekgw.formats.g68 import G68Header, G68Payment
from toekgw.gateway.journal import Lifecycle, NewItem

__all__ = ["FINAL_STATES", "PAYMENT_ITEM", "PaymentInstruction"]

PAYMENT_ITEM = Lifecycle(
    initial=("pending", "recall-requested"),
    transitions={
        "pending": ("released", "recalled", "blocked"),
        "blocked": ("pending", "recalled"),
        "released": ("sent",),
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
    },
)

FINAL_STATES = frozenset(
    state
    for state in PAYMENT_ITEM.descriptions
    if state not in PAYMENT_ITEM.transitions and state not in PAYMENT_ITEM.initial
)


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

    @property
    def business_key(self) -> str:
        """Unique per payment; a recall is its own item, keyed by where it was asked for."""
        key = f"{self.supplier_id}:{self.payment_ident}"
        if self.recall:
            return f"{key}:recall:{self.delivery_number}:{self.line}"
        return key

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
        return cls(
            supplier_id=header.supplier_id,
            delivery_number=header.delivery_number,
            line=line,
            municipality=payment.registration_place,
            paying_unit=payment.paying_unit,
            payment_ident=payment.payment_ident,
            amount_ore=payment.amount,
            recall=payment.is_recall,
            transaction_type=payment.transaction_type,
            ident_code=payment.ident_code,
            beneficiary=payment.beneficiary,
            disposition_date=payment.payment_date,
            posting_reference=payment.posting_reference,
            texts=tuple(payment.texts),
            straks=straks,
        )

    def new_item(self) -> NewItem:
        """The payment as a journal item: its payload, and the typed columns release and
        status group and sum on (a recall's amount is negative)."""
        return NewItem(
            self.business_key,
            -self.amount_ore if self.recall else self.amount_ore,
            seq=self.line,
            fingerprint=self.fingerprint,
            data=self.to_data(),
            municipality=self.municipality,
            disposition_date=self.disposition_date,
        )

    def to_data(self) -> dict[str, object]:
        # The fields as they are (all plain values), not dataclasses.asdict: that deep-copies
        # each value and costs more than the rest of a receive of 99,999 payments.
        data: dict[str, object] = {name: getattr(self, name) for name in _FIELDS}
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


_FIELDS = tuple(f.name for f in fields(PaymentInstruction))
