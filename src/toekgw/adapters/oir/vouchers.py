"""Building vouchers from the journal, regenerating a rejected one, and manual vouchers.

:func:`build_vouchers` first records the payment events not yet booked
(:data:`~toekgw.adapters.oir.model.EVENT_SOURCES`), then plans vouchers from them page by
page (:func:`~toekgw.adapters.oir.plan.plan_vouchers`) and keeps each in the books: ``built``
(ready to send) or ``held`` (an account not valid in the sortiment: on the error list,
never sent). An event is on exactly one voucher, so it is booked once.

A held or rejected voucher is **regenerated** (:func:`regenerate`) from its events with the
current sortiment and ``[oir]`` accounts, dated ``posting_date``; the new voucher names the
original (``replaces``), which becomes ``superseded``, in one transaction. The new voucher's id
follows from the original's and the date, so running the same regeneration again (after a
crash that hid whether it was kept) finds it and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from toekgw.adapters.oir.chart import Chart, current_chart
from toekgw.adapters.oir.model import EVENT_SOURCES, OIR_NAMESPACE
from toekgw.adapters.oir.plan import (
    PlannedVoucher,
    plan_vouchers,
    postings_for,
    voucher_number,
    voucher_of,
)
from toekgw.adapters.oir.settings import OirSettings
from toekgw.adapters.oir.store import COUNTERPART, HELD_SUBJECT, BooksJournal
from toekgw.formats.findings import Finding
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal.books import PostingRow, VoucherRow

__all__ = ["BuildSummary", "RegenerateError", "build_vouchers", "regenerate"]

_PAGE = 50_000


@dataclass(slots=True)
class BuildSummary:
    events: int = 0
    built: int = 0
    held: int = 0
    postings: int = 0
    held_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "events": self.events,
            "built": self.built,
            "held": self.held,
            "postings": self.postings,
            "held_ids": list(self.held_ids),
        }


class RegenerateError(GatewayError):
    """A voucher that cannot be regenerated (unknown, in the wrong state, still invalid)."""

    exit_code = 1


def _keep(
    journal: BooksJournal,
    planned: PlannedVoucher,
    summary: BuildSummary,
    replaces: int | None = None,
) -> int:
    v = planned.voucher
    state = "held" if planned.findings else "built"
    with journal.transaction():
        row = journal.add_voucher(
            voucher_id=v.voucher_id,
            group=planned.group,
            day=v.date,
            kind=planned.kind,
            state=state,
            postings=planned.rows,
            reason="; ".join(f.message for f in planned.findings) or None,
            replaces=replaces,
        )
        if planned.findings:
            journal.add_error(
                counterpart=COUNTERPART,
                subject=HELD_SUBJECT,
                findings=planned.findings,
                business_key=v.voucher_id,
            )
    crash_point("oir.build.after_voucher")
    summary.postings += len(planned.rows)
    if planned.findings:
        summary.held += 1
        summary.held_ids.append(v.voucher_id)
    else:
        summary.built += 1
    return row


def build_vouchers(journal: BooksJournal, settings: OirSettings) -> BuildSummary:
    """Book every payment event not yet on a voucher."""
    summary = BuildSummary()
    for source in EVENT_SOURCES:
        summary.events += journal.collect_events(source, zone=settings.time_zone)
    chart = current_chart(journal, settings.sortiment)
    while page := journal.open_events(_PAGE):
        for planned in plan_vouchers(page, settings, chart):
            _keep(journal, planned, summary)
    return summary


def regenerate(
    journal: BooksJournal, settings: OirSettings, voucher_id: str, posting_date: dt.date
) -> tuple[VoucherRow, BuildSummary]:
    """A new voucher for the events of held or rejected ``voucher_id``, with the current
    sortiment and accounts, dated ``posting_date``; the original becomes ``superseded``.
    Raises :class:`RegenerateError` when it is not possible (and changes nothing)."""
    original = journal.voucher(voucher_id)
    if original is None:
        raise RegenerateError(f"no voucher {voucher_id} in the journal")
    done = journal.voucher(_regenerated_id(original, posting_date))
    if done is not None and done.replaces == original.id:
        return done, BuildSummary()  # regenerated before: the same again, nothing new
    if original.state not in ("held", "rejected"):
        raise RegenerateError(
            f"voucher {voucher_id} is {original.state}: only a held or rejected voucher is "
            "regenerated"
        )
    chart = current_chart(journal, settings.sortiment)
    planned = _replan(journal, settings, chart, original, posting_date)
    if planned.findings:
        raise RegenerateError(
            f"voucher {voucher_id} regenerated for {posting_date} would still not be valid: "
            + "; ".join(f.message for f in planned.findings),
            hint="correct the [oir] accounts or wait for the sortiment, then try again",
        )
    summary = BuildSummary()
    with journal.transaction(durable=True):
        if not journal.set_voucher_state(
            original.id,
            "superseded",
            reason=f"regenerated as {planned.voucher.voucher_id} on {posting_date}",
            expect=("held", "rejected"),
        ):
            raise RegenerateError(f"voucher {voucher_id} changed while it was regenerated")
        _keep(journal, planned, summary, replaces=original.id)
        crash_point("oir.regenerate.before_commit")
    crash_point("oir.regenerate.after_commit")
    new = journal.voucher(planned.voucher.voucher_id)
    assert new is not None
    return new, summary


def _regenerated_id(original: VoucherRow, day: dt.date) -> str:
    return str(uuid.uuid5(OIR_NAMESPACE, f"{original.voucher_id}|regenerated|{day}"))


def _replan(
    journal: BooksJournal,
    settings: OirSettings,
    chart: Chart,
    original: VoucherRow,
    day: dt.date,
) -> PlannedVoucher:
    voucher_id = _regenerated_id(original, day)
    findings: list[Finding] = []
    rows: list[PostingRow] = []
    events = journal.voucher_events(original.id)
    for event in events:
        rows.extend(postings_for(event, day, settings, chart, len(rows) + 1, findings))
    number = voucher_number(original.kind, original.group, day, events[0].id)
    voucher = voucher_of(voucher_id, day, number, rows)
    voucher.require_balanced()
    return PlannedVoucher(voucher, original.group, original.kind, rows, findings)
