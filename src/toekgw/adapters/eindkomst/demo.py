"""Month end: report the income of the benefits paid (kontanthjælp) to eIndkomst and show the
receipt reconciliation - the hook the month-end demo calls.

Kontanthjælp is A-income without AM-contribution, paid by the municipality: income type 06
(kontanthjælp, municipalities) in the 5000 record, the benefit in field 0014 (A-income not
subject to AM-contribution) and the A-tax withheld in 0015. No 0016: kontanthjælp carries no
AM-contribution. One 5000 report per disposition date (the month is decided by it), one 6000
per CPR with its payments summed.

The A-tax is what the payment system withheld (``PaidBenefit.tax_ore``); when it is not given,
it is worked out from the tax card in the journal (the withholding API: the card's rate on the
month's total less the card's monthly deduction; no card: 55 %).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text

from toekgw.adapters.eindkomst.flow import EindkomstGateway
from toekgw.adapters.eindkomst.reconcile import ReportLine, period_reconciliation, report_lines
from toekgw.adapters.eindkomst.routes import ReportRoute
from toekgw.adapters.eindkomst.views import JournalCardStore
from toekgw.formats.eindkomst import IncomeReport, Recipient, Sender
from toekgw.formats.eindkomst.taxcards import withholding
from toekgw.gateway.danish_time import danish_date
from toekgw.gateway.journal import Journal
from toekgw.gateway.money import kroner
from toekgw.gateway.reconcile import Reconciliation

__all__ = [
    "INCOME_TYPE_KONTANTHJAELP",
    "BenefitReportSummary",
    "PaidBenefit",
    "benefit_recipient",
    "benefit_reports",
    "render_summary",
    "report_paid_benefits",
    "sorted_recipients",
]

INCOME_TYPE_KONTANTHJAELP = "06"
A_INCOME_WITHOUT_AM = "0014"
A_TAX = "0015"


@dataclass(frozen=True, slots=True)
class PaidBenefit:
    """One benefit payment: the recipient, the gross amount paid (øre) and its disposition
    date; ``tax_ore`` the A-tax withheld, if the payment system says."""

    cpr: str
    amount_ore: int
    disposition_date: dt.date
    tax_ore: int | None = None


@dataclass(slots=True)
class BenefitReportSummary:
    report_ids: list[str]
    recipients: int
    income_ore: int  # field 0014, all reports
    tax_ore: int  # field 0015, all reports
    lines: list[ReportLine] = field(default_factory=list)
    reconciliation: Reconciliation | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "income_type": INCOME_TYPE_KONTANTHJAELP,
            "report_ids": self.report_ids,
            "recipients": self.recipients,
            "income_ore": self.income_ore,
            "tax_ore": self.tax_ore,
            "reports": [line.as_dict() for line in self.lines],
            "reconciliation": self.reconciliation.as_dict() if self.reconciliation else None,
        }


def _tax(gw: EindkomstGateway, cpr: str, month_total: int, on: dt.date) -> int:
    w = withholding(JournalCardStore(gw.journal), cpr, on)
    deduction = (w.card.deduction_month or 0) if w.card is not None else 0
    return max(0, month_total - deduction) * w.rate_pct // 100


def benefit_recipient(cpr: str, income: int, tax: int) -> Recipient:
    """One recipient of a kontanthjælp report: its income (0014) and, if any, its A-tax."""
    return Recipient(
        cpr=cpr,
        amounts={A_INCOME_WITHOUT_AM: income, A_TAX: tax} if tax else {A_INCOME_WITHOUT_AM: income},
    )


def sorted_recipients(
    gw: EindkomstGateway, payments: Iterable[tuple[str, int]], on: dt.date
) -> Iterator[Recipient]:
    """The recipients of the report for disposition date ``on`` of ``payments`` (CPR and
    amount, no A-tax given) already ordered by CPR: one per CPR, its amounts summed and its
    A-tax worked out from its tax card, as :func:`benefit_reports` makes them, holding one
    CPR's sum at a time. A CPR out of order raises :class:`ValueError`."""
    cpr: str | None = None
    income = 0
    for who, amount in payments:
        if cpr is not None and who != cpr:
            if who < cpr:
                raise ValueError("the payments of a report are not ordered by CPR")
            yield benefit_recipient(cpr, income, _tax(gw, cpr, income, on))
            income = 0
        cpr = who
        income += amount
    if cpr is not None:
        yield benefit_recipient(cpr, income, _tax(gw, cpr, income, on))


