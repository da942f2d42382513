"""SKAT's answers in the journal, whichever route brought them: receipts, error notices, tax cards.

:meth:`Answers.take` journals one answer message as an inbound transmission (dropped when the
same bytes came before: SHA-256) and applies it in the caller's transaction: a 7100 marks its
report accepted or rejected, an error in SKAT's error/advice file marks its recipient and goes
on the error list (CPR masked), tax cards are kept for the withholding API. The route it came
by is recorded (``meta["route"]``): ``mq``, ``sftp`` (SF0770_B) or ``beskedfordeler``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

from toekgw.adapters.eindkomst.kinds import (
    COUNTERPART,
    RECEIPTS,
    TAXCARDS,
    card_lookup,
    receipt_lookup,
)
from toekgw.adapters.eindkomst.views import JournalLocator, card_data
from toekgw.formats.eindkomst import decode_receipts, parse_tax_cards
from toekgw.formats.eindkomst.advice import ErrorReceipt
from toekgw.formats.eindkomst.codec import record_values
from toekgw.formats.eindkomst.receipts import receipt_finding
from toekgw.formats.eindkomst.records import SumReceipt
from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.journal import (
    DuplicateTransmission,
    Journal,
    NewItem,
    NewTransmission,
    Transmission,
)

__all__ = ["ORIGINS", "Answers", "ReceiveResult"]

#: How an answer came, as the journal says it.
ORIGINS = {
    "mq": "from the reply queue",
    "sftp": "over Serviceplatformen SFTP (SF0770_B)",
    "beskedfordeler": "from the Beskedfordeler",
}


@dataclass(slots=True)
class ReceiveResult:
    messages: int = 0
    duplicates: int = 0
    sum_receipts: int = 0
    error_receipts: int = 0
    tax_cards: int = 0
    unreadable: int = 0
    repeated_records: int = 0
    failed: int = 0  # attempts that raised: listed, backed out, retried or moved aside


class Answers:
    """Journal and apply SKAT's answers in ``journal``."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def take(self, body: bytes, result: ReceiveResult, *, origin: str) -> None:
        """Journal one answer and apply it, in the caller's transaction; the same answer again
        (same SHA-256) is dropped."""
        sha = hashlib.sha256(body).hexdigest()
        is_xml = body.lstrip()[:1] == b"<"
        kind = TAXCARDS if is_xml else RECEIPTS
        try:
            tx = self.journal.create_transmission(
                NewTransmission(
                    counterpart=COUNTERPART,
                    kind=kind.name,
                    state="received",
                    file_name=f"{'taxcards' if is_xml else 'receipts'}-{sha[:12]}",
                    size=len(body),
                    sha256=sha,
                    meta={"route": origin},
                    reason=f"got {ORIGINS.get(origin, origin)}",
                )
            )
        except DuplicateTransmission:
            result.duplicates += 1
            return
        if is_xml:
            self._tax_cards(tx, body, result)
        else:
            self._receipts(tx, body, result)

    def _unreadable(
        self, tx: Transmission, findings: Sequence[Finding], result: ReceiveResult
    ) -> None:
        result.unreadable += 1
        self.journal.add_error(
            counterpart=COUNTERPART,
            subject="answer",
            findings=findings,
            transmission_id=tx.id,
            file_name=tx.file_name,
        )
        self.journal.note(tx.id, "unreadable: nothing applied (see toekgw errors)")

    def _tax_cards(self, tx: Transmission, body: bytes, result: ReceiveResult) -> None:
        parsed = parse_tax_cards(body)
        if not parsed.ok:
            self._unreadable(tx, parsed.findings, result)
            return
        self.journal.add_items(
            tx.id,
            (
                NewItem(
                    f"card:{tx.sha256 and tx.sha256[:16]}:{n}",
                    0,
                    seq=n,
                    lookup=card_lookup(c.cpr),
                    data=card_data(c),
                )
                for n, c in enumerate(parsed.cards, start=1)
            ),
            state="received",
            reason="tax cards journaled",
        )
        result.tax_cards += len(parsed.cards)

    def _receipts(self, tx: Transmission, body: bytes, result: ReceiveResult) -> None:
        receipts = decode_receipts(io.BytesIO(body))
        if receipts.findings:
            self._unreadable(tx, receipts.findings, result)
            return
        records: list[SumReceipt | ErrorReceipt] = [*receipts.sums, *receipts.errors]
        new_items: list[NewItem] = []
        fresh: list[SumReceipt | ErrorReceipt] = []
        seen: dict[str, set[str]] = {}
        for n, rec in enumerate(records, start=1):
            data = _receipt_data(rec)
            text = json.dumps(data, sort_keys=True)
            earlier = seen.get(rec.report_id)
            if earlier is None:
                earlier = seen[rec.report_id] = {
                    json.dumps(i.data, sort_keys=True)
                    for i in self.journal.items_by_lookup(
                        COUNTERPART, receipt_lookup(rec.report_id)
                    )
                }
            if text in earlier:
                result.repeated_records += 1
            else:
                earlier.add(text)
                fresh.append(rec)
            amount = rec.signed_sum if isinstance(rec, SumReceipt) else 0
            new_items.append(
                NewItem(
                    f"rc:{tx.sha256 and tx.sha256[:16]}:{n}",
                    amount,
                    seq=n,
                    lookup=receipt_lookup(rec.report_id),
                    data=data,
                )
            )
        self.journal.add_items(tx.id, new_items, state="received", reason="receipts journaled")
        locator = JournalLocator(self.journal)
        deliveries: set[int] = set()
        for rec in fresh:
            if isinstance(rec, SumReceipt):
                result.sum_receipts += 1
                tid = self._apply_sum(rec, tx)
                if tid is not None:
                    deliveries.add(tid)
            else:
                result.error_receipts += 1
                self._apply_error(rec, tx, locator)
        for tid in sorted(deliveries):
            self._maybe_receipted(tid)

    def _apply_sum(self, rec: SumReceipt, tx: Transmission) -> int | None:
        found = self.journal.find_items(rec.report_id, COUNTERPART)
        if not found:
            self.journal.add_error(
                counterpart=COUNTERPART,
                subject="receipt",
                transmission_id=tx.id,
                findings=[
                    Finding(
                        "eik.receipt.unknown_report",
                        Severity.ERROR,
                        f"7100 for report {rec.report_id}, which we did not send",
                    )
                ],
            )
            return None
        item = found[0]
        target = "accepted" if rec.accepted else "rejected"
        if item.state in ("journaled", "sent"):
            self.journal.set_item_state(
                item.id,
                target,
                reason=f"7100 {rec.status}: {rec.count_6000} recipient(s), {rec.signed_sum} øre",
            )
        elif item.state != target:
            self.journal.note(
                item.transmission_id,
                f"7100 {rec.status} for report {rec.report_id}, already {item.state}: ignored",
            )
        return item.transmission_id

    def _apply_error(self, rec: ErrorReceipt, tx: Transmission, locator: JournalLocator) -> None:
        item = locator.item_for(rec.report_id, rec.line_number)
        finding = receipt_finding(rec, locator.item_at(rec.report_id, rec.line_number))
        if item is not None and rec.is_error and item.state == "sent":
            self.journal.set_item_state(item.id, "error", reason=f"SKAT error {rec.error_code}")
        self.journal.add_error(
            counterpart=COUNTERPART,
            subject="receipt",
            findings=[finding],
            transmission_id=item.transmission_id if item else tx.id,
            business_key=item.business_key if item else rec.report_id,
        )

    def _maybe_receipted(self, transmission_id: int) -> None:
        tx = self.journal.get_transmission(transmission_id)
        if tx.state == "receipted":
            return
        ids = [str(r) for r in tx.meta.get("report_ids", [])]  # type: ignore[attr-defined]
        for rid in ids:
            found = self.journal.find_items(rid, COUNTERPART)
            if not found or found[0].state not in ("accepted", "rejected"):
                return
        self.journal.set_state(transmission_id, "receipted", reason="every report has its 7100")


def _receipt_data(rec: SumReceipt | ErrorReceipt) -> dict[str, object]:
    if isinstance(rec, ErrorReceipt):
        return {"type": rec.record_type, "values": list(rec.values())}
    values = [v.isoformat() if isinstance(v, dt.date) else v for v in record_values(rec)]
    return {"type": rec.RECORD_TYPE, "values": values}
