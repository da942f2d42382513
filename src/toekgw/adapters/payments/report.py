"""The control reports (state payroll-control guidance) and their sign-off.

- :func:`outside_nemkonto`: payments not made to a NemKonto account: account payments (ident
  code 01), payments to an alternative account and to the municipality's own account, sorted
  by registration and account number; an account that receives payments for several
  beneficiaries is flagged. A G68 account payment names no beneficiary of its own: only those
  whose beneficiary is known (alternative accounts: the original payment's recipient) count
  towards the flag.
- :func:`duplicate_scan`: the payments of a disposition period that share paying unit,
  beneficiary, amount and date (any ident), not recalled or failed.
- :func:`sign_off`: a control run journaled with who ran it, when, and what it found, so the
  control can be documented as done (``toekgw payments controls`` lists them).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from toekgw.adapters.g68.payments import NOT_PAID_STATES
from toekgw.adapters.nemkonto.orders import instruction_of, recipient_key
from toekgw.adapters.nemkonto.settings import FlowSettings
from toekgw.adapters.payments.query import PaymentQuery, find_payments
from toekgw.adapters.payments.records import Record, add_record, records
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.journal import Journal, JournalReader

__all__ = [
    "DuplicateGroup",
    "OutsideRow",
    "control_runs",
    "duplicate_scan",
    "outside_nemkonto",
    "sign_off",
]

CONTROLS = ("duplicates", "outside-nemkonto")


@dataclass(frozen=True, slots=True)
class OutsideRow:
    registration: str
    account: str
    payment: str
    kind: str  # account payment, alternative account, own account
    state: str
    amount_ore: int
    disposition_date: dt.date | None
    beneficiary: str | None  # masked; None: the payment names none
    several: bool = False  # the account receives payments for several beneficiaries

    def as_row(self) -> list[str]:
        """The row as shown and written (an account or a payment ident that could hold a CPR
        number masked, as ``toekgw payments find`` shows them)."""
        return [
            self.registration,
            mask_cpr_in_text(self.account),
            mask_cpr_in_text(self.payment),
            self.kind,
            self.state,
            str(self.amount_ore),
            self.disposition_date.isoformat() if self.disposition_date else "",
            self.beneficiary or "",
            "several beneficiaries" if self.several else "",
        ]


OUTSIDE_COLUMNS = (
    "registration", "account", "payment", "kind", "state", "oere", "disposition_date",
    "beneficiary", "flag",
)  # fmt: skip


def _outside(journal: JournalReader, flow: FlowSettings) -> Iterator[tuple[OutsideRow, str | None]]:
    for found in find_payments(journal, flow, PaymentQuery()):
        instr, item = found.instruction, found.item
        if instr.ident_code != "01" or item.state in ("recalled", "own-account"):
            continue
        beneficiary = None
        kind = "account payment"
        if instr.follows:
            kind = "alternative account"
            original = journal.find_items(instr.follows.split(":r")[0])
            if original:
                beneficiary = recipient_key(instruction_of(original[0]))
        row = OutsideRow(
            instr.beneficiary[:4], instr.beneficiary[4:], item.business_key, kind, item.state,
            instr.amount_ore, instr.disposition_date, None,
        )  # fmt: skip
        yield row, beneficiary
    for record in records(journal, type_="own-account"):
        account = record.text("account")
        yield (
            OutsideRow(
                account[:4], account[4:], record.payment, "own account", record.item.state,
                record.item.amount_ore, _date(record), None,
            ),
            None,
        )  # fmt: skip


def _date(record: Record) -> dt.date | None:
    text = record.text("disposition_date")
    return dt.date.fromisoformat(text) if text else None


def outside_nemkonto(journal: JournalReader, flow: FlowSettings) -> list[OutsideRow]:
    """The payments outside NemKonto, sorted by registration, account and payment."""
    rows: list[OutsideRow] = []
    beneficiaries: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row, beneficiary in _outside(journal, flow):
        shown = mask_cpr_in_text(beneficiary) if beneficiary else None
        rows.append(dataclasses.replace(row, beneficiary=shown))
        if beneficiary:
            beneficiaries[(row.registration, row.account)].add(beneficiary)
    rows.sort(key=lambda r: (r.registration, r.account, r.payment))
    return [
        dataclasses.replace(r, several=len(beneficiaries[(r.registration, r.account)]) > 1)
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Payments that share paying unit, beneficiary, amount and date."""

    payments: tuple[tuple[str, str], ...]  # (payment id, state)
    amount_ore: int
    disposition_date: dt.date | None
    beneficiary: str  # masked


def duplicate_scan(
    journal: JournalReader, flow: FlowSettings, date_from: dt.date, date_to: dt.date
) -> list[DuplicateGroup]:
    """Every group of two or more payments dated ``date_from`` .. ``date_to`` with one
    control key (follow-ups, recalled and failed payments aside)."""
    query = PaymentQuery(date_from=date_from, date_to=date_to)
    groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    first: dict[tuple[str, str], tuple[int, dt.date | None, str]] = {}
    for found in find_payments(journal, flow, query):
        instr, item = found.instruction, found.item
        if instr.follows or item.state in NOT_PAID_STATES:
            continue
        key = (item.counterpart, instr.control_key)
        groups[key].append((item.business_key, item.state))
        first.setdefault(key, (instr.amount_ore, instr.disposition_date, found.recipient))
    return [
        DuplicateGroup(tuple(members), *first[key])
        for key, members in groups.items()
        if len(members) > 1
    ]


def sign_off(
    journal: Journal, control: str, by: str, at: dt.datetime, found: int, scope: str
) -> Record:
    """Journal a control run: ``control`` (duplicates, outside-nemkonto) run by ``by`` at
    ``at`` over ``scope``, with ``found`` rows needing attention."""
    if control not in CONTROLS:
        raise ValueError(f"unknown control {control!r}")
    data: dict[str, object] = {"control": control, "by": by, "found": found, "scope": scope}
    why = f"control {control} run by {by} over {scope}: {found} to look at"
    with journal.transaction(durable=True):
        return Record(add_record(journal, "control-run", control, data, reason=why, at=at))


def control_runs(journal: JournalReader) -> Iterable[Record]:
    return records(journal, type_="control-run")
