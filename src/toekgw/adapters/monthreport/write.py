"""Write the report: a self-contained HTML page with charts, an XLSX workbook, CSV files.

The HTML needs nothing but a browser: the charts are inline SVG (per-day amounts and counts,
bundles per category, follow-up by age), no script, no font or file fetched. Every table of
:func:`~toekgw.adapters.monthreport.sections.sections` follows the charts; money in kroner.
The XLSX has one sheet per section with numbers as numbers (øre) and dates as dates; the CSV
files (``<name>-<section>.csv``, UTF-8, comma) hold the same rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

from toekgw.adapters.monthreport.model import MonthReport
from toekgw.adapters.monthreport.sections import Cell, Section, sections
from toekgw.gateway.money import kroner
from toekgw.gateway.reconcile import Category

__all__ = ["write_csv", "write_html", "write_xlsx"]

_STYLE = """
body{font-family:sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:0 0 2em}
td,th{border:1px solid #bbb;padding:2px 6px;font-size:13px}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:2em}
figure{margin:0}
"""


def _bars(title: str, labels: Sequence[str], values: Sequence[float], unit: str) -> str:
    """A bar chart as SVG; each bar carries its value in ``data-value``."""
    width, height, pad = 520, 220, 30
    top = max([*values, 1])
    step = (width - 2 * pad) / max(len(values), 1)
    parts = [
        f'<figure class="chart" data-title="{html.escape(title)}">'
        f"<figcaption>{html.escape(title)}</figcaption>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#444"/>'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar = (height - 2 * pad) * value / top
        x = pad + i * step + step * 0.1
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{height - pad - bar:.1f}" '
            f'width="{step * 0.8:.1f}" height="{max(bar, 0.5):.1f}" fill="#3b6ea5" '
            f'data-label="{html.escape(label)}" data-value="{value}">'
            f"<title>{html.escape(label)}: {value:,.2f} {unit}</title></rect>"
        )
        if len(labels) <= 12 or i % max(len(labels) // 8, 1) == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height - pad + 14}" font-size="10">'
                f"{html.escape(label)}</text>"
            )
    parts.append("</svg></figure>")
    return "".join(parts)


def _charts(report: MonthReport) -> str:
    days = [f"{d.disposition_date:%d}" for d in report.days]
    return (
        '<div class="charts">'
        + "".join(
            [
                _bars(
                    "Amount sent per day (kr)",
                    days,
                    [d.sums["sent"] / 100 for d in report.days],
                    "kr",
                ),
                _bars(
                    "Payments per day", days, [d.counts["sent"] for d in report.days], "payments"
                ),
                _bars(
                    "Bundles per category",
                    [f"{c.value}: {c.title}" for c in Category],
                    [report.bundle_categories[c] for c in Category],
                    "bundles",
                ),
                _bars(
                    "Follow-up by age (kr)",
                    ["up to one year", "over one year"],
                    [report.younger_oere / 100, report.older_oere / 100],
                    "kr",
                ),
            ]
        )
        + "</div>"
    )


def _cell(header: str, value: Cell, label: str) -> str:
    if isinstance(value, int) and ("øre" in header or "øre" in label):
        return f'<td class="n" data-oere="{value}">{kroner(value)}</td>'
    if isinstance(value, int):
        return f'<td class="n">{value}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def _table(section: Section) -> str:
    head = "".join(f"<th>{html.escape(h.replace('øre', 'kr'))}</th>" for h in section.header)
    body = "".join(
        "<tr>"
        + "".join(_cell(h, v, str(row[0])) for h, v in zip(section.header, row, strict=True))
        + "</tr>"
        for row in section.rows
    )
    return (
        f'<h2>{html.escape(section.title)}</h2><table id="{section.name}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def write_html(report: MonthReport, path: Path, *, generated: dt.datetime) -> None:
    title = f"toek-gateway month-end report {report.label}"
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{title}</h1><p>As of {report.as_of}; generated {generated:%Y-%m-%d %H:%M} UTC. "
        f'Category <strong id="category">{int(report.category)}</strong>: '
        f"{report.category.title}. Total sent: "
        f'<strong id="total-sent" data-oere="{report.total.sums["sent"]}">'
        f"{kroner(report.total.sums['sent'])} kr</strong> in "
        f'<span id="total-count">{report.total.counts["sent"]}</span> payments.</p>'
        + _charts(report)
        + "".join(_table(s) for s in sections(report))
        + "</body></html>"
    )
    path.write_text(page, encoding="utf-8")


def write_xlsx(report: MonthReport, path: Path) -> None:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    for section in sections(report):
        sheet = book.create_sheet(section.name[:31])
        sheet.append(list(section.header))
        for row in section.rows:
            sheet.append(list(row))
    book.save(path)


def write_csv(report: MonthReport, base: Path) -> list[Path]:
    written = []
    for section in sections(report):
        path = base.with_name(f"{base.name}-{section.name}.csv")
        with path.open("w", encoding="utf-8", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(section.header)
            out.writerows([[str(c) for c in row] for row in section.rows])
        written.append(path)
    return written
