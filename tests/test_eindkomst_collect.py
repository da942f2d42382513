"""``report_paid`` streams the payments at the bank from the journal and sends, per month,
the same deliveries as the month's payments held in a list and handed to
:func:`~toekgw.adapters.eindkomst.demo.benefit_reports` would give, with a mark per payment
in the journal's order; payments read differently for the reports and the marks send
nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest

from tests.eik_flow_helpers import NOW, rig
from tests.eik_helpers import SE
from tests.journals import raw_execute
from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import G68_KIND, instruction, journal_delivery
from toekgw.adapters.eindkomst import COUNTERPART, DELIVERY, EindkomstGateway, MqRoute
from toekgw.adapters.eindkomst.collect import report_paid
from toekgw.adapters.eindkomst.demo import PaidBenefit, benefit_reports
from toekgw.adapters.g68 import PaymentInstruction
from toekgw.formats.eindkomst import ReportBuilder, Sender
from toekgw.gateway.journal import (
    JournalError,
    JournalLocation,
    SqliteJournal,
    Unmarked,
    open_journal,
)
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.eindkomst import DEFAULT_REPLY_QUEUE, DEFAULT_REQUEST_QUEUE

BEFORE = dt.date(2026, 12, 1)


def _payments(journal: SqliteJournal) -> None:
    """Two months, several dates, CPRs paid more than once a day, a CVR payment, one not at
    the bank, one 10-digit beneficiary among the 14-digit ones."""
    payments = []
    for n in range(120):
        day = dt.date(2026, 10 + n % 2, 1 + n * 7 % 28)
        who = cpr(n * 13 % 31)
        payments.append(
            instruction(
                n, date=day, amount=1_000 * (1 + n % 9),
                beneficiary=who if n % 7 == 0 else who.rjust(14, "0"),
                ident_code="01" if n % 23 == 0 else "02",
            )
        )  # fmt: skip
    journal_delivery(journal, payments)
    raw_execute(journal, "UPDATE items SET state = 'at-bank' WHERE seq != 10")


def _as_listed(journal: SqliteJournal) -> list[tuple[list[int], list[PaidBenefit]]]:
    """The month's payments as the collector once held them: in the journal's order."""
    months: dict[dt.date, tuple[list[int], list[PaidBenefit]]] = {}
    for item in journal.items_of_kind(G68_KIND.name, "at-bank"):
        p = PaymentInstruction.from_data(item.data or {})
        if p.ident_code == "02" and p.disposition_date and p.disposition_date < BEFORE:
            ids, paid = months.setdefault(p.disposition_date.replace(day=1), ([], []))
            ids.append(item.id)
            paid.append(PaidBenefit(p.beneficiary[-10:], p.amount_ore, p.disposition_date))
    return [months[m] for m in sorted(months)]


@contextmanager
def _gateway(journal_at: JournalLocation, tmp: Path) -> Iterator[EindkomstGateway]:
    """A gateway on a journal of either back end (the rig's: SQLite)."""
    journal = open_journal(journal_at)
    queue = SqliteQueue(tmp / "queues.sqlite")
    try:
        yield EindkomstGateway(
            journal, MqRoute(queue, DEFAULT_REQUEST_QUEUE, DEFAULT_REPLY_QUEUE),
            sender=Sender(se=SE, cvr=SE), outbox=tmp / "outbox", clock=lambda: NOW,
            max_message_bytes=3_000,  # several deliveries and 5000 groups a month
        )  # fmt: skip
    finally:
        queue.close()
        journal.close()


def test_report_paid_sends_what_the_months_list_would_have(
    journal_at: JournalLocation, tmp_path: Path
) -> None:
    with _gateway(journal_at, tmp_path) as gw:
        journal = cast("SqliteJournal", gw.journal)
        _payments(journal)
        expected: list[bytes] = []
        marks: list[list[str]] = []
        for ids, paid in _as_listed(journal):
            first = min(b.disposition_date for b in paid).replace(day=1)
            last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            reports = benefit_reports(
                gw, paid, (first, last), company_se=gw.sender.se, key=f"paid:{ids[0]}"
            )
            builder = ReportBuilder(
                gw.sender, created=gw.now().replace(tzinfo=None), max_message_bytes=3_000
            )
            expected += [d.to_bytes() for d in builder.deliveries(reports)]
            marks.append([f"paid:{i}" for i in ids])
        run = report_paid(gw, (G68_KIND.name,), before=BEFORE)
        sent = journal.transmissions(counterpart=COUNTERPART, kind=DELIVERY.name)
        assert [Path(str(t.local_path)).read_bytes() for t in sent] == expected
        assert run.payments == sum(len(m) for m in marks)
        assert run.reports == sum(len(cast("list[str]", t.meta["report_ids"])) for t in sent)
        for month in marks:  # each month's marks on its first delivery, in order
            found = journal.existing_items(COUNTERPART, month)
            assert [found[k].seq for k in month] == list(range(len(month)))
            assert len({found[k].transmission_id for k in month}) == 1
        again = report_paid(gw, (G68_KIND.name,), before=BEFORE)
        assert (again.payments, again.reports) == (0, 0)


def test_payments_read_unlike_for_reports_and_marks_send_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(tmp_path) as r:
        _payments(r.journal)
        # The reads of one date's payments in CPR order leave one out (as a payment moved
        # between the month's sums and that read would).
        read = r.journal.unmarked_items

        def unlike(which: Unmarked, **kw: Any) -> list[tuple[str, int, int]]:
            rows = read(which, **kw)
            return rows[1:] if kw.get("order") and which.dates[0] == dt.date(2026, 10, 1) else rows

        monkeypatch.setattr(r.journal, "unmarked_items", unlike)
        with pytest.raises(JournalError, match="not read alike"):
            report_paid(r.gateway, (G68_KIND.name,), before=BEFORE)
        # nothing journaled (the outbox file of an undone send is written over by the next)
        assert r.journal.transmissions(counterpart=COUNTERPART, kind=DELIVERY.name) == []
