"""SKAT's receipts - the 7100 sum receipts (layout ours) and the error/advice file (records
0001/0002/0003/9999, public-impl: :mod:`toekgw.formats.eindkomst.advice`) - and the
reconciliation of each report we sent against them.

Reconciliation is pure: it takes what was sent
(:class:`~toekgw.formats.eindkomst.report.SentReport`), the decoded receipts, a way to find the item
behind a line (:class:`ItemLocator`) and the time,
and says per report: accepted, rejected, accepted with a difference, awaiting or overdue.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from toekgw.formats.eindkomst.advice import ErrorReceipt, decode_advice_file
from toekgw.formats.eindkomst.codec import decode_line, decode_records
from toekgw.formats.eindkomst.history import recipient_key
from toekgw.formats.eindkomst.layouts import ADVICE_START, RECEIPT_TYPES
from toekgw.formats.eindkomst.records import (
    RecipientRecord,
    ReportHeader,
    SumReceipt,
)
from toekgw.formats.eindkomst.report import SentReport
from toekgw.formats.findings import Finding, Severity, mask_cpr
from toekgw.formats.fixed import Line, iter_lines

__all__ = [
    "DEFAULT_OVERDUE_AFTER",
    "DeliveryIndex",
    "ItemLocator",
    "Receipts",
    "ReportReconciliation",
    "ReportStatus",
    "SentItem",
    "decode_receipts",
    "receipt_finding",
    "reconcile_reports",
]

DEFAULT_OVERDUE_AFTER = dt.timedelta(hours=24)


@dataclass(slots=True)
class Receipts:
    sums: list[SumReceipt] = field(default_factory=list)
    errors: list[ErrorReceipt] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def decode_receipts(chunks: Iterable[bytes]) -> Receipts:
    """One receipt message: SKAT's error/advice file (it starts with its ``0001`` record) or
    7100 sum receipts; anything unreadable is a finding, and so is an empty message (SKAT
    answers with one record at least)."""
    lines = iter_lines(chunks)
    first = next(lines, None)
    if first is None:
        empty = Finding(
            code="eik.structure.empty",
            severity=Severity.ERROR,
            message="the message is empty",
            expected="7100 sum receipts or SKAT's error/advice file",
        )
        return Receipts(findings=[empty])
    if first.text[:4] == ADVICE_START:
        out = Receipts()
        out.errors, out.findings = decode_advice_file(itertools.chain((first,), lines))
        return out
    return _decode_sums(itertools.chain((first,), lines))


def _decode_sums(lines: Iterable[Line]) -> Receipts:
    out = Receipts()
    expected = 1
    for ln in lines:
        e = decode_line(ln.text, ln.number, RECEIPT_TYPES)
        out.findings.extend(e.findings)
        if e.number is not None and e.number != expected:
            out.findings.append(
                Finding(
                    code="eik.line.sequence",
                    severity=Severity.ERROR,
                    message=f"line number {e.number} out of sequence",
                    line=e.line,
                    columns=(1, 7),
                    expected=f"{expected:07d}",
                    found=f"{e.number:07d}",
                )
            )
        expected = (e.number or expected) + 1
        if isinstance(e.record, SumReceipt):
            out.sums.append(e.record)
    return out


@dataclass(frozen=True, slots=True)
class SentItem:
    """The recipient behind a line of a delivery. ``recipient`` is masked."""

    report_id: str
    line: int
    recipient: str
    record_type: str


class ItemLocator(Protocol):
    def item_at(self, report_id: str, line: int) -> SentItem | None: ...


class DeliveryIndex:
    """An in-memory :class:`ItemLocator` built from the deliveries as sent.

    The journal keeps the same mapping for the real thing; this one holds one small tuple per
    line of the 6000 group, so use it for tests and modest volumes.
    """

    def __init__(self) -> None:
        self._items: dict[tuple[str, int], SentItem] = {}

    def add_delivery(self, chunks: Iterable[bytes]) -> None:
        report = ""
        person = ""
        for e in decode_records(chunks):
            rec = e.record
            if isinstance(rec, ReportHeader):
                report = rec.report_id
                continue
            if isinstance(rec, RecipientRecord):
                key = recipient_key(rec)
                person = mask_cpr(key) if rec.cpr else key
            if report and e.record_type[0] in "68":
                self._items[(report, e.line)] = SentItem(report, e.line, person, e.record_type)
            if e.record_type in ("2001", "9999"):
                report = ""

    def item_at(self, report_id: str, line: int) -> SentItem | None:
        return self._items.get((report_id, line))


class ReportStatus(enum.StrEnum):
    ACCEPTED = "accepted"  # sum receipt G, count and sum as sent
    DIFFERENCE = "difference"  # sum receipt G, but count or sum differs from what was sent
    REJECTED = "rejected"  # sum receipt A
    AWAITING = "awaiting"  # no sum receipt yet, not overdue
    OVERDUE = "overdue"  # no sum receipt after the configured time


@dataclass(slots=True)
class ReportReconciliation:
    report_id: str
    status: ReportStatus
    count_sent: int
    sum_sent: int
    count_received: int | None = None
    sum_received: int | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def count_difference(self) -> int:
        return 0 if self.count_received is None else self.count_received - self.count_sent

    @property
    def sum_difference(self) -> int:
        return 0 if self.sum_received is None else self.sum_received - self.sum_sent


def receipt_finding(r: ErrorReceipt, item: SentItem | None) -> Finding:
    """An error or advice as a finding on the recipient behind its line (masked)."""
    who = f" for recipient {item.recipient} (record {item.record_type})" if item else ""
    field_text = f" field no. {r.field_index}" if r.field_index else ""
    return Finding(
        code="eik.receipt.error" if r.is_error else "eik.receipt.advice",
        severity=Severity.ERROR if r.is_error else Severity.WARNING,
        message=f"SKAT {'error' if r.is_error else 'advice'} {r.error_code} on report "
        f"{r.report_id}{field_text}{who}: {r.text or ''}".rstrip(": "),
        line=r.line_number,
        field=r.field_index,
        found=r.error_code,
    )


def reconcile_reports(
    sent: Sequence[SentReport],
    receipts: Receipts,
    locator: ItemLocator,
    *,
    now: dt.datetime,
    sent_at: dt.datetime,
    overdue_after: dt.timedelta = DEFAULT_OVERDUE_AFTER,
) -> tuple[list[ReportReconciliation], list[Finding]]:
    """Per report sent, its reconciliation; plus findings for receipts about unknown reports.

    The last 7100 for a report counts (SKAT may answer again after a re-send).
    """
    sums = {s.report_id: s for s in receipts.sums}
    errors: dict[str, list[ErrorReceipt]] = {}
    for e in receipts.errors:
        errors.setdefault(e.report_id, []).append(e)
    known = {s.report_id for s in sent}
    out: list[ReportReconciliation] = []
    for s in sent:
        rec = ReportReconciliation(s.report_id, ReportStatus.AWAITING, s.recipients, s.amount_sum)
        rec.findings.extend(_line_findings(s, errors.get(s.report_id, []), locator))
        receipt = sums.get(s.report_id)
        if receipt is not None:
            _take_sums(rec, s, receipt)
        elif now - sent_at >= overdue_after:
            rec.status = ReportStatus.OVERDUE
            rec.findings.append(
                Finding(
                    code="eik.receipt.overdue",
                    severity=Severity.ERROR,
                    message=f"no sum receipt for report {s.report_id} since "
                    f"{sent_at:%Y-%m-%d %H:%M} (overdue after {overdue_after})",
                )
            )
        out.append(rec)
    stray = [
        Finding(
            code="eik.receipt.unknown_report",
            severity=Severity.ERROR,
            message=f"receipt for report {rid}, which we did not send",
        )
        for rid in sorted((set(sums) | set(errors)) - known)
    ]
    return out, stray


def _line_findings(
    s: SentReport, errors: Sequence[ErrorReceipt], locator: ItemLocator
) -> list[Finding]:
    """SKAT's errors and advice about the report's lines, each at the item it names (and a
    finding of its own where the line holds no item of the report)."""
    findings = []
    for e in errors:
        item = locator.item_at(s.report_id, e.line_number)
        findings.append(receipt_finding(e, item))
        if item is None:
            findings.append(
                Finding(
                    code="eik.receipt.unknown_line",
                    severity=Severity.ERROR,
                    message=f"SKAT's {'error' if e.is_error else 'advice'} for report "
                    f"{s.report_id} names line {e.line_number}, "
                    "which holds no item of that report",
                    line=e.line_number,
                )
            )
    return findings


def _take_sums(rec: ReportReconciliation, s: SentReport, receipt: SumReceipt) -> None:
    """The report's sum receipt (7100): rejected, a difference from what we sent, or
    accepted."""
    rec.count_received = receipt.count_6000
    rec.sum_received = receipt.signed_sum
    if not receipt.accepted:
        rec.status = ReportStatus.REJECTED
        rec.findings.append(
            Finding(
                code="eik.receipt.rejected",
                severity=Severity.ERROR,
                message=f"SKAT rejected report {s.report_id}",
            )
        )
    elif rec.count_difference or rec.sum_difference:
        rec.status = ReportStatus.DIFFERENCE
        rec.findings.append(
            Finding(
                code="eik.receipt.difference",
                severity=Severity.ERROR,
                message=f"report {s.report_id}: SKAT counted {receipt.count_6000} "
                f"recipients and {rec.sum_received} øre; we sent {s.recipients} "
                f"and {s.amount_sum} øre",
                expected=f"{s.recipients} / {s.amount_sum}",
                found=f"{receipt.count_6000} / {rec.sum_received}",
            )
        )
    else:
        rec.status = ReportStatus.ACCEPTED
