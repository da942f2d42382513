"""Send income reports to SKAT and take its answers back, with the journal as the outbox.

Send (:meth:`EindkomstGateway.send`):

1. build the deliveries (:class:`ReportBuilder`: deterministic report ids, so the same input
   gives the same reports);
2. validate each with :func:`validate_delivery` against the journal's history (corrections
   may not make a monthly total negative, one nil report per month, …) - any error refuses
   the whole send and nothing is journaled;
3. in one durable journal transaction: each delivery's bytes to the outbox (fsync), its
   transmission and items (state ``journaled``);
4. per delivery: hand it over on the configured route (:mod:`.routes`): on MQ put under
   syncpoint with a message id derived from its main report id and commit, then mark it
   ``sent``; over SF0770_B (:mod:`.sf0770`) upload it with its trigger (``uploaded``), and the
   platform's technical receipt makes it ``sent``.

A crash before 3 leaves nothing; between 3 and the hand-over the delivery stays ``journaled``
and the next send or receive hands it over (:meth:`send_pending`); after the hand-over and
before the journal knows, it is handed over again with the same ids and report ids: SKAT (and
the simulator) drop the duplicate by report id and answer again, and the answer changes
nothing twice.

Receive (:meth:`EindkomstGateway.receive`): take each answer from the route, journal it (7100
sum receipts, SKAT's error/advice file or tax-card XML) and apply it (:mod:`.answers`: report
accepted/rejected, an error or advice on its recipient and in the error list), commit the
journal durably, and only then let the route let go of it (commit the get, remove the file).
The same answer again (same SHA-256) is dropped; a repeated receipt record applies once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from toekgw.adapters.eindkomst.answers import Answers, ReceiveResult
from toekgw.adapters.eindkomst.items import delivery_items
from toekgw.adapters.eindkomst.kinds import (
    COUNTERPART,
    DELIVERY,
    define_kinds,
)
from toekgw.adapters.eindkomst.routes import ReportRoute
from toekgw.adapters.eindkomst.views import (
    JournalCardStore,
    JournalHistory,
)
from toekgw.formats.eindkomst import (
    IncomeReport,
    NilReport,
    ReportBuilder,
    ReversalRequest,
    Sender,
    TaxCardOrder,
    nil_reports_due,
    validate_delivery,
)
from toekgw.formats.eindkomst.report import DEFAULT_MAX_MESSAGE_BYTES
from toekgw.formats.eindkomst.taxcards import Withholding, withholding
from toekgw.formats.findings import Finding
from toekgw.gateway.danish_time import danish_date
from toekgw.gateway.errors import InputError
from toekgw.gateway.faults import crash_point
from toekgw.gateway.flowlock import FlowBusy
from toekgw.gateway.journal import (
    DuplicateTransmission,
    Journal,
    NewItem,
    NewTransmission,
    Transmission,
)

__all__ = ["EindkomstGateway", "ReceiveResult", "SendRefused", "SendResult"]

_log = logging.getLogger(__name__)


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
    """What a send journaled (``transmissions`` and ``report_ids`` are left empty by a send
    with ``listed=False``: the counts are always kept)."""

    transmissions: list[Transmission] = field(default_factory=list)
    report_ids: list[str] = field(default_factory=list)
    put: int = 0  # deliveries handed over by this call (pending ones included)
    deliveries: int = 0  # deliveries journaled by this call
    reports: int = 0  # their reports (5000 groups, 3101 nil reports)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class EindkomstGateway:
    def __init__(
        self,
        journal: Journal,
        route: ReportRoute,
        *,
        sender: Sender,
        outbox: Path,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        companies: Sequence[str] = (),
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.journal = journal
        self.route = route
        self.sender = sender
        self.outbox = outbox
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
        marks: Iterable[NewItem] = (),
        listed: bool = True,
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
        return self.send_deliveries(bodies, marks=marks, listed=listed)

    def send_deliveries(
        self, bodies: Iterable[bytes], *, marks: Iterable[NewItem] = (), listed: bool = True
    ) -> SendResult:
        """Validate, journal and hand over complete deliveries (built here or handed in). All
        in one durable transaction: an error in any delivery journals none of them. ``marks``:
        items journaled with the first delivery in the same transaction (what the caller
        must know was sent: :mod:`.collect` marks each payment it reported), read only once
        the deliveries are journaled (an iterable may read the journal as it goes).
        ``listed=False``: the result counts the deliveries and reports but lists none (a
        send of any size keeps nothing per delivery)."""
        result = SendResult(put=self.send_pending())
        first_tx: Transmission | None = None
        self.outbox.mkdir(parents=True, exist_ok=True)
        today = danish_date(self.now())
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
                first_tx = first_tx or tx
                result.deliveries += 1
                result.reports += len(report_ids)
                if listed:
                    result.transmissions.append(tx)
                    result.report_ids.extend(report_ids)
            pending = iter(marks) if first_tx is not None else iter(())
            first = next(pending, None)  # read in the transaction, after the deliveries
            if first_tx is not None and first is not None:
                self.journal.add_items(
                    first_tx.id,
                    chain((first,), pending),
                    state="journaled",
                    reason="reported",
                )
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
        """Hand over every delivery still waiting for the route (a send interrupted before
        the counterpart had it); how many were handed over by this call."""
        handed = 0
        watch: list[int] = []  # handed over, waiting for the route's confirmation
        for tx in self.journal.transmissions(
            counterpart=COUNTERPART, kind=DELIVERY.name, states=list(self.route.pending_states)
        ):
            if tx.state == "journaled":
                body = self._outbox_bytes(tx)
                try:
                    if self.route.hand_over(self.journal, tx, body, self.now().isoformat()):
                        handed += 1
                except FlowBusy:
                    # Another process (a send, a receive) is handing over: it hands over what
                    # it read, a later send or receive the rest. Putting it here too would
                    # give SKAT the delivery twice.
                    _log.warning(
                        "another process is handing eIndkomst deliveries over: delivery %s "
                        "and any after it wait for it or the next send or receive",
                        tx.file_name,
                    )
                    break
            watch.append(tx.id)
        if watch:
            self.route.settle(self.journal, watch)
        return handed

    def retry_failed(self) -> int:
        """Hand over again every delivery the platform refused (SF0770_B), once the cause
        is mended; how many were handed over."""
        failed = self.journal.transmissions(
            counterpart=COUNTERPART, kind=DELIVERY.name, states=["failed"]
        )
        with self.journal.transaction(durable=True):
            for tx in failed:
                self.journal.set_state(
                    tx.id, "journaled", expect="failed", reason="to be sent again after an error"
                )
        return self.send_pending()

    def _outbox_bytes(self, tx: Transmission) -> bytes:
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
        return body

    # -- month close, reversals ------------------------------------------------------------

    def close_month(self, month: dt.date, *, today: dt.date | None = None) -> SendResult:
        """A 3101 nil report for each company that reported no A-tax/AM-contribution for
        ``month`` and has no nil report for it yet (none for months three years back)."""
        due = nil_reports_due(
            self.companies,
            month,
            JournalHistory(self.journal),
            today=today or danish_date(self.now()),
        )
        if not due:
            return SendResult(put=self.send_pending())
        return self.send(nil_reports=due)

    # -- receive ---------------------------------------------------------------------------

    def receive(self, *, wait: float = 0.0, max_messages: int | None = None) -> ReceiveResult:
        """Take every answer waiting for us on the route (the first waits up to ``wait``)."""
        self.send_pending()
        result = ReceiveResult()
        answers = Answers(self.journal)

        def apply(body: bytes, origin: str) -> None:
            with self.journal.transaction(durable=True):
                answers.take(body, result, origin=origin)

        limit = sys.maxsize if max_messages is None else max_messages
        self.route.take(self.journal, apply, result, wait=wait, limit=limit)
        return result

    # -- tax cards -------------------------------------------------------------------------

    def withholding(self, cpr: str, on: dt.date) -> Withholding:
        return withholding(JournalCardStore(self.journal), cpr, on)


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