def benefit_reports(
    gw: EindkomstGateway,
    payments: Iterable[PaidBenefit],
    period: tuple[dt.date, dt.date],
    *,
    company_se: str,
    key: str = "",
) -> list[IncomeReport]:
    """The income reports (type 06) for ``payments``: one per disposition date."""
    by_date: dict[dt.date, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    unknown_tax: dict[dt.date, set[str]] = defaultdict(set)
    for p in payments:
        slot = by_date[p.disposition_date][p.cpr]
        slot[0] += p.amount_ore
        if p.tax_ore is None:
            unknown_tax[p.disposition_date].add(p.cpr)
        else:
            slot[1] += p.tax_ore
    reports = []
    for day in sorted(by_date):
        people = by_date[day]
        for cpr in unknown_tax[day]:
            people[cpr][1] = _tax(gw, cpr, people[cpr][0], day)
        reports.append(
            IncomeReport(
                company_se,
                period[0],
                period[1],
                day,
                INCOME_TYPE_KONTANTHJAELP,
                [
                    benefit_recipient(cpr, income, tax)
                    for cpr, (income, tax) in sorted(people.items())
                ],
                key=f"{key}:{day.isoformat()}",
            )
        )
    return reports


def report_paid_benefits(
    journal: Journal,
    route: ReportRoute,
    payments: Iterable[PaidBenefit],
    period: tuple[dt.date, dt.date],
    *,
    sender: Sender,
    outbox: Path,
    answer: Callable[[], object] | None = None,
    company_se: str | None = None,
    key: str = "",
    overdue_after: dt.timedelta = dt.timedelta(hours=24),
    clock: Callable[[], dt.datetime] | None = None,
) -> BenefitReportSummary:
    """Report the benefits paid in ``period`` (A-income 0014 and A-tax 0015, income type 06)
    on ``route`` (MQ or SF0770_B), let SKAT answer (``answer``: e.g. the simulator's
    ``drain``; None: the real SKAT answers later), take the receipts and reconcile the reports
    just sent."""
    gw = EindkomstGateway(journal, route, sender=sender, outbox=outbox, clock=clock)
    reports = benefit_reports(gw, payments, period, company_se=company_se or gw.sender.se, key=key)
    recipients = sum(len(list(r.recipients)) for r in reports)
    income = sum(
        int(rec.amounts.get(A_INCOME_WITHOUT_AM, 0)) for r in reports for rec in r.recipients
    )
    tax = sum(int(rec.amounts.get(A_TAX, 0)) for r in reports for rec in r.recipients)
    sent = gw.send(reports)
    if answer is not None:
        answer()
    gw.receive()
    now = gw.now()
    ours = set(sent.report_ids)
    lines = [
        line
        for line in report_lines(gw.journal, now=now, overdue_after=overdue_after)
        if line.report_id in ours
    ]
    return BenefitReportSummary(
        list(sent.report_ids),
        recipients,
        income,
        tax,
        lines,
        period_reconciliation(lines, as_of=danish_date(now)),
    )


def _kr(ore: int | None) -> str:
    return "-" if ore is None else kroner(ore)


def render_summary(summary: BenefitReportSummary) -> Group:
    """A rich table of the reports and their receipts, and the reconciliation's category."""
    table = Table(title="eIndkomst: kontanthjælp (income type 06) reported to SKAT")
    numeric = ("recipients", "sent kr", "received", "received kr", "difference kr")
    for column in ("report", "disposition", *numeric[:2], "status", *numeric[2:]):
        table.add_column(column, justify="right" if column in numeric else "left")
    for line in summary.lines:
        r = line.result
        table.add_row(
            line.report_id,
            line.on.isoformat(),
            str(r.count_sent),
            _kr(r.sum_sent),
            r.status.value,
            "-" if r.count_received is None else str(r.count_received),
            _kr(r.sum_received),
            _kr(r.sum_difference) if r.sum_received is not None else "-",
        )
    parts: list[Table | Text] = [table]
    for line in summary.lines:
        for f in line.findings:
            parts.append(Text(f"  {f.code}: {f.message}"))
    rec = summary.reconciliation
    if rec is not None:
        parts.append(
            Text(
                f"category {int(rec.category)} ({rec.category.title}): "
                f"{summary.recipients} recipient(s), A-income {_kr(summary.income_ore)} kr, "
                f"A-tax {_kr(summary.tax_ore)} kr"
            )
        )
    return Group(*parts)
