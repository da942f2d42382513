"""The report as sections of rows: one table each, the same for HTML, XLSX and CSV.

A cell is a string, an int (counts, øre) or a date; money columns are in øre in the XLSX and
CSV (numbers an auditor can sum) and shown in kroner on the HTML page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from toekgw.adapters.monthreport.model import MonthReport
from toekgw.adapters.monthreport.oir import OIR_COLUMNS, VoucherTally
from toekgw.adapters.nemkonto.reconcile import ReconciliationRow
from toekgw.gateway.reconcile import Category

__all__ = ["FLOW", "Cell", "Section", "sections"]

Cell = str | int | dt.date

#: The payment chain's columns, in order: (column, heading).
FLOW = (
    ("sent", "sent"),
    ("received", "received"),
    ("accepted", "accepted"),
    ("at_bank", "paid (at bank)"),
    ("rejected", "rejected"),
    ("outstanding", "outstanding"),
    ("unanswered", "unanswered"),
)


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    header: tuple[str, ...]
    rows: Sequence[tuple[Cell, ...]]


def _flow_header(first: str) -> tuple[str, ...]:
    cells = [first]
    for _column, heading in FLOW:
        cells += [f"{heading} count", f"{heading} øre"]
    return tuple(cells)


def _flow_cells(row: ReconciliationRow) -> list[Cell]:
    cells: list[Cell] = []
    for column, _heading in FLOW:
        cells += [row.counts[column], row.sums[column]]
    return cells


def _oir(report: MonthReport) -> list[Section]:
    if report.oir is None:
        return []
    header = ["municipality"]
    for column in OIR_COLUMNS:
        header += [f"{column} count", f"{column} øre"]
    total = VoucherTally()
    rows: list[tuple[Cell, ...]] = []
    for where, tally in sorted(report.oir.items()):
        total.add(tally)
        rows.append((where, *_voucher_cells(tally)))
    rows.append(("total", *_voucher_cells(total)))
    return [Section("oir", "ØiR: vouchers booked → accepted by the ERP", tuple(header), rows)]


def _voucher_cells(tally: VoucherTally) -> list[Cell]:
    cells: list[Cell] = []
    for column in OIR_COLUMNS:
        cells += [tally.counts[column], tally.oere[column]]
    return cells


def sections(report: MonthReport) -> list[Section]:
    summary: list[tuple[Cell, ...]] = [
        ("month", report.label),
        ("as of", report.as_of),
        ("category", f"{int(report.category)}: {report.category.title}"),
        ("payments sent, count", report.total.counts["sent"]),
        ("payments sent, øre", report.total.sums["sent"]),
        ("paid (at bank), øre", report.total.sums["at_bank"]),
        ("differences, gross øre", report.gross_differences_oere),
        ("follow-up over one year, øre", report.older_oere),
        ("action plan needed (≥ 1,000 kr gross)", "yes" if report.needs_action_plan else "no"),
        ("action-plan entries open", sum(a.status != "done" for a in report.actions)),
        ("deliveries received", len(report.deliveries)),
        ("deliveries accounted for", sum(d.accounted for d in report.deliveries)),
        ("completeness control", "complete" if report.complete else "INCOMPLETE"),
    ]
    return [
        Section("summary", "Summary", ("figure", "value"), summary),
        Section(
            "municipalities",
            "Payments per municipality",
            _flow_header("municipality"),
            [(where, *_flow_cells(row)) for where, row in sorted(report.municipalities.items())]
            + [("total", *_flow_cells(report.total))],
        ),
        Section(
            "days",
            "Payments per disposition date",
            (*_flow_header("date"), "category"),
            [
                (
                    day.disposition_date or report.first,
                    *_flow_cells(day),
                    int(day.reconciliation.category) if day.reconciliation else 1,
                )
                for day in report.days
            ],
        ),
        Section(
            "categories",
            "Bundles per category",
            ("category", "title", "bundles", "øre"),
            [
                (c.value, c.title, report.bundle_categories[c], report.bundle_category_oere[c])
                for c in Category
            ],
        ),
        Section(
            "ageing",
            "Follow-up amounts by age",
            ("age", "øre"),
            [("up to one year", report.younger_oere), ("over one year", report.older_oere)],
        ),
        Section(
            "differences",
            "Differences (payments not settled)",
            ("bundle", "payment", "state", "disposition date", "øre", "reason"),
            [
                (d.bundle_id, d.payment, d.state, d.disposition_date, d.amount_oere, d.reason)
                for d in report.differences
            ],
        ),
        Section(
            "completeness",
            "Completeness control: G68 deliveries received in the month",
            ("delivery", "file", "state", "payments", "øre", "accounted for"),
            [
                (d.ref, d.file_name, d.state, d.items, d.oere, "yes" if d.accounted else "NO")
                for d in report.deliveries
            ]
            + [
                (f"bundles {state}", "", state, n, "", "yes")
                for state, n in sorted(report.bundle_states.items())
            ],
        ),
        Section(
            "actions",
            "Action plan",
            (
                "entry",
                "raised",
                "difference",
                "øre",
                "cause",
                "owner",
                "deadline",
                "status",
                "last changed by",
            ),
            [
                (
                    a.id,
                    a.month,
                    a.difference,
                    a.amount_oere,
                    a.cause,
                    a.owner,
                    a.deadline,
                    a.status,
                    a.updated_by,
                )
                for a in report.actions
            ],
        ),
        Section(
            "eindkomst",
            "eIndkomst: reports for the month by receipt",
            ("status", "reports"),
            [(status, n) for status, n in sorted(report.eindkomst.items())],
        ),
        *_oir(report),
    ]
