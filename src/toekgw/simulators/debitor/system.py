"""The simulated debtor system's books: debtor accounts, claims, payments, and their rules.

A B_01 message is applied all or none, its operations in order; one that breaks a rule is a
:class:`Refusal` (code and text, which the server answers as a SOAP fault) and nothing of the
message is kept. A message whose ``BeskedId`` was seen is answered with the first answer and
applied no more (:attr:`DebtorSystem.repeats` counts them). Coverings and write-offs reduce a
claim's remaining debt; their reversals restore it.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable

from toekgw.formats.debitor.daekning import Registrering as Daekning
from toekgw.formats.debitor.registrering import (
    Delfordring,
    Indbetaling,
    IndbetalingBesked,
    NedskrivFordring,
    OpretDebitorkonto,
    OpretFordring,
    Part,
    Registrering,
)

__all__ = ["Claim", "DebtorSystem", "Refusal"]


class Refusal(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code, self.text = code, text


@dataclasses.dataclass
class Claim:
    fordring_id: str
    cvr: str
    konto: str
    original_ore: int
    remaining_ore: int
    released: bool = False
    delfordringer: tuple[Delfordring, ...] = ()
    erstatter: str | None = None  # the claim this one replaced (written down in full)


@dataclasses.dataclass
class _Books:
    accounts: dict[tuple[str, str], Part] = dataclasses.field(default_factory=dict)
    deleted: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    claims: dict[tuple[str, str], Claim] = dataclasses.field(default_factory=dict)
    payments: dict[str, tuple[str, int]] = dataclasses.field(default_factory=dict)  # claim, net


class DebtorSystem:
    """Thread-safe: the HTTP server and the callback sender share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._books = _Books()
        self._answers: dict[str, Refusal | None] = {}
        self.repeats = 0
        self.applied = 0

    def claims(self) -> list[Claim]:
        with self._lock:
            return [dataclasses.replace(c) for c in self._books.claims.values()]

    def claim(self, cvr: str, fordring_id: str) -> Claim | None:
        with self._lock:
            found = self._books.claims.get((cvr, fordring_id))
            return dataclasses.replace(found) if found else None

    def delete_account(self, cvr: str, konto: str) -> None:
        with self._lock:
            self._books.deleted.add((cvr, konto))

    def registrer(self, message: Registrering) -> None:
        """Apply a B_01 message (or raise :class:`Refusal`); a repeat is answered as before."""

        def apply(books: _Books) -> None:
            for op in message.operationer:
                _apply(books, message.cvr, op)

        self._all_or_none(message.besked_id, apply)

    def indbetal(self, message: IndbetalingBesked) -> list[Daekning]:
        """Apply a B_03 message: each payment covers its claim, each reversal gives back to
        the claim what its payment covered; the coverings (and reversals) to tell."""
        covered: list[Daekning] = []

        def apply(books: _Books) -> None:
            for payment in message.indbetalinger:
                if payment.indbetaling_id in books.payments:
                    raise Refusal("DEB-132", f"payment {payment.indbetaling_id} exists already")
                claim = _claim(books, message.cvr, payment.fordring_id)
                if payment.tilbagefoerer is None:
                    kind = "DAEKNING"
                    if payment.beloeb_ore > claim.remaining_ore:
                        raise Refusal(
                            "DEB-130", f"payment above the remaining debt of {claim.fordring_id}"
                        )
                    claim.remaining_ore -= payment.beloeb_ore
                else:
                    kind = "DAEKNING_TILBAGEFOERT"
                    _reverse(books, claim, payment)
                books.payments[payment.indbetaling_id] = (claim.fordring_id, payment.beloeb_ore)
                covered.append(
                    Daekning("", payment.fordring_id, kind, payment.beloeb_ore, payment.dato)
                )

        self._all_or_none(message.besked_id, apply)
        return covered

    def register(self, cvr: str, registrering: Daekning) -> bool:
        """Book a covering, write-off or reversal the debtor system made itself; ``False``
        when the claim is unknown or the amount does not fit (nothing booked)."""
        with self._lock:
            claim = self._books.claims.get((cvr, registrering.fordring_id))
            if claim is None:
                return False
            sign = 1 if registrering.type.endswith("TILBAGEFOERT") else -1
            after = claim.remaining_ore + sign * registrering.beloeb_ore
            if not 0 <= after <= claim.original_ore:
                return False
            claim.remaining_ore = after
            return True

    def _all_or_none(self, besked_id: str, apply: Callable[[_Books], None]) -> None:
        """``apply`` to a copy of the books and keep it, or keep nothing and raise its
        :class:`Refusal`; a repeated ``besked_id`` gets the first answer, nothing applied."""
        with self._lock:
            if besked_id in self._answers:
                self.repeats += 1
                first = self._answers[besked_id]
                if first is not None:
                    raise first
                return
            books = copy.deepcopy(self._books)
            try:
                apply(books)
            except Refusal as refusal:
                self._answers[besked_id] = refusal
                raise
            self._books = books
            self._answers[besked_id] = None
            self.applied += 1


