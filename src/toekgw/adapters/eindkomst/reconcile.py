"""Per report: what we sent against SKAT's receipts; per period: the three categories.

Per report (:func:`report_lines`): the number of 6000 records and the sum of amounts sent,
against its 7100 (:func:`toekgw.formats.eindkomst.receipts.reconcile_reports`), every error and
advice of SKAT's error/advice file mapped to its recipient (masked), and ``overdue`` when no
7100 came within the configured time.

Per period (:func:`period_reconciliation`, :mod:`toekgw.gateway.reconcile`): an accepted report with
the sum as sent is settled (category 1); a rejected report, or one still within its time, is
a known outstanding item (category 2); a sum SKAT counted differently, or a report with no
receipt after the overdue time, cannot be specified (category 3).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toekgw.adapters.eindkomst.kinds import COUNTERPART, DELIVERY, receipt_lookup
from toekgw.adapters.eindkomst.views import JournalLocator
from toekgw.formats.eindkomst.advice import ADVICE, ERROR, ErrorReceipt
from toekgw.formats.eindkomst.receipts import (
    Receipts,
    ReportReconciliation,
    ReportStatus,
    reconcile_reports,
)
from toekgw.formats.eindkomst.records import SumReceipt
from toekgw.formats.eindkomst.report import SentReport
from toekgw.formats.findings import Finding
from toekgw.gateway.journal import JournalReader
from toekgw.gateway.reconcile import (
    Answer,
    Difference,
    Expected,
    ItemClass,
    Reconciliation,
    reconcile,
)

__all__ = ["ReportLine", "period_reconciliation", "report_lines", "reports_dict"]


@dataclass(slots=True)
class ReportLine:
    report_id: str
    kind: str  # income | nil
    company_se: str
    month: str
    delivery: str  # the delivery's transmission ref
    sent_at: str | None  # None: journaled, not yet on the queue
    on: dt.date
    result: ReportReconciliation
    findings: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        r = self.result
        return {
            "report_id": self.report_id,
            "kind": self.kind,
            "company_se": self.company_se,
            "month": self.month,
            "delivery": self.delivery,
            "sent_at": self.sent_at,
            "status": r.status.value,
            "count_sent": r.count_sent,
            "sum_sent_ore": r.sum_sent,
            "count_received": r.count_received,
            "sum_received_ore": r.sum_received,
            "count_difference": r.count_difference,
            "sum_difference_ore": r.sum_difference,
            "overdue": r.status is ReportStatus.OVERDUE,
            "findings": [
                {"code": f.code, "severity": f.severity.value, "line": f.line, "message": f.message}
                for f in self.findings
            ],
        }


def _receipts(journal: JournalReader, report_ids: list[str]) -> Receipts:
    out = Receipts()
    for rid in report_ids:
        seen: set[str] = set()
        for item in journal.items_by_lookup(COUNTERPART, receipt_lookup(rid)):
            data = item.data or {}
            text = json.dumps(data, sort_keys=True)
            if text in seen:
                continue  # the same receipt answered again
            seen.add(text)
            values = list(data["values"])  # type: ignore[call-overload]
            if data["type"] == "7100":
                values[1] = dt.date.fromisoformat(values[1])
                out.sums.append(SumReceipt(*values))
            elif data["type"] == _LEGACY_7200:
                out.errors.append(_from_7200(values))
            else:
                out.errors.append(ErrorReceipt.from_values(str(data["type"]), values))
    return out


# Journaled before SKAT's error/advice file replaced our 7200: report id, line, field number,
# error code, F/A, text.
_LEGACY_7200 = "7200"


def _from_7200(values: list[Any]) -> ErrorReceipt:
    report_id, line, _field_number, code, severity, text = values
    return ErrorReceipt(
        ERROR if severity == "F" else ADVICE, line, None, report_id, None, code, text
    )


def report_lines(
    journal: JournalReader,
    *,
    now: dt.datetime,
    overdue_after: dt.timedelta,
    month: str | None = None,
    limit: int | None = None,
) -> list[ReportLine]:
    """Every report sent (newest deliveries last), reconciled against its receipts."""
    locator = JournalLocator(journal)
    lines: list[ReportLine] = []
    for tx in journal.transmissions(counterpart=COUNTERPART, kind=DELIVERY.name, limit=limit):
        ids = [str(r) for r in tx.meta.get("report_ids", [])]  # type: ignore[attr-defined]
        sent_at_text = tx.meta.get("sent_at")
        sent_at = dt.datetime.fromisoformat(str(sent_at_text or tx.created_at))
        reports = _sent_reports(journal, ids, month)
        if not reports:
            continue
        results, _stray = reconcile_reports(
            [s for s, _ in reports],
            _receipts(journal, [s.report_id for s, _ in reports]),
            locator,
            now=now,
            sent_at=sent_at,
            overdue_after=overdue_after,
        )
        for (sent, data), result in zip(reports, results, strict=True):
            on = data.get("disposition") or f"{data.get('month')}-01"
            lines.append(
                ReportLine(
                    sent.report_id,
                    sent.kind,
                    sent.company_se,
                    str(data.get("month")),
                    tx.ref,
                    str(sent_at_text) if sent_at_text else None,
                    dt.date.fromisoformat(str(on)),
                    result,
                    list(result.findings),
                )
            )
    return lines


def _sent_reports(
    journal: JournalReader, report_ids: list[str], month: str | None
) -> list[tuple[SentReport, Mapping[str, object]]]:
    """The delivery's reports as journaled (those of ``month`` only, if given), each with its
    item's data."""
    reports: list[tuple[SentReport, Mapping[str, object]]] = []
    for rid in report_ids:
        found = journal.find_items(rid, COUNTERPART)
        if not found:
            continue
        data = found[0].data or {}
        if month is not None and data.get("month") != month:
            continue
        kind = "nil" if data.get("type") == "3101" else "income"
        sent = SentReport(
            rid,
            str(data.get("se")),
            kind,
            int(str(data.get("recipients", 0))),
            int(str(data.get("sum", 0))),
        )
        reports.append((sent, data))
    return reports


_SETTLED = {ReportStatus.ACCEPTED.value, ReportStatus.DIFFERENCE.value}


def period_reconciliation(lines: list[ReportLine], *, as_of: dt.date) -> Reconciliation:
    """The reports of a period in the gateway's categories 1/2/3 (see the module doc)."""
    expected = [Expected(line.report_id, line.result.sum_sent, line.on) for line in lines]
    answers = [
        Answer(
            line.report_id,
            line.result.status.value,
            line.result.sum_received if line.result.status.value in _SETTLED else None,
        )
        for line in lines
    ]
    rec = reconcile(
        expected,
        answers,
        lambda state: ItemClass.SETTLED if state in _SETTLED else ItemClass.FOLLOW_UP,
        as_of=as_of,
        tolerance_oere=0,
    )
    for line in lines:
        r = line.result
        if r.status is ReportStatus.OVERDUE:
            rec.unexplained.append(
                Difference(line.report_id, "no sum receipt after the overdue time", 0)
            )
        elif r.status is ReportStatus.DIFFERENCE and not r.sum_difference:
            rec.unexplained.append(
                Difference(line.report_id, "SKAT counted a different number of recipients", 0)
            )
    return rec


def reports_dict(lines: list[ReportLine], rec: Reconciliation) -> dict[str, object]:
    return {
        "reports": [line.as_dict() for line in lines],
        "reconciliation": rec.as_dict(),
    }
