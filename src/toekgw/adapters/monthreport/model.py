"""The month-end report's figures, read from the journal: what an auditor signs.

For the month (payments by disposition date, eIndkomst reports by income month):

- **payments**, per municipality and in total: sent to NemKonto → received → accepted →
  at the bank (paid) / rejected / outstanding / unanswered, counts and sums in øre
  (the columns of :class:`~toekgw.adapters.nemkonto.reconcile.ReconciliationRow`);
- **per day**: the same per disposition date (the report's charts), each day's category;
- **categories** 1/2/3 per bundle, and the month's: the worst of its days;
- **ageing**: follow-up amounts older and younger than one year;
- **differences**: every payment not settled, with the reason; their gross sum (the sum of
  the absolute amounts) and whether it reaches 1,000 kr, which needs an action plan;
- **completeness**: every G68 delivery received in the month in a final state (received or
  on the error list), every bundle of the month accounted for (its state);
- **eIndkomst**: reports for the month per receipt status (reported → receipted);
- **ØiR** (where configured): vouchers booked → accepted by the ERP
  (:mod:`toekgw.adapters.monthreport.oir`);
- **action plan**: the entries raised up to the month and not done before it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from toekgw.adapters.eindkomst import overdue_after, report_lines
from toekgw.adapters.eindkomst.settings import EINDKOMST_SECTION
from toekgw.adapters.monthreport.oir import VoucherTally, oir_tallies
from toekgw.adapters.nemkonto import NEMKONTO_SECTION, flow_settings, reconcile_bundles
from toekgw.adapters.nemkonto.reconcile import COLUMNS, ReconciliationRow
from toekgw.adapters.oir.settings import OIR_SECTION
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.config import Settings
from toekgw.gateway.danish_time import danish_date, danish_date_of
from toekgw.gateway.errors import UsageError
from toekgw.gateway.journal import ActionEntry, JournalReader
from toekgw.gateway.journal.books import Books
from toekgw.gateway.reconcile import DEFAULT_THRESHOLD_OERE, Category

__all__ = ["COLUMNS", "DeliveryLine", "DifferenceLine", "MonthReport", "build_report", "month"]

G68_KIND = "g68-delivery"
FINAL_DELIVERY_STATES = frozenset({"received", "error-listed"})


def month(text: str) -> tuple[dt.date, dt.date]:
    """``YYYY-MM`` -> its first and last day."""
    try:
        first = dt.date.fromisoformat(f"{text}-01")
    except ValueError:
        raise UsageError(f"--month {text!r}: expected YYYY-MM") from None
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


@dataclass(frozen=True)
class DifferenceLine:
    bundle_id: str
    payment: str
    state: str
    amount_oere: int
    reason: str
    disposition_date: dt.date


@dataclass(frozen=True)
class DeliveryLine:
    ref: str
    file_name: str
    state: str
    items: int
    oere: int

    @property
    def accounted(self) -> bool:
        return self.state in FINAL_DELIVERY_STATES


@dataclass
class MonthReport:
    first: dt.date
    last: dt.date
    as_of: dt.date
    days: list[ReconciliationRow] = field(default_factory=list)
    municipalities: dict[str, ReconciliationRow] = field(default_factory=dict)
    total: ReconciliationRow = field(
        default_factory=lambda: ReconciliationRow(None, None, None, None)
    )
    bundle_categories: Counter[int] = field(default_factory=Counter)
    bundle_category_oere: Counter[int] = field(default_factory=Counter)
    bundle_states: Counter[str] = field(default_factory=Counter)
    category: Category = Category.RECONCILED
    older_oere: int = 0
    younger_oere: int = 0
    differences: list[DifferenceLine] = field(default_factory=list)
    deliveries: list[DeliveryLine] = field(default_factory=list)
    eindkomst: Counter[str] = field(default_factory=Counter)
    actions: list[ActionEntry] = field(default_factory=list)
    oir: dict[str, VoucherTally] | None = None  # None: no [oir]
    threshold_oere: int = DEFAULT_THRESHOLD_OERE

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m}"

    @property
    def gross_differences_oere(self) -> int:
        return sum(abs(d.amount_oere) for d in self.differences)

    @property
    def needs_action_plan(self) -> bool:
        return self.gross_differences_oere >= self.threshold_oere

    @property
    def complete(self) -> bool:
        return all(d.accounted for d in self.deliveries)


class ReportJournal(JournalReader, Books, Protocol):
    """What the report reads: the journal and its books."""


def build_report(
    journal: ReportJournal,
    settings: Settings,
    first: dt.date,
    last: dt.date,
    now: dt.datetime,
    actions: Iterable[ActionEntry] = (),
) -> MonthReport:
    """The month's figures; ``actions``: the action-plan entries on this month's report."""
    as_of = min(danish_date(now), last)
    report = MonthReport(first, last, as_of, actions=list(actions))
    if settings.section(NEMKONTO_SECTION) is not None:
        _payments(report, journal, settings, now)
    _deliveries(report, journal)
    if settings.section(EINDKOMST_SECTION) is not None:
        lines = report_lines(
            journal, now=now, overdue_after=overdue_after(settings), month=report.label
        )
        report.eindkomst.update(line.result.status.value for line in lines)
    if settings.section(OIR_SECTION) is not None:
        report.oir = oir_tallies(journal, first, last)
    return report


def _payments(
    report: MonthReport, journal: JournalReader, settings: Settings, now: dt.datetime
) -> None:
    rec = reconcile_bundles(journal, flow_settings(settings), report.as_of, now=now)
    inside = {
        b.bundle_id
        for b in rec.bundles
        if b.disposition_date and report.first <= b.disposition_date <= report.last
    }
    for bundle in rec.bundles:
        if bundle.bundle_id not in inside:
            continue
        where = str(bundle.municipality)
        row = report.municipalities.setdefault(where, ReconciliationRow(None, where, None, None))
        _add(row, bundle)
        _add(report.total, bundle)
        report.bundle_states[str(bundle.state)] += 1
        if bundle.reconciliation is not None:
            category = int(bundle.reconciliation.category)
            report.bundle_categories[category] += 1
            report.bundle_category_oere[category] += bundle.sums["sent"]
    for day in rec.dates:
        if day.disposition_date and report.first <= day.disposition_date <= report.last:
            report.days.append(day)
            if day.reconciliation is not None:
                report.category = max(report.category, day.reconciliation.category)
                report.older_oere += day.reconciliation.follow_up_older_oere
                report.younger_oere += day.reconciliation.follow_up_younger_oere
    dates = {b.bundle_id: b.disposition_date for b in rec.bundles}
    for d in rec.differences:
        when = dates.get(d.bundle_id)
        if d.bundle_id in inside and when is not None:
            report.differences.append(
                DifferenceLine(d.bundle_id, d.payment, d.state, d.amount_ore, d.reason, when)
            )


def _add(row: ReconciliationRow, other: ReconciliationRow) -> None:
    for column in COLUMNS:
        row.counts[column] += other.counts[column]
        row.sums[column] += other.sums[column]


def _deliveries(report: MonthReport, journal: JournalReader) -> None:
    for tx in journal.transmissions(kind=G68_KIND):
        created = danish_date_of(tx.created_at)
        if report.first <= created <= report.last:
            report.deliveries.append(
                # The name KSD gave the file: shown in the reports, masked as in every view.
                DeliveryLine(
                    tx.ref,
                    mask_cpr_in_text(tx.file_name or ""),
                    tx.state,
                    tx.item_count,
                    tx.total_ore,
                )
            )
