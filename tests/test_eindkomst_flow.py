"""eIndkomst end to end against the simulator, in-process: send, receipts, reconciliation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.eik_flow_helpers import NOW, income, rig
from tests.eik_helpers import SE, cpr
from toekgw.adapters.eindkomst import (
    COUNTERPART,
    JournalHistory,
    SendRefused,
    period_reconciliation,
    report_lines,
)
from toekgw.formats.eindkomst import ReversalRequest
from toekgw.formats.eindkomst.receipts import ReportStatus
from toekgw.gateway.journal import DuplicateTransmission
from toekgw.gateway.reconcile import Category
from toekgw.simulators.eindkomst import DEFAULT_REQUEST_QUEUE, SimulatorScript

DAY = dt.timedelta(hours=24)


def test_reports_sent_receipts_back_sums_reconciled(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        people = {cpr(i): {"0014": 1_000_000 + i, "0015": 380_000} for i in range(5)}
        sent = r.gateway.send([income(people)])
        assert sent.put == 1
        assert [t.state for t in sent.transmissions] == ["sent"]
        r.round_trip()
        tx = r.journal.get_transmission(sent.transmissions[0].id)
        assert tx.state == "receipted"
        lines = report_lines(r.journal, now=NOW, overdue_after=DAY)
        assert [line.result.status for line in lines] == [ReportStatus.ACCEPTED]
        assert lines[0].result.count_received == 5
        assert lines[0].result.sum_received == sum(a["0014"] + a["0015"] for a in people.values())
        rec = period_reconciliation(lines, as_of=NOW.date())
        assert rec.category is Category.RECONCILED
        assert r.sim.ledger.reports()[sent.report_ids[0]][0] == "G"


def test_scripted_rejection_in_the_error_file_is_a_finding_on_its_recipient(
    tmp_path: Path,
) -> None:
    bad = cpr(3)
    with rig(tmp_path, SimulatorScript(reject_cprs=frozenset({bad}))) as r:
        people = {cpr(i): {"0014": 500_000} for i in range(6)}
        sent = r.gateway.send([income(people)])
        r.round_trip()
        (line,) = report_lines(r.journal, now=NOW, overdue_after=DAY)
        assert line.result.status is ReportStatus.REJECTED
        errors = [f for f in line.findings if f.code == "eik.receipt.error"]
        assert len(errors) == 1
        masked = f"{bad[:6]}-****"
        assert masked in errors[0].message and bad not in errors[0].message
        # The recipient's item carries the error; the error list names it, masked.
        (item,) = [
            i for i in r.journal.items(sent.transmissions[0].id) if (i.data or {}).get("who") == bad
        ]
        assert item.state == "error"
        listed = r.journal.errors(counterpart=COUNTERPART)
        assert [e.business_key for e in listed] == [item.business_key]
        assert masked in listed[0].findings[0].message
        rec = period_reconciliation([line], as_of=NOW.date())
        assert rec.category is Category.FOLLOW_UP


def test_wrong_sum_is_not_reconciled_and_overdue_is_reported(tmp_path: Path) -> None:
    with rig(tmp_path, SimulatorScript(wrong_sum_share=1.0)) as r:
        r.gateway.send([income({cpr(1): {"0014": 100_000}})])
        r.gateway.send([income({cpr(2): {"0014": 200_000}}, key="second")])
        r.sim.step()  # only the first is answered
        r.gateway.receive()
        lines = report_lines(r.journal, now=NOW + 2 * DAY, overdue_after=DAY)
        assert [line.result.status for line in lines] == [
            ReportStatus.DIFFERENCE,
            ReportStatus.OVERDUE,
        ]
        assert lines[0].result.sum_difference == 100
        assert period_reconciliation(lines, as_of=NOW.date()).category is Category.NOT_RECONCILED
        early = report_lines(r.journal, now=NOW, overdue_after=DAY)
        assert early[1].result.status is ReportStatus.AWAITING


def test_duplicate_send_is_refused_and_a_redelivery_registers_once(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        report = income({cpr(1): {"0014": 100_000}})
        first = r.gateway.send([report])
        with pytest.raises(DuplicateTransmission):
            r.gateway.send([income({cpr(1): {"0014": 100_000}})])
        # The same message again on the queue (a re-send after a crash): answered again,
        # registered once, and the repeated answer changes nothing.
        body = Path(str(first.transmissions[0].local_path)).read_bytes()
        r.queue.put(DEFAULT_REQUEST_QUEUE, body)
        r.queue.commit()
        assert r.sim.drain() == 2
        assert r.sim.stats.duplicates == 1
        assert r.sim.ledger.reports()[first.report_ids[0]][3] == 2  # delivered twice
        assert r.sim.ledger.deliveries() == {body[89:105].decode(): 2}
        got = r.gateway.receive()
        assert got.messages == 2 and got.duplicates == 1
        (line,) = report_lines(r.journal, now=NOW, overdue_after=DAY)
        assert line.result.status is ReportStatus.ACCEPTED


def test_correction_may_not_make_a_monthly_total_negative(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        person = cpr(7)
        r.gateway.send([income({person: {"0014": 100_000}})])
        r.round_trip()
        history = JournalHistory(r.journal)
        assert history.monthly_total(SE, person, "0014", "2026-11") == 100_000
        with pytest.raises(SendRefused) as refused:
            r.gateway.send([income({person: {"0014": -150_000}}, key="corr")])
        assert any(f.code == "eik.correction.negative_total" for f in refused.value.findings)
        assert person not in str(refused.value)
        # A supplementary report within the total passes, and counts.
        r.gateway.send([income({person: {"0014": -40_000}}, key="corr2")])
        r.round_trip()
        assert JournalHistory(r.journal).monthly_total(SE, person, "0014", "2026-11") == 60_000


def test_reversal_takes_a_report_out_of_the_history(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        a, b = cpr(1), cpr(2)
        sent = r.gateway.send([income({a: {"0014": 100_000}, b: {"0014": 50_000}})])
        rid = sent.report_ids[0]
        r.round_trip()
        r.gateway.send(reversals=[ReversalRequest(SE, rid, cpr=a)])
        r.round_trip()
        history = JournalHistory(r.journal)
        assert history.monthly_total(SE, a, "0014", "2026-11") == 0
        assert history.monthly_total(SE, b, "0014", "2026-11") == 50_000
        r.gateway.send(reversals=[ReversalRequest(SE, rid)])
        assert JournalHistory(r.journal).monthly_total(SE, b, "0014", "2026-11") == 0


def test_rejected_report_does_not_count(tmp_path: Path) -> None:
    person = cpr(4)
    with rig(tmp_path, SimulatorScript(reject_cprs=frozenset({person}))) as r:
        r.gateway.send([income({person: {"0014": 100_000}})])
        r.round_trip()
        assert JournalHistory(r.journal).monthly_total(SE, person, "0014", "2026-11") == 0


def test_close_month_sends_a_nil_report_only_for_companies_that_owe_one(tmp_path: Path) -> None:
    other = "13585628"
    with rig(tmp_path, companies=(SE, other)) as r:
        r.gateway.send([income({cpr(1): {"0014": 100_000, "0015": 38_000}})])
        month = dt.date(2026, 11, 1)
        closed = r.gateway.close_month(month)
        r.round_trip()
        assert len(closed.report_ids) == 1
        (nil,) = [
            line
            for line in report_lines(r.journal, now=NOW, overdue_after=DAY)
            if line.kind == "nil"
        ]
        assert nil.company_se == other and nil.result.status is ReportStatus.ACCEPTED
        history = JournalHistory(r.journal)
        assert history.nil_report_exists(other, "2026-11")
        assert not history.nil_report_exists(SE, "2026-11")
        # Closing again sends nothing: the nil report is there.
        assert r.gateway.close_month(month).report_ids == []
        # Three years back: no nil report.
        assert r.gateway.close_month(dt.date(2023, 11, 1)).report_ids == []


def test_tax_cards_ordered_journaled_and_withholding_answered(tmp_path: Path) -> None:
    from toekgw.formats.eindkomst import TaxCardOrder
    from toekgw.formats.eindkomst.taxcards import CardType

    main, none = cpr(11), cpr(12)
    with rig(tmp_path, SimulatorScript(no_card_cprs=frozenset({none}))) as r:
        start = dt.date(2026, 12, 1)
        assert r.gateway.withholding(main, start).rate_pct == 55  # no card yet
        r.gateway.send(
            orders=[
                TaxCardOrder(SE, main, start, "1", start),
                TaxCardOrder(SE, none, start, "2", start),
            ]
        )
        r.sim.drain()
        got = r.gateway.receive()
        assert got.messages == 1 and got.tax_cards == 2 and got.sum_receipts == 0
        w = r.gateway.withholding(main, dt.date(2026, 12, 15))
        assert w.card is not None and w.card.kort_type is CardType.MAIN
        assert 30 <= w.rate_pct < 46 and w.rate_pct != 55
        assert r.gateway.withholding(main, dt.date(2026, 11, 30)).rate_pct == 55  # before it
        assert r.gateway.withholding(none, dt.date(2026, 12, 15)).rate_pct == 55  # KORT_TYPE 0
        assert r.gateway.receive().messages == 0


def test_unreadable_answer_goes_to_the_error_list_and_is_consumed(tmp_path: Path) -> None:
    from toekgw.simulators.eindkomst import DEFAULT_REPLY_QUEUE

    with rig(tmp_path) as r:
        r.queue.put(DEFAULT_REPLY_QUEUE, b"0000001XXXX garbage\r\n")
        r.queue.put(DEFAULT_REPLY_QUEUE, b"<SkattekortListe/>")
        r.queue.put(DEFAULT_REPLY_QUEUE, b"")  # was journaled as a receipt message of nothing
        r.queue.commit()
        got = r.gateway.receive()
        assert (got.messages, got.unreadable) == (3, 3)
        errors = r.journal.errors(counterpart=COUNTERPART)
        assert len(errors) == 3
        assert "eik.structure.empty" in {f.code for e in errors for f in e.findings}
        assert r.queue.get(DEFAULT_REPLY_QUEUE) is None


def test_a_pending_delivery_whose_outbox_file_vanished_is_named(tmp_path: Path) -> None:
    from toekgw.gateway.errors import InputError

    with rig(tmp_path) as r:
        sent = r.gateway.send([income({cpr(1): {"0014": 1}})])
        tx = sent.transmissions[0]
        # As after a crash before the put: journaled, then its file lost.
        r.journal._db.execute("UPDATE transmissions SET state = 'journaled' WHERE id = ?", (tx.id,))
        Path(str(tx.local_path)).unlink()
        with pytest.raises(InputError) as info:
            r.gateway.receive()
        assert "cannot read its outbox file" in str(info.value)


def test_codes_are_reversed_not_corrected(tmp_path: Path) -> None:
    from tests.eik_helpers import DISPOSITION, PERIOD
    from toekgw.formats.eindkomst import IncomeReport, Recipient

    def atp(code: str, key: str) -> IncomeReport:
        person = Recipient(cpr=cpr(8), amounts={"0046": 9_900}, codes={"0045": code})
        return IncomeReport(SE, *PERIOD, DISPOSITION, "00", [person], key=key)

    with rig(tmp_path) as r:
        first = r.gateway.send([atp("A", "one")])
        r.round_trip()
        with pytest.raises(SendRefused) as refused:
            r.gateway.send([atp("B", "two")])
        assert [f.code for f in refused.value.findings] == ["eik.correction.not_reversed"]
        # Reverse the person's part of the first report and report again: accepted.
        r.gateway.send(
            [atp("B", "three")], reversals=[ReversalRequest(SE, first.report_ids[0], cpr=cpr(8))]
        )
        r.round_trip()
        lines = report_lines(r.journal, now=NOW, overdue_after=DAY)
        assert [line.result.status for line in lines] == [ReportStatus.ACCEPTED] * 2
