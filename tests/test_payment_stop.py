"""Stop after send: the stop request (NKSStop, ours) journaled, sent once, answered by the
NemKonto simulator with Retursvar 5 (stopped, or too late on the disposition date), and the
payment following the answer - end to end, and killed between the put and the journal."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crashkit import child_env
from tests.nemkonto_flow_data import DUE, SETTINGS, instruction, journal_delivery, new_journal
from tests.payments_helpers import controlled_release, desk, state_of
from toekgw.adapters.nemkonto import receive_answers, send_bundles
from toekgw.adapters.nemkonto.stops import STOP_KIND, STOP_SUBJECT, stop_request_of
from toekgw.adapters.payments import ActionRefused, records
from toekgw.formats.nemkonto import (
    AnswerType,
    BundleAnswer,
    PaymentState,
    PaymentStatus,
    StopRequest,
    build_answer,
    build_stop,
    is_stop,
    read_answer,
    read_stop,
)
from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript
from toekgw.simulators.nemkonto.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
K1, K2 = instruction(1).business_key, instruction(2).business_key
BEFORE = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)  # the day before DUE
ON_THE_DAY = dt.datetime(DUE.year, DUE.month, DUE.day, 6, 0, tzinfo=dt.UTC)
SLOW_BANK = SimulatorScript(bank_delay=30 * 24 * 3600)  # Retursvar 8 not before the test ends


def _nemkonto(queue: SqliteQueue, ledger: Path, at: dt.datetime) -> int:
    sim = NemKontoSimulator(queue, ledger, SLOW_BANK, clock=lambda: at)
    try:
        return sim.drain()
    finally:
        sim.ledger.close()


def _paid(ledger: Path) -> set[str]:
    book = Ledger(ledger)
    try:
        return set(book.paid())
    finally:
        book.close()


def _stops(journal: SqliteJournal) -> dict[str, str]:
    return {
        str(tx.meta["payment_id"]): tx.state for tx in journal.transmissions(kind=STOP_KIND.name)
    }


@pytest.fixture
def sent(tmp_path: Path) -> tuple[SqliteJournal, SqliteQueue, Path]:
    """Two payments sent and accepted by NemKonto, the bank not yet answered."""
    journal = new_journal(tmp_path / "journal.sqlite")
    queue = SqliteQueue(tmp_path / "queues.sqlite")
    journal_delivery(journal, [instruction(1), instruction(2)])
    controlled_release(journal)
    send_bundles(journal, queue, SETTINGS)
    _nemkonto(queue, tmp_path / "ledger.sqlite", BEFORE)
    receive_answers(journal, queue, SETTINGS)
    assert state_of(journal, K1) == state_of(journal, K2) == "accepted"
    return journal, queue, tmp_path / "ledger.sqlite"


def test_a_stop_before_the_disposition_date_stops_the_payment(
    sent: tuple[SqliteJournal, SqliteQueue, Path],
) -> None:
    journal, queue, ledger = sent
    record = desk(journal, "anna").stop(K1, "paid twice by mistake")
    assert record.type == "stop-request" and record.payment == K1
    assert _stops(journal) == {K1: "prepared"} and state_of(journal, K1) == "accepted"
    with pytest.raises(ActionRefused, match="stop request on its way"):
        desk(journal, "bo").stop(K1, "again")
    send_bundles(journal, queue, SETTINGS)
    assert _stops(journal) == {K1: "sent"}
    assert _nemkonto(queue, ledger, BEFORE) == 1
    receive_answers(journal, queue, SETTINGS)
    assert state_of(journal, K1) == "stopped" and state_of(journal, K2) == "accepted"
    assert _stops(journal) == {K1: "stopped"}
    assert _paid(ledger) == {K2}  # NemKonto pays the stopped one to no one
    with pytest.raises(ActionRefused, match="is stopped: stop needs"):
        desk(journal, "anna").stop(K1, "again")
    # A stopped payment is handled like any failed one.
    assert desk(journal, "anna").resend(K1, "the right amount this time") == f"{K1}:r1"


def test_a_stop_on_the_disposition_date_is_too_late_and_the_payment_goes_on(
    sent: tuple[SqliteJournal, SqliteQueue, Path],
) -> None:
    journal, queue, ledger = sent
    desk(journal, "anna").stop(K1, "paid twice by mistake")
    send_bundles(journal, queue, SETTINGS)
    _nemkonto(queue, ledger, ON_THE_DAY)
    summary = receive_answers(journal, queue, SETTINGS)
    assert summary.applied == 1 and summary.unusable == 0
    assert state_of(journal, K1) == "accepted"
    assert _stops(journal) == {K1: "too-late"}
    (entry,) = [e for e in journal.errors() if e.subject == STOP_SUBJECT]
    assert entry.business_key == K1
    assert "could not stop payment" in entry.findings[0].message
    assert "disposition date is 2026-11-25" in entry.findings[0].message
    assert _paid(ledger) == {K1, K2}
    # Stray answers are not listed: the too-late answer is about a payment we sent.
    assert not [e for e in journal.errors() if e.subject == "stray-answer"]
    # Settled: a new stop may be asked (and is too late again).
    desk(journal, "anna").stop(K1, "asked again")
    states = sorted(tx.state for tx in journal.transmissions(kind=STOP_KIND.name))
    assert states == ["prepared", "too-late"]


def _send_in_child(tmp_path: Path, crash_at: str) -> int:
    env = child_env(crash_at)
    code = (
        "import sys; from tests.nemkonto_flow_data import SETTINGS; "
        "from toekgw.adapters.nemkonto import send_bundles; "
        "from toekgw.gateway.journal import open_journal; "
        "from toekgw.gateway.transport.mq import SqliteQueue; "
        "send_bundles(open_journal(sys.argv[1]), SqliteQueue(sys.argv[2]), SETTINGS)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "journal.sqlite"),
         str(tmp_path / "queues.sqlite")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    return done.returncode


@pytest.mark.parametrize("point", ["nemkonto.stop.after_put", "nemkonto.stop.after_commit"])
def test_send_killed_around_the_put_sends_the_stop_once(
    sent: tuple[SqliteJournal, SqliteQueue, Path], tmp_path: Path, point: str
) -> None:
    journal, queue, ledger = sent
    desk(journal, "anna").stop(K1, "paid twice by mistake")
    _send_in_child(tmp_path, point)
    assert _stops(journal) == {K1: "prepared"}  # the journal never learnt of the put
    send_bundles(journal, queue, SETTINGS)  # the restart puts it (again, same id)
    requests = _nemkonto(queue, ledger, BEFORE)
    assert requests == (1 if point.endswith("after_put") else 2)
    summary = receive_answers(journal, queue, SETTINGS)
    assert summary.duplicates == requests - 1  # NemKonto's second answer changes nothing
    assert state_of(journal, K1) == "stopped" and _stops(journal) == {K1: "stopped"}
    assert _paid(ledger) == {K2}
    assert [r.payment for r in records(journal, type_="stop-request")] == [K1]


def test_the_stop_request_document_round_trips_and_is_recognised() -> None:
    request = StopRequest(
        "STOP-B1-7-1", dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC), "29189846", "4711",
        "B1", DUE, ((K1, 10_001),), "paid twice & by mistake",
    )  # fmt: skip
    data = build_stop(request)
    assert is_stop(data) and read_stop(data) == (request, [])
    bad, findings = read_stop(data.replace(b"<nks:Rsn>", b"<nks:Why>").replace(b"Rsn>", b"Why>"))
    assert bad is None and findings and findings[0].code.startswith("nemkonto.stop")
    other, findings = read_stop(b'<a xmlns="urn:x"/>')
    assert other is None and findings[0].expected == "nks:NKSStop"
    assert not is_stop(b"<?xml version='1.0'?><nks:NKSBetaling xmlns:nks='x'/>")


def test_retursvar_5_says_stopped_or_too_late_and_reads_back() -> None:
    answer = BundleAnswer(
        AnswerType.STOPPED,
        "B1",
        dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC),
        payments=(
            PaymentStatus(K1, PaymentState.STOPPED),
            PaymentStatus(K2, PaymentState.STOP_REFUSED, error_text="too late"),
        ),
    )
    data = build_answer(answer)
    assert b"<swift:TxSts>ACPT</swift:TxSts><swift:StsRsn>FORSENT</swift:StsRsn>" in data
    read, findings = read_answer(data)
    assert findings == [] and read is not None
    assert [(p.payment_id, p.status) for p in read.payments] == [
        (K1, PaymentState.STOPPED),
        (K2, PaymentState.STOP_REFUSED),
    ]


def test_the_stop_request_is_built_again_from_the_journal(
    sent: tuple[SqliteJournal, SqliteQueue, Path],
) -> None:
    journal, _queue, _ledger = sent
    desk(journal, "anna").stop(K1, "for 0101701234: paid twice")
    (tx,) = journal.transmissions(kind=STOP_KIND.name)
    request = stop_request_of(tx)
    assert request.payments == ((K1, instruction(1).amount_ore),)
    assert request.disposition_date == DUE and "0101701234" not in request.reason
