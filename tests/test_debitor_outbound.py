"""SF1590_B outbound end to end: TØK's claims journaled, sent to the debtor simulator over
HTTP with a real SF1514 token, coverings called back, the claim ledger right; faults."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.debitor_rig import CVR, Rig, claim, debtor_rig
from tests.guide import run_example
from tests.tok_helpers import CPR, clock, header, order
from toekgw.adapters.beskedfordeler import BeskedConsumer
from toekgw.adapters.debitor import (
    DEBITORKONTO_SLETTET,
    DebitorUnavailable,
    SendResult,
    claim_ledger,
    reconcile_claims,
)
from toekgw.adapters.debitor.claims import fordring_id, konto_id
from toekgw.formats.debitor.besked import DebitorkontoSlettet, build_debitorkonto_slettet
from toekgw.formats.debitor.saldo import Saldo
from toekgw.formats.kombit import besked
from toekgw.formats.tok import ClaimAdjustment, ClaimChange, CollectionRelease, SetOff
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.amqp import QueueSpec
from toekgw.simulators.debitor import REGISTRERING_PATH, Faults, ScriptStep

DELETED = "5d0f6a4e-7c1b-4f51-9a0e-3c4f1e2d9b70"  # ours: the ØiR message type is not public


@pytest.fixture
def rig(tmp_path: Path):  # type: ignore[no-untyped-def]
    with debtor_rig(tmp_path) as made:
        yield made


def wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_claim_created_then_covered_by_callback_and_the_ledger_is_right(rig: Rig) -> None:
    rig.send_tok(claim("C-1", 1_000_00))
    journal = open_journal(rig.journal_path)
    try:
        result = rig.sender(journal).run()
        assert (result.sent, result.rejected, result.refused) == (1, 0, 0)
        fid = fordring_id("KP", "C-1")
        made = rig.system.claim(CVR, fid)
        assert made is not None and made.original_ore == 1_000_00
        rig.simulator.run_script([ScriptStep(fid, "DAEKNING", 250_00)])
        assert rig.simulator.callback_answers == [200]
        ledger = claim_ledger(journal, CVR, fid)
        assert ledger is not None
        assert (ledger.original_ore, ledger.coverings_ore, ledger.remaining_ore) == (
            1_000_00,
            250_00,
            750_00,
        )
        assert rig.statuses() == [("C-1", "sent")]
    finally:
        journal.close()


def test_write_down_release_change_and_a_refused_write_up(rig: Rig) -> None:
    rig.send_tok(claim("C-2", 1_000_00))
    journal = open_journal(rig.journal_path)
    try:
        assert rig.sender(journal).run().sent == 1
        rig.send_tok(
            ClaimAdjustment(
                header(sender="KP"), "C-2", "down", 100_00, dt.date(2026, 12, 1), "fejl"
            ),
            ClaimAdjustment(header(sender="KP"), "C-2", "up", 5_00, dt.date(2026, 12, 1), "op"),
            CollectionRelease(header(sender="KP"), "C-2"),
            ClaimChange(header(sender="KP"), "C-2", "NYTYPE", None),
        )
        result = rig.sender(journal).run()
        assert (result.sent, result.refused) == (3, 1)
        old, new = fordring_id("KP", "C-2"), fordring_id("KP", "C-2", 2)
        assert rig.system.claim(CVR, old).remaining_ore == 0  # type: ignore[union-attr]
        assert rig.system.claim(CVR, new).original_ore == 900_00  # type: ignore[union-attr]
        first, second = claim_ledger(journal, CVR, old), claim_ledger(journal, CVR, new)
        assert first is not None and second is not None
        assert (first.write_downs_ore, first.remaining_ore, first.released) == (1_000_00, 0, True)
        assert second.remaining_ore == 900_00
        told = rig.statuses()
        assert ("C-2", "rejected") in told and told.count(("C-2", "sent")) == 4
        (error,) = [e for e in journal.errors() if e.subject == "claim"]
        assert "write-up" in error.findings[0].message
    finally:
        journal.close()


def test_a_late_answer_is_retried_and_the_repeat_is_applied_once(rig: Rig) -> None:
    rig.simulator.faults = Faults(timeouts=1, delay=1.5)
    rig.send_tok(claim("C-3"))
    journal = open_journal(rig.journal_path)
    try:
        result = rig.sender(journal, timeout_seconds=0.5).run()
        assert result.sent == 1
        assert rig.system.repeats == 1 and rig.system.applied == 1
        assert len(rig.system.claims()) == 1
    finally:
        journal.close()


def test_a_soap_fault_is_a_finding_and_the_claim_is_rejected_not_retried(rig: Rig) -> None:
    rig.send_tok(claim("C-4"))
    rig.system.delete_account(CVR, konto_id("KP", "CPR", CPR))  # the debtor system refuses
    journal = open_journal(rig.journal_path)
    try:
        client_before = rig.simulator.callbacks_sent
        result = rig.sender(journal).run()
        assert (result.sent, result.rejected) == (0, 1)
        assert rig.system.applied == 0 and rig.simulator.callbacks_sent == client_before
        (error,) = journal.errors()
        assert error.findings[0].code == "debitor.fault.DEB-101"
        assert "deleted" in error.findings[0].message
        (call,) = journal.transmissions(counterpart="debitor", kind="debitor-afsend")
        assert call.state == "rejected"
        assert rig.statuses() == [("C-4", "rejected")]
        assert rig.sender(journal).run() == SendResult()  # nothing is tried again
    finally:
        journal.close()


def test_a_server_fault_is_not_now_not_a_refusal(rig: Rig) -> None:
    """A ``soap:Server`` fault ("the debtor system is unavailable, try later") rejected the
    claim for good and told the case system so. It is retried as a transport fault: within
    the run, then by the next run with the same message; applied once, never rejected."""
    rig.simulator.faults = Faults(soap_faults=1)
    rig.send_tok(claim("C-6"))
    journal = open_journal(rig.journal_path)
    try:
        result = rig.sender(journal).run()
        assert (result.sent, result.rejected) == (1, 0)
        assert rig.system.applied == 1 and journal.errors() == []
        rig.simulator.faults = Faults(soap_faults=4)  # every attempt of the next run
        rig.send_tok(claim("C-7"))
        down = rig.sender(journal)
        with pytest.raises(DebitorUnavailable, match=r"could not process the call now .*DEB-500"):
            down.run()
        calls = journal.transmissions(counterpart="debitor", kind="debitor-afsend")
        assert [c.state for c in calls] == ["answered", "claimed"]
        assert journal.errors() == [] and ("C-7", "rejected") not in rig.statuses()
        again = rig.sender(journal).run()  # the debtor system is back
        assert (again.sent, again.rejected) == (1, 0)
        assert rig.system.applied == 2 and len(rig.system.claims()) == 2
    finally:
        journal.close()


def test_an_unreachable_debtor_system_leaves_the_call_claimed_for_the_next_run(
    rig: Rig,
) -> None:
    rig.send_tok(claim("C-5"))
    journal = open_journal(rig.journal_path)
    try:
        down = rig.sender(journal)
        down.client = rig.client()
        down.client._registrering._binding_options["address"] = "http://127.0.0.1:9/down"
        with pytest.raises(DebitorUnavailable):
            down.run()
        assert down.client.attempts_made == 4  # the retries, then the error
        (call,) = journal.transmissions(counterpart="debitor", kind="debitor-afsend")
        assert call.state == "claimed"
        result = rig.sender(journal).run()
        assert (result.sent, result.repeated) == (1, 1)
        assert rig.system.applied == 1
    finally:
        journal.close()


def test_duplicate_and_unknown_callbacks_and_the_reconciliation(rig: Rig) -> None:
    rig.simulator.faults = Faults(duplicate_callbacks=True, unknown_claim_callbacks=1)
    rig.send_tok(claim("C-6", 500_00), claim("C-7", 300_00))
    journal = open_journal(rig.journal_path)
    try:
        assert rig.sender(journal).run().sent == 2
        six, seven = fordring_id("KP", "C-6"), fordring_id("KP", "C-7")
        rig.simulator.run_script(
            [ScriptStep(six, "DAEKNING", 200_00), ScriptStep(seven, "AFSKRIVNING")]
        )
        assert rig.simulator.callback_answers == [200, 200, 200, 200]  # each delivered twice
        assert claim_ledger(journal, CVR, six).remaining_ore == 300_00  # type: ignore[union-attr]
        written_off = claim_ledger(journal, CVR, seven)
        assert written_off is not None and (
            written_off.write_offs_ore,
            written_off.remaining_ore,
        ) == (300_00, 0)
        report = [Saldo(c.cvr, c.fordring_id, c.remaining_ore) for c in rig.system.claims()]
        result = reconcile_claims(journal, report, as_of=dt.date(2026, 12, 4))
        assert result.settled_count == 2
        (stray,) = result.unexplained  # the covering of a claim nobody created
        assert "never created" in stray.reason and int(result.category) == 3
        # A balance the debtor system reports differently cannot be specified either.
        wrong = [Saldo(CVR, six, 299_00), Saldo(CVR, seven, 0)]
        assert len(reconcile_claims(journal, wrong, as_of=dt.date(2026, 12, 4)).unexplained) == 2
    finally:
        journal.close()


def test_a_set_off_is_paid_in_with_b03_and_its_covering_comes_back(rig: Rig) -> None:
    rig.send_tok(claim("C-8", 400_00, sender="KY"), order("P-8", 1_000_00))
    journal = open_journal(rig.journal_path)
    try:
        assert rig.sender(journal).run().sent == 1
        rig.send_tok(SetOff(header(), "S-8", "create", "P-8", "C-8", 150_00))
        assert rig.sender(journal).run().sent == 1
        fid = fordring_id("KY", "C-8")
        wait_for(lambda: claim_ledger(journal, CVR, fid).coverings_ore == 150_00)  # type: ignore[union-attr]
        ledger = claim_ledger(journal, CVR, fid)
        assert ledger is not None and (ledger.paid_in_ore, ledger.remaining_ore) == (150_00, 250_00)
        assert rig.sender(journal).run() == SendResult()  # the set-off is paid in once
    finally:
        journal.close()


def test_a_deleted_account_tells_each_claim_with_debt_left(rig: Rig) -> None:
    rig.send_tok(claim("C-9", 200_00), claim("C-10", 200_00))
    journal = open_journal(rig.journal_path)
    try:
        assert rig.sender(journal).run().sent == 2
        rig.simulator.run_script([ScriptStep(fordring_id("KP", "C-10"))])  # fully covered
        rig.statuses()
        broker = rig.broker()
        queue = f"dueslag.{uuid.uuid4()}"
        broker.declare(QueueSpec(queue))
        konto = konto_id("KP", "CPR", CPR)
        payload = build_debitorkonto_slettet(DebitorkontoSlettet(konto, CVR, None))
        broker.publish(queue, besked.build_besked(besked_type=DELETED, payload=payload,
                                                  recipient_cvr=CVR, created=clock()))  # fmt: skip
        consumer = BeskedConsumer(
            broker, journal, queue=queue, routes={DELETED: DEBITORKONTO_SLETTET}
        )
        assert consumer.run(wait=1.0).taken == 1
        broker.close()
        assert rig.statuses() == [("C-9", "account-deleted")]
        rig.send_tok(claim("C-11"))
        assert rig.sender(journal).run().refused == 1  # no new claim on a deleted account
        assert rig.system.claim(CVR, fordring_id("KP", "C-11")) is None
    finally:
        journal.close()


def test_the_developers_guide_example_runs() -> None:
    assert run_example("A runnable ØiR Debitor example") == ["answered", "100000", "100000"]


def test_the_simulator_refuses_a_call_without_token_or_valid_message(rig: Rig) -> None:
    url = rig.debtor_url + REGISTRERING_PATH
    no_token = b"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>"""
    answer = requests.post(url, data=no_token, timeout=10)
    assert answer.status_code == 500 and b"DEB-400" in answer.content
    assert b"no token and timestamp in wsse:Security" in answer.content
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    assert b"DEB-400" in requests.post(url, data=xxe, timeout=10).content
    assert rig.system.applied == 0
