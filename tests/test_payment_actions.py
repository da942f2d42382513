"""Handling actions on failed and held payments: each action, its approval rule, and that a
refused action changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import instruction, journal_delivery, new_journal
from tests.payments_helpers import controlled_release, desk, flow_round, state_of
from toekgw.adapters.nemkonto import (
    MANUAL_SUBJECT,
    block_recipient,
    lift_block,
    recipient,
    send_bundles,
)
from toekgw.adapters.payments import (
    ActionRefused,
    MunicipalityPolicy,
    PaymentsSettings,
    records,
)
from toekgw.formats.nemkonto import Account
from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import SimulatorScript

REJECT_1 = SimulatorScript(reject_cprs=frozenset({cpr(1)}))
K1, K2 = instruction(1).business_key, instruction(2).business_key
REPORT = PaymentsSettings(
    {"101": MunicipalityPolicy("101", "report", own_account=Account("1234", "0009876543"))}
)


@pytest.fixture
def journal(tmp_path: Path) -> SqliteJournal:
    return new_journal(tmp_path / "journal.sqlite")


@pytest.fixture
def queue(tmp_path: Path) -> SqliteQueue:
    return SqliteQueue(tmp_path / "queues.sqlite")


def _rejected(journal: SqliteJournal, queue: SqliteQueue, ledger: Path) -> None:
    journal_delivery(journal, [instruction(1), instruction(2)])
    flow_round(journal, queue, ledger, REJECT_1)
    assert state_of(journal, K1) == "rejected" and state_of(journal, K2) == "at-bank"


def _open_manual(journal: SqliteJournal) -> list[str]:
    return [e.business_key or "" for e in journal.errors() if e.subject == MANUAL_SUBJECT]


def test_resend_pays_a_rejected_payment_again_under_a_new_linked_id(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    _rejected(journal, queue, tmp_path / "ledger.sqlite")
    assert _open_manual(journal) == [K1]
    new = desk(journal, "anna").resend(K1, "the recipient has a NemKonto account now")
    assert new == f"{K1}:r1" and state_of(journal, K1) == "resent"
    assert _open_manual(journal) == []  # the manual-handling entry is resolved
    (follow,) = journal.find_items(new)
    assert follow.state == "pending" and follow.amount_ore == instruction(1).amount_ore
    assert (
        follow.data and follow.data["follows"] == K1 and follow.data["beneficiary"].endswith(cpr(1))
    )
    history = journal.item_history(journal.find_items(K1)[0].id)
    assert f"resent by anna: the recipient has a NemKonto account now; new payment {new}" in (
        history.events[-1].reason
    )
    flow_round(journal, queue, tmp_path / "ledger.sqlite")  # no rejection this time
    assert state_of(journal, new) == "at-bank"


def test_alternative_account_needs_a_second_person(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    _rejected(journal, queue, tmp_path / "ledger.sqlite")
    assert desk(journal, "anna").pay_alternative(K1, "5678", "123456", "paid to the guardian") == ""
    assert state_of(journal, K1) == "awaiting-approval"
    with pytest.raises(ActionRefused, match=r"anna asked for this .* second person"):
        desk(journal, "anna").approve(K1, "ok")
    # A missing approval keeps the payment held: a release sends nothing for it.
    assert controlled_release(journal).released == 0
    assert state_of(journal, K1) == "awaiting-approval"
    assert not journal.find_items(f"{K1}:r1")
    new = desk(journal, "bo").approve(K1, "checked the power of attorney")
    assert new == f"{K1}:r1" and state_of(journal, K1) == "redirected"
    (follow,) = journal.find_items(new)
    assert follow.data and follow.data["ident_code"] == "01"
    assert follow.data["beneficiary"] == "56780000123456"
    (request,) = records(journal, type_="alternative-account")
    assert request.item.state == "approved" and request.text("by") == "anna"
    flow_round(journal, queue, tmp_path / "ledger.sqlite", REJECT_1)  # an account payment
    assert state_of(journal, new) == "at-bank"


def test_alternative_account_at_once_where_the_municipality_reports_after_the_fact(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    _rejected(journal, queue, tmp_path / "ledger.sqlite")
    new = desk(journal, "anna", REPORT).pay_alternative(K1, "5678", "123456", "guardian")
    assert new == f"{K1}:r1" and state_of(journal, K1) == "redirected"
    (record,) = records(journal, type_="alternative-account")
    assert record.item.state == "recorded" and record.text("account") == "56780000123456"


def test_denied_request_puts_the_payment_back(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    _rejected(journal, queue, tmp_path / "ledger.sqlite")
    desk(journal, "anna").pay_alternative(K1, "5678", "123456", "guardian")
    desk(journal, "bo").deny(K1, "no power of attorney on file")
    assert state_of(journal, K1) == "rejected"
    (request,) = records(journal, type_="alternative-account")
    assert request.item.state == "denied"


def test_cash_voucher_is_a_record_with_what_a_posting_needs(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    _rejected(journal, queue, tmp_path / "ledger.sqlite")
    desk(journal, "anna").cash(K1, "KB-2026-117", "paid at the citizen service desk")
    assert state_of(journal, K1) == "cash-voucher"
    (voucher,) = records(journal, type_="cash-voucher")
    data = voucher.data
    assert voucher.item.amount_ore == instruction(1).amount_ore
    assert data["voucher"] == "KB-2026-117" and data["municipality"] == "101"
    assert data["paying_unit"] == "1234" and data["disposition_date"] == "2026-11-25"
    assert data["payment"] == K1 and data["by"] == "anna"


def test_own_account_is_never_sent_and_needs_the_account_configured(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    journal_delivery(journal, [instruction(1), instruction(2)])
    with pytest.raises(ActionRefused, match="no own account"):
        desk(journal, "anna").own_account(K1, "the recipient died")
    assert state_of(journal, K1) == "pending"
    desk(journal, "anna", REPORT).own_account(K1, "the recipient died")
    assert state_of(journal, K1) == "own-account"
    assert controlled_release(journal).released == 1  # only payment 2
    (record,) = records(journal, type_="own-account")
    assert record.text("account") == "12340009876543"


def test_recall_of_a_rejected_payment_and_refusal_once_sent(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    _rejected(journal, queue, tmp_path / "ledger.sqlite")
    desk(journal, "anna").recall(K1, "the case was closed")
    assert state_of(journal, K1) == "recalled" and _open_manual(journal) == []
    journal_delivery(journal, [instruction(3)], delivery=2)
    controlled_release(journal)
    k3 = instruction(3).business_key
    with pytest.raises(ActionRefused, match=r"released in a bundle not yet sent: block it"):
        desk(journal, "anna").recall(k3, "too late")
    assert state_of(journal, k3) == "released"
    send_bundles(journal, queue, desk(journal, "anna").flow)
    with pytest.raises(ActionRefused, match=r"is sent: it has gone to NemKonto; .* stop\)"):
        desk(journal, "anna").recall(k3, "too late")


def test_failed_after_the_bank_needs_an_approval_then_can_be_resent(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    _rejected(journal, queue, tmp_path / "ledger.sqlite")
    with pytest.raises(ActionRefused, match="is at-bank: resend needs"):
        desk(journal, "anna").resend(K2, "x")
    desk(journal, "anna").fail(K2, "the bank phoned: account closed")
    assert state_of(journal, K2) == "fail-requested"
    with pytest.raises(ActionRefused, match="four eyes"):
        desk(journal, "anna").approve(K2, "ok")
    assert state_of(journal, K2) == "fail-requested"
    desk(journal, "bo").approve(K2, "confirmed with the bank")
    assert state_of(journal, K2) == "failed-after-bank"
    assert K2 in _open_manual(journal)
    assert desk(journal, "anna").resend(K2, "new account registered") == f"{K2}:r1"


def test_stop_after_send_is_recorded(journal: SqliteJournal, queue: SqliteQueue) -> None:
    journal_delivery(journal, [instruction(1)])
    with pytest.raises(ActionRefused, match="is pending: stop needs"):
        desk(journal, "anna").stop(K1, "x")
    controlled_release(journal)
    send_bundles(journal, queue, desk(journal, "anna").flow)
    record = desk(journal, "anna").stop(K1, "paid twice by mistake")
    assert record.type == "stop-request" and record.payment == K1
    assert state_of(journal, K1) == "sent"


def test_block_one_payment_until_unblocked_whatever_the_recipient_blocks_do(
    journal: SqliteJournal, tmp_path: Path
) -> None:
    journal_delivery(journal, [instruction(1), instruction(2)])
    desk(journal, "anna").block(K1, "the caseworker asked")
    settings = desk(journal, "anna").flow
    key = recipient("cpr", cpr(1))
    block_recipient(journal, settings, key, "x")
    lift_block(journal, settings, key, "x")
    assert controlled_release(journal).released == 1
    assert state_of(journal, K1) == "held"
    with pytest.raises(ActionRefused, match="is held: block needs"):
        desk(journal, "anna").block(K1, "again")
    desk(journal, "anna").unblock(K1, "cleared by the caseworker")
    assert controlled_release(journal).released == 1
    assert state_of(journal, K1) == "released"
    # Released, not sent: taken out of its bundle (see test_payment_withdraw.py).
    assert "taken out of bundle" in desk(journal, "anna").block(K1, "after all")
    assert state_of(journal, K1) == "held"


def test_unknown_payment_and_wrong_state_change_nothing(journal: SqliteJournal) -> None:
    journal_delivery(journal, [instruction(1)])
    before = [e.id for e in journal.item_history(journal.find_items(K1)[0].id).events]
    with pytest.raises(ActionRefused, match="no payment '12345678:9'"):
        desk(journal, "anna").resend("12345678:9", "x")
    for action in ("resend", "cash", "unblock", "clear", "fail", "approve", "deny"):
        with pytest.raises(ActionRefused):
            getattr(desk(journal, "anna"), action)(K1, *(["v"] if action == "cash" else []), "x")
    with pytest.raises(ActionRefused, match="registration number"):
        desk(journal, "anna").pay_alternative(K1, "56", "1", "x")
    after = [e.id for e in journal.item_history(journal.find_items(K1)[0].id).events]
    assert after == before and state_of(journal, K1) == "pending"
    assert list(records(journal)) == []
