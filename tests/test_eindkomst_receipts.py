"""Receipts: decode 7100 and SKAT's error/advice file, reconcile each report, map errors back
to the recipient."""

from __future__ import annotations

import datetime as dt

from tests.eik_helpers import SE, as_file, builder, cpr, report
from toekgw.formats.eindkomst.advice import ADVICE, ERROR, ErrorReceipt, encode_advice_file
from toekgw.formats.eindkomst.codec import encode_delivery
from toekgw.formats.eindkomst.receipts import (
    DeliveryIndex,
    Receipts,
    ReportStatus,
    decode_receipts,
    reconcile_reports,
)
from toekgw.formats.eindkomst.records import SumReceipt
from toekgw.formats.eindkomst.report import NilReport

SENT_AT = dt.datetime(2026, 11, 23, 12, 0)
STATUS_DAY = dt.date(2026, 11, 23)


def sent_deliveries(n: int) -> tuple[list[bytes], list, DeliveryIndex]:  # type: ignore[type-arg]
    index = DeliveryIndex()
    datas = []
    sent = []
    for d in builder(max_group_records=10).deliveries(
        [report(n)], nil_reports=[NilReport(SE, dt.date(2026, 10, 1))]
    ):
        data = d.to_bytes()
        datas.append(data)
        sent.extend(d.reports)
        index.add_delivery(as_file(data))
    return datas, sent, index


def receipt_bytes(*records: SumReceipt) -> bytes:
    return b"".join(encode_delivery(list(records)))


def error_file(*entries: ErrorReceipt) -> bytes:
    return b"".join(encode_advice_file(entries))


def both(sums: bytes, errors: bytes) -> Receipts:
    """The two messages SKAT sends, read as the flow reads them."""
    out = decode_receipts(as_file(sums))
    other = decode_receipts(as_file(errors))
    out.errors, out.findings = other.errors, out.findings + other.findings
    return out


def test_reconciliation_accepted_rejected_difference_awaiting_overdue() -> None:
    _datas, sent, index = sent_deliveries(12)  # groups of 5 recipients: 5, 5, 2
    nil, g1, g2, g3 = sent
    assert (nil.kind, g1.recipients, g3.recipients) == ("nil", 5, 2)
    recipient_line = g2.first_line + 3  # 5000, 6000, 6001, then the 2nd recipient's 6000
    data = receipt_bytes(
        SumReceipt(nil.report_id, STATUS_DAY, "G", 0, 0, "+"),
        SumReceipt(g1.report_id, STATUS_DAY, "G", 5, 500_000, "+"),
        SumReceipt(g2.report_id, STATUS_DAY, "A", 5, 500_000, "+"),
        SumReceipt(g3.report_id, STATUS_DAY, "G", 1, 100_000, "-"),
        SumReceipt("FFFFFFFFFFFFFFFF", STATUS_DAY, "G", 1, 1, "+"),
    )
    errors = error_file(
        ErrorReceipt(
            ERROR, recipient_line, "03", g2.report_id, SE, "001234", "beløb for stort", cpr(6)
        )
    )
    receipts = both(data, errors)
    assert receipts.findings == []
    result, stray = reconcile_reports(
        sent, receipts, index, now=SENT_AT + dt.timedelta(hours=1), sent_at=SENT_AT
    )
    status = {r.report_id: r.status for r in result}
    assert status == {
        nil.report_id: ReportStatus.ACCEPTED,
        g1.report_id: ReportStatus.ACCEPTED,
        g2.report_id: ReportStatus.REJECTED,
        g3.report_id: ReportStatus.DIFFERENCE,
    }
    diff = result[3]
    assert (diff.count_difference, diff.sum_difference) == (-1, -300_000)
    rejected = result[2]
    error = next(f for f in rejected.findings if f.code == "eik.receipt.error")
    assert error.line == recipient_line
    who = cpr(6)  # the 7th recipient overall: the 2nd of the second group
    assert who not in error.message and f"{who[:6]}-****" in error.message
    assert [f.code for f in stray] == ["eik.receipt.unknown_report"]
    # Nothing back at all: awaiting, then overdue after the configured time.
    empty = decode_receipts(as_file(b""))
    result, _ = reconcile_reports(
        sent, empty, index, now=SENT_AT + dt.timedelta(hours=1), sent_at=SENT_AT
    )
    assert {r.status for r in result} == {ReportStatus.AWAITING}
    result, _ = reconcile_reports(
        sent,
        empty,
        index,
        now=SENT_AT + dt.timedelta(hours=3),
        sent_at=SENT_AT,
        overdue_after=dt.timedelta(hours=2),
    )
    assert {r.status for r in result} == {ReportStatus.OVERDUE}
    assert all(r.findings[0].code == "eik.receipt.overdue" for r in result)


def test_error_receipt_on_a_line_without_an_item_and_bad_receipt_lines() -> None:
    _datas, sent, index = sent_deliveries(2)
    g = sent[1]
    data = error_file(ErrorReceipt(ADVICE, 1, None, g.report_id, SE, "000001", None))
    result, _ = reconcile_reports(
        sent, decode_receipts(as_file(data)), index, now=SENT_AT, sent_at=SENT_AT
    )
    assert [f.code for f in result[1].findings] == [
        "eik.receipt.advice",
        "eik.receipt.unknown_line",
    ]
    sums = receipt_bytes(SumReceipt(g.report_id, STATUS_DAY, "G", 1, 1, "+"))
    broken = sums.replace(b"7100", b"7300", 1) + b"0000003" + b"7100" + b"x" * 5 + b"\r\n"
    receipts = decode_receipts(as_file(broken))
    assert [f.code for f in receipts.findings] == [
        "eik.record.type",
        "eik.record.length",
        "eik.line.sequence",
    ]
