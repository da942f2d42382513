"""The reconciliation hooks (solution description 3.1.12): a month's postings as CSV, each
with the NemKonto bundle and payment id the ERP matches its NemKonto lines by."""

from __future__ import annotations

import csv
import datetime as dt
from typing import TextIO

from toekgw.adapters.oir.balance import BOOKED_STATES
from toekgw.adapters.oir.store import BooksJournal
from toekgw.formats.findings import mask_cpr_in_text

__all__ = ["COLUMNS", "write_month"]

COLUMNS = (
    "posting_date",
    "voucher_id",
    "voucher_state",
    "kind",
    "municipality",
    "line",
    "account",
    "side",
    "amount",
    "bundle_id",
    "payment_id",
    "business_key",
    "text",
)


def _month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def write_month(journal: BooksJournal, first: dt.date, out: TextIO) -> int:
    """Write the postings of the month of ``first`` (vouchers booked or on their way) to
    ``out``; how many. Streams: memory does not grow with the month."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for v, p in journal.month_postings(
        first.replace(day=1), _month_end(first), states=BOOKED_STATES
    ):
        writer.writerow(
            (
                v.day.isoformat(),
                v.voucher_id,
                v.state,
                v.kind,
                v.group,
                p.seq,
                p.account,
                p.side,
                f"{p.amount_ore // 100}.{p.amount_ore % 100:02d}",
                p.bundle_ref or "",
                p.member_key or "",
                mask_cpr_in_text(p.business_key or ""),
                mask_cpr_in_text(p.text or ""),
            )
        )
        count += 1
    return count
