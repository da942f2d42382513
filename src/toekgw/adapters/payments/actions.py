"""Handling actions on one payment: every way out of a failure, each an event with who, when
and why (``toekgw payments …``).

A :class:`PaymentDesk` acts as one person (:func:`toekgw.gateway.identity.acting_identity`)
on one journal. Each action runs in one durable journal transaction and moves the payment with
a compare-and-set, so two operators acting at once cannot both succeed; an action that is not
allowed raises :class:`ActionRefused` (exit 1) and changes nothing.

- ``resend``: a failed payment is paid again to NemKonto by a new payment (same recipient,
  new id ``<original>:r<n>``), linked both ways;
- ``pay_alternative``: paid to a registration + account number instead, by a new payment;
  per municipality it waits for a second person's ``approve`` (four eyes) or goes at once and
  is listed on the report of payments outside NemKonto;
- ``cash``: paid outside NemKonto by cash voucher (kontantbilag): a record;
- ``own_account``: paid to the municipality's own account (deaths, bankruptcies, refunds):
  never sent to NemKonto, a record;
- ``recall``: any payment not sent, or sent and failed;
- ``fail``: a payment at the bank registered as failed (the bank told the municipality by
  hand); it leaves ``at-bank`` only when a second person approves;
- ``stop``: a request to stop a payment already sent, journaled and put on NemKonto's request
  queue by the next send (:mod:`toekgw.adapters.nemkonto.stops`);
- ``block`` / ``unblock``: hold one payment before release, or after release until its bundle
  is sent (the bundle is withdrawn and the others bundled again); ``clear``: release a
  payment the controls held.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from toekgw.adapters.g68.payments import FAILED_STATES, PaymentInstruction
from toekgw.adapters.nemkonto.answers import MANUAL_SUBJECT
from toekgw.adapters.nemkonto.orders import instruction_of, recipient_key
from toekgw.adapters.nemkonto.release import define_kinds as define_flow_kinds
from toekgw.adapters.nemkonto.settings import FlowSettings
from toekgw.adapters.nemkonto.stops import StopRefused, request_stop
from toekgw.adapters.nemkonto.withdraw import NotWithdrawable, withdraw_payment
from toekgw.adapters.payments.controls import CONTROL_SUBJECT, posting_data
from toekgw.adapters.payments.records import (
    Record,
    add_record,
    define_kinds,
    follow_up_transmission,
    records,
)
from toekgw.adapters.payments.settings import PaymentsSettings
from toekgw.formats.findings import Finding, Severity, mask_cpr_in_text
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal import Item, Journal, NewItem

__all__ = ["ActionRefused", "PaymentDesk"]

_BEFORE_RELEASE = ("pending", "blocked", "held", "suspected-duplicate", "over-limit")
_STOPPABLE = ("sent", "received", "accepted")


class ActionRefused(GatewayError):
    """The action is not allowed (unknown payment, wrong state, missing or same-person
    approval): nothing was changed."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class PaymentDesk:
    journal: Journal
    flow: FlowSettings
    settings: PaymentsSettings
    actor: str
    now: dt.datetime

    # -- finding the payment --------------------------------------------------------------

    def payment(self, key: str) -> Item:
        """The payment with NemKonto payment id / journal key ``key``."""
        for item in self.journal.find_items(key):
            data = item.data or {}
            if "payment_ident" in data and not data.get("recall"):
                return item
        raise ActionRefused(f"no payment {key!r} in the journal (give the payment id)")

    def _require(self, item: Item, allowed: Iterable[str], action: str) -> None:
        allowed = tuple(allowed)
        if item.state not in allowed:
            raise ActionRefused(
                f"payment {item.business_key} is {item.state}: {action} needs a payment that "
                f"is {' or '.join(allowed)}"
            )

    def _not_gone(self, item: Item, *also: str) -> None:
        """Refuse an action on a payment sent to NemKonto (or in ``also``), saying what does
        apply to it."""
        if item.state == "released" and item.state in also:
            raise ActionRefused(
                f"payment {item.business_key} is released in a bundle not yet sent: block it "
                "to take it out of the bundle (toekgw payments block), or stop it once sent"
            )
        if item.state in _STOPPABLE:
            raise ActionRefused(
                f"payment {item.business_key} is {item.state}: it has gone to NemKonto; ask "
                "NemKonto to stop it (toekgw payments stop)"
            )

    def _why(self, action: str, reason: str) -> str:
        return mask_cpr_in_text(f"{action} by {self.actor}: {reason}")

    @contextmanager
    def _acting(self, action: str) -> Iterator[None]:
        """One action: one durable journal transaction, with the crash points the SIGKILL
        tests stop it at (``payments.<action>.before_commit`` / ``.after_commit``)."""
        with self.journal.transaction(durable=True):
            define_flow_kinds(self.journal, self.flow)
            define_kinds(self.journal)
            yield
            crash_point(f"payments.{action}.before_commit")
        crash_point(f"payments.{action}.after_commit")

    # -- the actions ----------------------------------------------------------------------

    def resend(self, key: str, reason: str) -> str:
        """Pay a failed payment again to NemKonto; the new payment's id."""
        with self._acting("resend"):
            item = self.payment(key)
            self._require(item, FAILED_STATES, "resend")
            new = self._follow_up(item, instruction_of(item))
            self._move(item, "resent", self._why("resent", f"{reason}; new payment {new}"))
        return new

    def pay_alternative(self, key: str, registration: str, account: str, reason: str) -> str:
        """Pay a failed payment to another account; the new payment's id, or ``""`` while it
        waits for approval."""
        if not (registration.isdigit() and len(registration) == 4):
            raise ActionRefused(f"registration number {registration!r}: expected 4 digits")
        if not (account.isdigit() and 1 <= len(account) <= 10):
            raise ActionRefused(f"account number {account!r}: expected 1 to 10 digits")
        target = f"{registration}{account.zfill(10)}"
        with self._acting("pay-alternative"):
            item = self.payment(key)
            self._require(item, FAILED_STATES, "pay-alternative")
            instr = instruction_of(item)
            data = self._posting(instr, account=target)
            data |= {"recipient": recipient_key(instr), "from_state": item.state}
            why = self._why("alternative account", f"{reason}; to account {target}")
            if self.settings.policy(instr.municipality).needs_approval:
                self._move(item, "awaiting-approval", f"{why}: waits for a second person")
                self._record("alternative-account", instr, data, why, awaiting=True)
                return ""
            self._record("alternative-account", instr, data, why)
            return self._redirect(item, instr, target, why)

    def approve(self, key: str, reason: str) -> str:
        """Approve the request waiting on payment ``key``; what was done."""
        with self._acting("approve"):
            item = self.payment(key)
            request = self._request(item)
            why = self._why("approved", reason)
            self.journal.set_item_state(request.item.id, "approved", reason=why,
                                        expect="awaiting-approval")  # fmt: skip
            if request.type == "alternative-account":
                account = request.text("account")
                return self._redirect(item, instruction_of(item), account, why)
            self._move(item, "failed-after-bank", why)
            self._manual(item, f"registered as failed after the bank ({request.text('reason')})")
            return f"payment {key} is failed-after-bank: handle it (resend, cash, ...)"

    def deny(self, key: str, reason: str) -> None:
        """Deny the request waiting on payment ``key``: the payment is back where it was."""
        with self._acting("deny"):
            item = self.payment(key)
            request = self._request(item)
            why = self._why("denied", reason)
            self.journal.set_item_state(request.item.id, "denied", reason=why,
                                        expect="awaiting-approval")  # fmt: skip
            self._move(item, request.text("from_state"), why)

    def cash(self, key: str, voucher: str, reason: str) -> None:
        """Record a failed payment as paid by cash voucher ``voucher``."""
        with self._acting("cash"):
            item = self.payment(key)
            self._require(item, FAILED_STATES, "cash")
            instr = instruction_of(item)
            why = self._why("cash voucher", f"{reason}; voucher {voucher}")
            self._move(item, "cash-voucher", why)
            data = self._posting(instr, account=None) | {"voucher": voucher}
            self._record("cash-voucher", instr, data, why)
            self._resolve(item, f"paid by cash voucher {voucher}")

    def own_account(self, key: str, reason: str) -> None:
        """Pay the payment to the municipality's own account (never to NemKonto)."""
        with self._acting("own-account"):
            item = self.payment(key)
            self._require(item, (*_BEFORE_RELEASE, *FAILED_STATES), "own-account")
            instr = instruction_of(item)
            own = self.settings.policy(instr.municipality).own_account
            if own is None:
                raise ActionRefused(
                    f"municipality {instr.municipality} has no own account in "
                    f"[payments.municipalities.{instr.municipality}] (own_registration, "
                    "own_account)"
                )
            account = f"{own.registration}{own.number.zfill(10)}"
            why = self._why("own account", f"{reason}; to the municipality's account {account}")
            self._move(item, "own-account", why)
            self._record("own-account", instr, self._posting(instr, account=account), why)
            self._resolve(item, f"paid to the municipality's own account {account}")

    def recall(self, key: str, reason: str) -> None:
        with self._acting("recall"):
            item = self.payment(key)
            self._not_gone(item, "released")
            self._require(item, (*_BEFORE_RELEASE, *FAILED_STATES), "recall")
            self._move(item, "recalled", self._why("recalled", reason))
            self._resolve(item, "recalled")

    def block(self, key: str, reason: str) -> str:
        """Hold one payment until unblocked; what was done. A released payment is taken out
        of its bundle before the send (the caller holds the send's flow lock): the bundle is
        withdrawn and its other payments bundled again (:mod:`~toekgw.adapters.nemkonto.
        withdraw`)."""
        with self._acting("block"):
            item = self.payment(key)
            why = self._why("blocked", reason)
            if item.state != "released":
                self._not_gone(item)
                self._require(item, ("pending", "blocked", "released"), "block")
                self._move(item, "held", why)
                return "held until unblocked"
            try:
                again = withdraw_payment(self.journal, self.flow, item, "held", why, self.now)
            except NotWithdrawable as exc:
                raise ActionRefused(f"{exc}; stop it once sent (toekgw payments stop)") from None
        old = self.journal.get_transmission(item.carrier_id or 0).ref
        new = ", ".join(b.bundle_id for b in again.bundles) or "none (it was the only one)"
        return (
            f"held until unblocked; taken out of bundle {old} (withdrawn, never sent); "
            f"its other payments bundled again in {new}"
        )

    def unblock(self, key: str, reason: str) -> None:
        with self._acting("unblock"):
            item = self.payment(key)
            self._require(item, ("held",), "unblock")
            self._move(item, "pending", self._why("unblocked", reason))

    def clear(self, key: str, reason: str) -> None:
        """Release a payment the controls held: it goes with the next release."""
        with self._acting("clear"):
            item = self.payment(key)
            self._require(item, ("suspected-duplicate", "over-limit"), "clear")
            self._move(item, "pending", self._why(f"released from {item.state}", reason))
            self._resolve(item, f"released by {self.actor}")

    def fail(self, key: str, reason: str) -> None:
        """Register a payment at the bank as failed; a second person approves it."""
        with self._acting("fail"):
            item = self.payment(key)
            self._require(item, ("at-bank",), "fail")
            instr = instruction_of(item)
            why = self._why("failed after the bank", reason)
            self._move(item, "fail-requested", f"{why}: waits for a second person")
            data = self._posting(instr, account=None) | {"reason": reason, "from_state": "at-bank"}
            self._record("failed-after-bank", instr, data, why, awaiting=True)

    def stop(self, key: str, reason: str) -> Record:
        """Ask NemKonto to stop a payment already sent: the stop request is journaled here
        and put by the next send (``toekgw nemkonto send``); NemKonto's Retursvar 5 then
        moves the payment to ``stopped``, or says it came too late."""
        with self._acting("stop"):
            item = self.payment(key)
            self._require(item, _STOPPABLE, "stop")
            instr = instruction_of(item)
            why = self._why("stop requested", reason)
            try:
                stop = request_stop(
                    self.journal, self.flow, item, mask_cpr_in_text(reason), self.now
                )
            except StopRefused as exc:
                raise ActionRefused(str(exc)) from None
            data = self._posting(instr, account=None) | {"reason": reason, "stop": stop.ref}
            return self._record("stop-request", instr, data, f"{why}; stop request {stop.ref}")

    # -- the parts ------------------------------------------------------------------------

    def _move(self, item: Item, state: str, why: str) -> None:
        self.journal.set_item_state(item.id, state, reason=why, expect=item.state)

    def _record(
        self,
        type_: str,
        instr: PaymentInstruction,
        data: dict[str, object],
        why: str,
        *,
        awaiting: bool = False,
    ) -> Record:
        key, amount = instr.business_key, instr.amount_ore
        return Record(
            add_record(
                self.journal, type_, key, data, amount_ore=amount, awaiting=awaiting,
                reason=why, at=self.now,
            )
        )  # fmt: skip

    def _posting(self, instr: PaymentInstruction, *, account: str | None) -> dict[str, object]:
        benefit = self.settings.policy(instr.municipality).benefit_type(instr.paying_unit)
        name = benefit.name if benefit else None
        return posting_data(instr, benefit=name, account=account, by=self.actor)

    def _request(self, item: Item) -> Record:
        waiting = [
            r
            for r in records(self.journal, state="awaiting-approval")
            if r.payment == item.business_key
        ]
        if not waiting:
            raise ActionRefused(f"payment {item.business_key} has no request waiting for approval")
        request = waiting[-1]
        if request.text("by") == self.actor:
            raise ActionRefused(
                f"{self.actor} asked for this ({request.type}) and cannot approve or deny it: "
                "a second person must (four eyes)"
            )
        return request

    def _follow_up(self, item: Item, instr: PaymentInstruction, account: str | None = None) -> str:
        root = instr.follows.split(":r")[0] if instr.follows else item.business_key
        number = 1
        while self.journal.find_items(f"{root}:r{number}"):
            number += 1
        key = f"{root}:r{number}"
        new = dataclasses.replace(instr, follow_up_key=key, follows=item.business_key)
        if account is not None:  # a complete payment to the account (ident code 01)
            new = dataclasses.replace(new, ident_code="01", beneficiary=account)
        tx = follow_up_transmission(self.journal, item.counterpart)
        self.journal.add_items(
            tx.id,
            [
                NewItem(
                    key,
                    new.amount_ore,
                    data=new.to_data(),
                    municipality=new.municipality,
                    disposition_date=new.disposition_date,
                )
            ],
            state="pending",
            reason=self._why("follow-up", f"pays {item.business_key} again"),
        )
        self._resolve(item, f"paid again by {key}")
        return key

    def _redirect(self, item: Item, instr: PaymentInstruction, account: str, why: str) -> str:
        new = self._follow_up(item, instr, account)
        self._move(item, "redirected", f"{why}; new payment {new}")
        return new

    def _manual(self, item: Item, text: str) -> None:
        self.journal.add_error(
            counterpart=self.flow.counterpart,
            subject=MANUAL_SUBJECT,
            transmission_id=item.transmission_id,
            business_key=item.business_key,
            findings=[
                Finding(
                    "payments.failed_after_bank",
                    Severity.ERROR,
                    f"payment {item.business_key} of {item.amount_ore} øre {text}: handle it",
                    found=item.business_key,
                )
            ],
        )

    def _resolve(self, item: Item, resolution: str) -> None:
        """Resolve the payment's open entries on the manual-handling and control lists."""
        for entry in self.journal.iter_errors():
            if entry.business_key == item.business_key and entry.subject in (
                MANUAL_SUBJECT,
                CONTROL_SUBJECT,
            ):
                self.journal.resolve_error(entry.id, self._why(resolution, "handled"))
