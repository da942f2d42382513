"""Send income reports to SKAT and take its answers back, with the journal as the outbox.

Send (:meth:`EindkomstGateway.send`):

1. build the deliveries (:class:`ReportBuilder`: deterministic report ids, so the same input
   gives the same reports);
2. validate each with :func:`validate_delivery` against the journal's history (corrections
   may not make a monthly total negative, one nil report per month, …) - any error refuses
   the whole send and nothing is journaled;
3. in one durable journal transaction: each delivery's bytes to the outbox (fsync), its
   transmission and items (state ``journaled``);
4. per delivery: put under syncpoint with a message id derived from its main report id,
   commit, then mark it ``sent`` in the journal.

A crash before 3 leaves nothing; between 3 and the MQ commit the delivery stays ``journaled``
and the next send or receive puts it (:meth:`send_pending`); after the MQ commit and before
the journal knows, it is put again with the same message id and report ids: SKAT (and the
simulator) drop the duplicate by report id and answer again, and the answer changes nothing
twice.

Receive (:meth:`EindkomstGateway.receive`): get under syncpoint, journal the message (7100/7200
receipts or tax-card XML) and apply it (report accepted/rejected, a 7200 error on its
recipient and in the error list), commit the journal durably, and only then commit the get.
The same answer again (same SHA-256) is dropped; a repeated receipt record applies once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toekgw.adapters.eindkomst.items import delivery_items
from toekgw.adapters.eindkomst.kinds import (
    COUNTERPART,
    DELIVERY,
    RECEIPTS,
    TAXCARDS,
    card_lookup,
    define_kinds,
    receipt_lookup,
)
from toekgw.adapters.eindkomst.views import (
    JournalCardStore,
    JournalHistory,
    JournalLocator,
    card_data,
)
from toekgw.formats.eindkomst import (
    IncomeReport,
    NilReport,
    ReportBuilder,
    ReversalRequest,
    Sender,
    TaxCardOrder,
    decode_receipts,
    nil_reports_due,
    parse_tax_cards,
    validate_delivery,
)
from toekgw.formats.eindkomst.codec import record_values
from toekgw.formats.eindkomst.receipts import receipt_finding
from toekgw.formats.eindkomst.records import ErrorReceipt, SumReceipt
from toekgw.formats.eindkomst.report import DEFAULT_MAX_MESSAGE_BYTES
from toekgw.formats.eindkomst.taxcards import Withholding, withholding
from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.errors import InputError
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal import (
    DuplicateTransmission,
    Journal,
    NewItem,
    NewTransmission,
    Transmission,
)
from toekgw.gateway.refusals import FailedMessages
from toekgw.gateway.transport.mq import MessageQueue, message_id

__all__ = ["EindkomstGateway", "ReceiveResult", "SendRefused", "SendResult"]


class SendRefused(InputError):
    """A delivery did not pass validation: nothing was journaled or sent."""

    exit_code = 1

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        errors = [f for f in findings if f.is_error]
        first = errors[0] if errors else findings[0]
        super().__init__(
            f"the delivery is refused: {len(errors)} error(s); first: "
            f"{first.where() or '-'}: {first.message}"
        )


@dataclass(slots=True)
class SendResult:
    transmissions: list[Transmission] = field(default_factory=list)
    report_ids: list[str] = field(default_factory=list)
    put: int = 0  # deliveries put on the queue by this call (pending ones included)


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


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class EindkomstGateway:
    def __init__(
        self,
        journal: Journal,
        queue: MessageQueue,
        *,
        sender: Sender,
        outbox: Path,
        request_queue: str,
        reply_queue: str,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        companies: Sequence[str] = (),
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.journal = journal
        self.queue = queue
        self.sender = sender
        self.outbox = outbox
        self.request_queue = request_queue
        self.reply_queue = reply_queue
        self.max_message_bytes = max_message_bytes
        self.companies = tuple(companies) or (sender.se,)
        self._clock = clock or _utc_now
        define_kinds(journal)

    def now(self) -> dt.datetime:
        return self._clock()

    # -- send ------------------------------------------------------------------------------

    def send(
        self,
        reports: Iterable[IncomeReport] = (),
        *,
        orders: Iterable[TaxCardOrder] = (),
        nil_reports: Iterable[NilReport] = (),
        reversals: Iterable[ReversalRequest] = (),
        created: dt.datetime | None = None,
    ) -> SendResult:
        builder = ReportBuilder(
            self.sender,
            created=(created or self.now()).replace(tzinfo=None, microsecond=0),
            max_message_bytes=self.max_message_bytes,
        )
        # One delivery (≤ max_message_bytes) in memory at a time.
        bodies = (
            d.to_bytes()
            for d in builder.deliveries(
                reports, orders=orders, nil_reports=nil_reports, reversals=reversals
            )
        )
        return self.send_deliveries(bodies)

    def send_deliveries(self, bodies: Iterable[bytes]) -> SendResult:
        """Validate, journal and put complete deliveries (built here or handed in). All in one
        durable transaction: an error in any delivery journals none of them."""
        result = SendResult(put=self.send_pending())
        self.outbox.mkdir(parents=True, exist_ok=True)
        today = self.now().date()
        with self.journal.transaction(durable=True):
            for body in bodies:
                if len(body) > self.max_message_bytes:
                    raise InputError(
                        f"a delivery of {len(body)} bytes exceeds the queue's maximum message "
                        f"size ({self.max_message_bytes})"
                    )
                check = validate_delivery(
                    io.BytesIO(body), history=JournalHistory(self.journal), today=today
                )
                if not check.ok:
                    raise SendRefused(check.findings)
                tx, report_ids = self._journal_delivery(body)
                result.transmissions.append(tx)
                result.report_ids.extend(report_ids)
        crash_point("eindkomst.send.after_journal")
        result.put += self.send_pending()
        result.transmissions = [self.journal.get_transmission(t.id) for t in result.transmissions]
        return result

    def _journal_delivery(self, body: bytes) -> tuple[Transmission, list[str]]:
        info = delivery_items(body)
        first = self.journal.find_transmission(ref=f"eik-{info.main_report_id}")
        if first is not None:  # before the outbox file: a pending one's bytes must stay
            raise DuplicateTransmission(f"delivery {info.main_report_id}", first)
        sha = hashlib.sha256(body).hexdigest()
        path = self.outbox / f"{info.main_report_id}.eik"
        _write_synced(path, body)
        tx = self.journal.create_transmission(
            NewTransmission(
                counterpart=COUNTERPART,
                kind=DELIVERY.name,
                state="journaled",
                file_name=path.name,
                size=len(body),
                sha256=sha,
                ref=f"eik-{info.main_report_id}",
                local_path=str(path),
                meta={
                    "main_report_id": info.main_report_id,
                    "report_ids": info.report_ids,
                    "recipients": info.recipients,
                    "amount_sum": info.amount_sum,
                },
                reason=f"validated; {len(info.report_ids)} report(s), "
                f"{info.recipients} recipient(s), {info.amount_sum} øre",
            )
        )
        self.journal.add_items(tx.id, info.items, state="journaled", reason="delivery journaled")
        return tx, info.report_ids

    def send_pending(self) -> int:
        """Put every delivery still ``journaled`` (a send interrupted before its MQ commit)."""
        count = 0
        for tx in self.journal.transmissions(
            counterpart=COUNTERPART, kind=DELIVERY.name, states=["journaled"]
        ):
            try:
                body = Path(str(tx.local_path)).read_bytes()
            except OSError as exc:
                raise InputError(
                    f"{tx.describe()}: cannot read its outbox file {tx.local_path}: "
                    f"{exc.strerror or exc}",
                    hint="restore it from backup; the journal holds its SHA-256",
                ) from exc
            if hashlib.sha256(body).hexdigest() != tx.sha256:
                raise InputError(f"{tx.describe()}: its outbox file {tx.local_path} has changed")
            main_id = str(tx.meta["main_report_id"])
            self.queue.put(self.request_queue, body, msg_id=message_id(f"eindkomst:{main_id}"))
            crash_point("eindkomst.send.after_put")
            self.queue.commit()
            crash_point("eindkomst.send.after_mq_commit")
            stamp = self.now().isoformat()
            with self.journal.transaction():
                if self.journal.get_transmission(tx.id).state != "journaled":
                    continue  # another process put it too: SKAT drops the copy by report id
                self.journal.update_transmission(
                    tx.id, reason="put on the request queue", meta={"sent_at": stamp}
                )
                self.journal.set_state(tx.id, "sent", reason="MQ put committed", expect="journaled")
                self.journal.move_items(tx.id, "journaled", "sent", reason="sent")
            count += 1
        return count

    # -- month close, reversals ------------------------------------------------------------

    def close_month(self, month: dt.date, *, today: dt.date | None = None) -> SendResult:
        """A 3101 nil report for each company that reported no A-tax/AM-contribution for
        ``month`` and has no nil report for it yet (none for months three years back)."""
        due = nil_reports_due(
            self.companies,
            month,
            JournalHistory(self.journal),
            today=today or self.now().date(),
        )
        if not due:
            return SendResult(put=self.send_pending())
        return self.send(nil_reports=due)

    # -- receive ---------------------------------------------------------------------------

    def receive(self, *, wait: float = 0.0, max_messages: int | None = None) -> ReceiveResult:
        """Take every answer waiting on the reply queue (the first waits up to ``wait``)."""
        self.send_pending()
        result = ReceiveResult()
        failed = FailedMessages(self.journal, COUNTERPART, self.reply_queue)
        while max_messages is None or result.messages < max_messages:
            message = self.queue.get(self.reply_queue, wait=wait if not result.messages else 0)
            if message is None:
                break
            result.messages += 1
            try:
                with self.journal.transaction(durable=True):
                    self._journal_answer(message.body, result)
            except Exception as exc:
                self.queue.backout()
                # A message that breaks the reader is listed and the others go on (the queue
                # moves it to its error queue at its backout threshold).
                failed.set_aside(message.msg_id, exc)
                result.failed += 1
                continue
            except BaseException:
                self.queue.backout()
                raise
            crash_point("eindkomst.receive.after_journal")
            self.queue.commit()
        return result

    def _journal_answer(self, body: bytes, result: ReceiveResult) -> None:
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
                    reason="got from the reply queue",
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
            self.journal.set_item_state(item.id, "error", reason=f"7200 {rec.error_code}")
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

    # -- tax cards -------------------------------------------------------------------------

    def withholding(self, cpr: str, on: dt.date) -> Withholding:
        return withholding(JournalCardStore(self.journal), cpr, on)


def _receipt_data(rec: SumReceipt | ErrorReceipt) -> dict[str, object]:
    values = [v.isoformat() if isinstance(v, dt.date) else v for v in record_values(rec)]
    return {"type": rec.RECORD_TYPE, "values": values}


def _write_synced(path: Path, body: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