def _reverse(books: _Books, claim: Claim, payment: Indbetaling) -> None:
    """Give back to ``claim`` part of the earlier payment ``payment`` reverses."""
    reversed_id = payment.tilbagefoerer or ""
    fordring, net = books.payments.get(reversed_id, ("", 0))
    if fordring != claim.fordring_id:
        raise Refusal("DEB-131", f"no payment {reversed_id} on {claim.fordring_id} to reverse")
    if payment.beloeb_ore > net or claim.remaining_ore + payment.beloeb_ore > claim.original_ore:
        raise Refusal("DEB-133", f"the reversal is more than payment {reversed_id} covered")
    books.payments[reversed_id] = (fordring, net - payment.beloeb_ore)
    claim.remaining_ore += payment.beloeb_ore


def _claim(books: _Books, cvr: str, fordring_id: str) -> Claim:
    claim = books.claims.get((cvr, fordring_id))
    if claim is None:
        raise Refusal("DEB-120", f"no claim {fordring_id} for CVR {cvr}")
    return claim


def _apply(books: _Books, cvr: str, op: object) -> None:
    if isinstance(op, OpretDebitorkonto):
        key = (cvr, op.debitorkonto_id)
        if key in books.deleted:
            raise Refusal("DEB-101", f"debtor account {op.debitorkonto_id} is deleted")
        known = books.accounts.get(key)
        if known is not None and known != op.part:
            raise Refusal("DEB-102", f"debtor account {op.debitorkonto_id} belongs to another")
        books.accounts[key] = op.part
    elif isinstance(op, OpretFordring):
        key = (cvr, op.debitorkonto_id)
        if key not in books.accounts or key in books.deleted:
            raise Refusal("DEB-103", f"no usable debtor account {op.debitorkonto_id}")
        if (cvr, op.fordring_id) in books.claims:
            raise Refusal("DEB-110", f"claim {op.fordring_id} exists already")
        parts = sum(d.beloeb_ore for d in op.delfordringer)
        if op.delfordringer and parts != op.beloeb_ore:
            raise Refusal("DEB-111", f"the sub-claims of {op.fordring_id} do not add up")
        if op.erstatter is not None and _claim(books, cvr, op.erstatter).remaining_ore != 0:
            raise Refusal("DEB-112", f"claim {op.erstatter} is not written down in full")
        books.claims[(cvr, op.fordring_id)] = Claim(
            op.fordring_id, cvr, op.debitorkonto_id, op.beloeb_ore, op.beloeb_ore,
            op.aktiv, op.delfordringer, op.erstatter,
        )  # fmt: skip
    elif isinstance(op, NedskrivFordring):
        claim = _claim(books, cvr, op.fordring_id)
        if op.beloeb_ore > claim.remaining_ore:
            raise Refusal("DEB-121", f"write-down above the remaining debt of {op.fordring_id}")
        claim.remaining_ore -= op.beloeb_ore
    else:
        _claim(books, cvr, getattr(op, "fordring_id", "")).released = True
