"""Issue 12's payment events booked by the model: a failure after the bank reverses the bank
posting, a cash voucher, the municipality's own account and a trivial amount clear the
intermediate account to their own accounts, and a resent payment's debt moves to its
follow-up payment — whichever moment the books are built at."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.oir_data import (
    BANK,
    CASH,
    EXPENSE,
    INTERMEDIATE,
    OWN_ACCOUNT,
    TRIVIAL,
    load_sortiment,
    settings,
)
from toekgw.adapters.g68 import PaymentInstruction
from toekgw.adapters.oir import BOOKED_STATES, build_vouchers, konteringskontrol
from toekgw.adapters.payments.records import follow_up_transmission
from toekgw.gateway.journal import NewItem, SqliteJournal, open_journal

TO_BANK = ("released", "sent", "received", "accepted", "at-bank")


def _balances(journal: SqliteJournal) -> dict[str, int]:
    return {
        account: sum(s for _, s in journal.account_lines(account, states=BOOKED_STATES))
        for account in (EXPENSE, INTERMEDIATE, BANK, CASH, OWN_ACCOUNT, TRIVIAL)
    }


def _one_payment(tmp_path: Path, amount: int = 1_000) -> tuple[SqliteJournal, int]:
    journal = open_journal(tmp_path / "journal.sqlite")
    load_sortiment(journal)
    journal_delivery(journal, [instruction(1, amount=amount)])
    (tx,) = journal.transmissions(kind="g68-delivery")
    (item,) = journal.items(tx.id)
    return journal, item.id


def _walk(journal: SqliteJournal, item: int, states: tuple[str, ...], build: bool) -> None:
    for state in states:
        journal.set_item_state(item, state, reason="test")
        if build:
            assert build_vouchers(journal, settings()).held == 0


@pytest.mark.parametrize("build_each_step", [True, False])
def test_failed_after_the_bank_then_paid_by_cash_voucher(
    tmp_path: Path, build_each_step: bool
) -> None:
    journal, item = _one_payment(tmp_path)
    path = (*TO_BANK, "fail-requested", "failed-after-bank")
    _walk(journal, item, path, build_each_step)
    build_vouchers(journal, settings())
    assert konteringskontrol(journal, settings()).outstanding_ore == 1_000  # failed: outstanding
    assert konteringskontrol(journal, settings()).agrees
    _walk(journal, item, ("cash-voucher",), build_each_step)
    build_vouchers(journal, settings())
    balances = _balances(journal)
    assert balances == {EXPENSE: 1_000, INTERMEDIATE: 0, BANK: 0, CASH: -1_000,
                        OWN_ACCOUNT: 0, TRIVIAL: 0}  # fmt: skip
    kinds = sorted(v.kind for v in journal.vouchers())
    expected = ["cash", "journaled"]
    if build_each_step:
        expected = ["cash", "effectuated", "journaled", "reversed"]
    assert kinds == expected
    assert konteringskontrol(journal, settings()).agrees


@pytest.mark.parametrize(
    ("path", "account"),
    [(("own-account",), OWN_ACCOUNT), (("trivial-amount",), TRIVIAL)],
)
def test_own_account_and_trivial_amounts_clear_the_intermediate_account(
    tmp_path: Path, path: tuple[str, ...], account: str
) -> None:
    journal, item = _one_payment(tmp_path, 40)
    _walk(journal, item, path, build=False)
    build_vouchers(journal, settings())
    balances = _balances(journal)
    assert balances[account] == -40 and balances[INTERMEDIATE] == 0 and balances[EXPENSE] == 40
    assert konteringskontrol(journal, settings()).agrees


def test_an_event_without_a_configured_account_is_held(tmp_path: Path) -> None:
    journal, item = _one_payment(tmp_path)
    _walk(journal, item, ("own-account",), build=False)
    accounts = {k: v for k, v in settings().accounts.items() if k != "own_account"}
    summary = build_vouchers(journal, dataclasses.replace(settings(), accounts=accounts))
    assert summary.held == 1 and summary.built == 1
    (entry,) = journal.errors(counterpart="erp")
    assert "names no own_account" in entry.findings[0].message


def test_a_resent_payment_moves_its_debt_to_the_follow_up(tmp_path: Path) -> None:
    journal, item = _one_payment(tmp_path, 700)
    _walk(journal, item, ("released", "sent", "rejected"), build=True)
    original = PaymentInstruction.from_data(journal.get_item(item).data or {})
    follow_up = dataclasses.replace(original, payment_ident=original.payment_ident + "r1")
    with journal.transaction(durable=True):
        tx = follow_up_transmission(journal, "ksd")
        journal.add_items(
            tx.id,
            [NewItem(follow_up.business_key, 700, data=follow_up.to_data())],
            state="pending",
            reason="follow-up",
        )
        journal.set_item_state(item, "resent", reason="resent")
    build_vouchers(journal, settings())
    control = konteringskontrol(journal, settings())
    assert control.agrees and control.outstanding_count == 1
    assert [d for d in control.differences] == []
    assert _balances(journal)[EXPENSE] == 700  # booked once: the follow-up's
