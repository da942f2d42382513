"""eIndkomst end to end against the simulator, in-process: send, receipts, reconciliation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.eindkomst import (
    COUNTERPART,
    JournalHistory,
    SendRefused,
    period_reconciliation,
    report_lines,
)
from formats.eindkomst import ReversalRequest
from formats.eindkomst.receipts import ReportStatus
from gateway.journal import DuplicateTransmission
from gateway.reconcile import Category
from simulators.eindkomst import DEFAULT_REQUEST_QUEUE, SimulatorScript
from tests.eik_flow_helpers import NOW, income, rig
from tests.eik_helpers import SE, cpr

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


def test_scripted_rejection_is_a_7200_finding_on_the_right_recipient(tmp_path: Path) -> None:
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
