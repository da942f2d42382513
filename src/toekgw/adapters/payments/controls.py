"""The payment controls a release runs before it bundles (state payroll-control guidance;
solution description 2.3.6 and 2.3.8).

- **Duplicate payments across deliveries and runs**: a pending payment with the paying unit,
  beneficiary, amount and disposition date of an earlier payment (any ident; not recalled,
  not failed) is held as ``suspected-duplicate`` with a finding on the error list. An operator
  releases it (``toekgw payments clear``: it is not held again) or recalls it. The receiver
  warns about the same payments when they arrive (``g68.payment.suspected_duplicate``).
- **Amount limits per benefit type**: above the upper limit a payment is held ``over-limit``
  with a finding (manual handling); below the lower limit it goes to the municipality's
  trivial-amounts account (``trivial-amount``, with a record) instead of NemKonto.
- **Debtor account per benefit type**: a benefit type with an account of its own is paid from
  it; the bundles split by account.

Follow-up payments (resent, alternative account) are not duplicates of their originals and
keep the amount the operator chose: only their account is chosen here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from toekgw.adapters.g68.payments import NOT_PAID_STATES, PaymentInstruction
from toekgw.adapters.nemkonto.release import Pending
from toekgw.adapters.payments.records import add_record
from toekgw.adapters.payments.settings import PaymentsSettings
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.nemkonto import Account
from toekgw.gateway.journal import Item, Journal, JournalReader

__all__ = ["CONTROL_SUBJECT", "PaymentControls", "cleared"]

CONTROL_SUBJECT = "payment-control"


def cleared(journal: JournalReader, item: Item, hold: str) -> bool:
    """Whether an operator released ``item`` from ``hold`` before (it is not held again)."""
    return any(
        e.from_state == hold and e.to_state == "pending"
        for e in journal.item_history(item.id).events
    )


@dataclass(frozen=True, slots=True)
class PaymentControls:
    """:class:`toekgw.adapters.nemkonto.release.ReleaseControls` from ``[payments]``.
    ``now``: the injected clock, for the records."""

    settings: PaymentsSettings
    now: dt.datetime

    def hold(
        self, journal: Journal, pending: Pending, today: dt.date
    ) -> tuple[Pending, dict[str, int]]:
        moved: Counter[str] = Counter()
        remaining: Pending = []
        for item, instr in pending:
            target = self._check(journal, item, instr)
            if target is None:
                remaining.append((item, instr))
            else:
                moved[target] += 1
        return remaining, dict(moved)

    def debtor_account(self, instr: PaymentInstruction) -> Account | None:
        benefit = self.settings.policy(instr.municipality).benefit_type(instr.paying_unit)
        return benefit.debtor_account if benefit else None

    def _check(self, journal: Journal, item: Item, instr: PaymentInstruction) -> str | None:
        if instr.follows:
            return None
        earlier = _earlier_same(journal, item, instr)
        if earlier is not None and not cleared(journal, item, "suspected-duplicate"):
            why = (
                f"the paying unit, beneficiary, amount and date of payment "
                f"{earlier.business_key} ({earlier.state})"
            )
            _hold(journal, item, "suspected-duplicate", "duplicate", why, "one such payment")
            return "suspected-duplicate"
        policy = self.settings.policy(instr.municipality)
        benefit = policy.benefit_type(instr.paying_unit)
        if benefit is None:
            return None
        upper, lower = benefit.upper_ore, benefit.lower_ore
        if (
            upper is not None
            and instr.amount_ore > upper
            and not cleared(journal, item, "over-limit")
        ):
            why = f"{instr.amount_ore} øre is above the upper limit of {benefit.name} ({upper} øre)"
            _hold(journal, item, "over-limit", "over_limit", why, f"at most {upper} øre")
            return "over-limit"
        if lower is not None and instr.amount_ore < lower:
            self._trivial(journal, item, instr, benefit.name, policy.trivial_account or "")
            return "trivial-amount"
        return None

    def _trivial(
        self, journal: Journal, item: Item, instr: PaymentInstruction, benefit: str, account: str
    ) -> None:
        why = f"below the lower limit of {benefit}: moved to the trivial-amounts account {account}"
        journal.set_item_state(item.id, "trivial-amount", reason=why, expect="pending")
        add_record(
            journal,
            "trivial-amount",
            item.business_key,
            posting_data(instr, benefit=benefit, account=account, by="release"),
            amount_ore=instr.amount_ore,
            reason=f"payment {item.business_key}: {why}",
            at=self.now,
        )


def posting_data(
    instr: PaymentInstruction, *, benefit: str | None, account: str | None, by: str
) -> dict[str, object]:
    """What a posting needs of a payment (issue 13 books the records)."""
    return {
        "payment": instr.business_key,
        "follows": instr.follows,
        "municipality": instr.municipality,
        "paying_unit": instr.paying_unit,
        "benefit_type": benefit,
        "account": account,
        "amount_ore": instr.amount_ore,
        "disposition_date": (
            instr.disposition_date.isoformat() if instr.disposition_date else None
        ),
        "posting_reference": instr.posting_reference,
        "by": by,
    }


def _earlier_same(journal: JournalReader, item: Item, instr: PaymentInstruction) -> Item | None:
    for other in journal.items_by_lookup(item.counterpart, instr.control_key):
        if other.id >= item.id:
            break
        if other.state not in NOT_PAID_STATES and not (other.data or {}).get("recall"):
            return other
    return None


def _hold(journal: Journal, item: Item, state: str, code: str, why: str, expected: str) -> None:
    journal.set_item_state(item.id, state, reason=f"held ({state}): {why}", expect="pending")
    journal.add_error(
        counterpart=item.counterpart,
        subject=CONTROL_SUBJECT,
        transmission_id=item.transmission_id,
        business_key=item.business_key,
        findings=[
            Finding(
                f"payments.control.{code}",
                Severity.ERROR,
                f"payment {item.business_key} is held as {state}: it has {why}; release it "
                f"(toekgw payments clear) or recall it (toekgw payments recall)"
                if state == "suspected-duplicate"
                else f"payment {item.business_key} is held as {state}: {why}; release it "
                "(toekgw payments clear) or handle it (recall, own-account)",
                field="amount" if state == "over-limit" else "payment_ident",
                expected=expected,
                found=item.business_key,
            )
        ],
    )
