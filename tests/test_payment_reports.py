"""The reconciliation identity after a mix of handled failures; the report of payments outside
NemKonto; the duplicate scan; the control sign-off."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import SETTINGS, instruction, journal_delivery, new_journal
from tests.payments_helpers import NOW, desk, flow_round, state_of
from toekgw.adapters.payments import BenefitType, MunicipalityPolicy, PaymentsSettings
from toekgw.adapters.payments.reconcile import reconcile_payments
from toekgw.adapters.payments.report import (
    control_runs,
    duplicate_scan,
    outside_nemkonto,
    sign_off,
)
from toekgw.formats.nemkonto import Account
from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import SimulatorScript

POLICY = PaymentsSettings(
    {
        "101": MunicipalityPolicy(
            "101",
            "report",
            own_account=Account("1234", "0009876543"),
            trivial_account="9.99",
            benefit_types=(BenefitType("kontanthjaelp", frozenset({"1234"}), 1_000),),
        )
    }
)


def key(n: int) -> str:
    return instruction(n).business_key


@pytest.fixture
def journal(tmp_path: Path) -> SqliteJournal:
    return new_journal(tmp_path / "journal.sqlite")


def test_each_krone_once_after_a_mix_of_handled_failures(
    journal: SqliteJournal, tmp_path: Path
) -> None:
    queue = SqliteQueue(tmp_path / "queues.sqlite")
    ledger = tmp_path / "ledger.sqlite"
    payments = [instruction(n) for n in range(1, 7)] + [instruction(7, amount=999)]
    journal_delivery(journal, payments)
    desk(journal, "anna", POLICY).recall(key(5), "case closed")
    rejected = SimulatorScript(reject_cprs=frozenset(cpr(n) for n in (1, 3, 4, 6)))
    flow_round(journal, queue, ledger, rejected, settings=POLICY)
    assert [state_of(journal, key(n)) for n in (1, 3, 4, 6)] == ["rejected"] * 4
    assert state_of(journal, key(7)) == "trivial-amount"
    anna = desk(journal, "anna", POLICY)
    anna.resend(key(1), "account registered")
    anna.cash(key(3), "KB-1", "paid at the desk")
    anna.own_account(key(4), "the recipient died: the estate is paid by the municipality")
    flow_round(journal, queue, ledger, settings=POLICY)
    assert state_of(journal, f"{key(1)}:r1") == "at-bank"

    rec = reconcile_payments(journal, SETTINGS)
    amount = {n: p.amount_ore for n, p in enumerate(payments, start=1)}
    assert rec.balanced and rec.follow_ups == 1
    assert rec.counts["received"] == 7 and rec.sums["received"] == sum(amount.values())
    assert rec.sums["paid"] == amount[1] + amount[2] + amount[3]  # resent, at bank, cash
    assert rec.sums["handled"] == amount[4] + amount[5] + amount[7]  # own, recalled, trivial
    assert rec.sums["outstanding"] == rec.sums["failed"] == amount[6]  # rejected, not handled
    queue.close()


def test_outside_nemkonto_sorted_by_account_and_flags_several_beneficiaries(
    journal: SqliteJournal, tmp_path: Path
) -> None:
    queue = SqliteQueue(tmp_path / "queues.sqlite")
    account_payment = dataclasses.replace(
        instruction(9), ident_code="01", beneficiary="11110000000042"
    )
    journal_delivery(journal, [instruction(1), instruction(2), account_payment])
    script = SimulatorScript(reject_cprs=frozenset({cpr(1), cpr(2)}))
    flow_round(journal, queue, tmp_path / "ledger.sqlite", script, settings=POLICY)
    anna = desk(journal, "anna", POLICY)
    anna.pay_alternative(key(1), "5678", "123456", "guardian")
    anna.pay_alternative(key(2), "5678", "123456", "same guardian?")
    rows = outside_nemkonto(journal, SETTINGS)
    assert [(r.registration, r.account, r.kind) for r in rows] == [
        ("1111", "0000000042", "account payment"),
        ("5678", "0000123456", "alternative account"),
        ("5678", "0000123456", "alternative account"),
    ]
    assert [r.several for r in rows] == [False, True, True]
    assert rows[1].beneficiary == f"CPR:{cpr(1)[:6]}-****"
    assert all(cpr(n) not in " ".join(r.as_row()) for r in rows for n in (1, 2))
    queue.close()


def test_duplicate_scan_and_the_control_sign_off(journal: SqliteJournal) -> None:
    again = dataclasses.replace(instruction(1, delivery=2), payment_ident=f"{77:018d}")
    journal_delivery(journal, [instruction(1), instruction(2)])
    journal_delivery(journal, [again], delivery=2)
    day = instruction(1).disposition_date
    assert day is not None
    (group,) = duplicate_scan(journal, SETTINGS, day, day)
    assert [k for k, _ in group.payments] == [key(1), again.business_key]
    assert cpr(1) not in group.beneficiary
    assert (
        duplicate_scan(journal, SETTINGS, day + dt.timedelta(days=1), day + dt.timedelta(9)) == []
    )
    sign_off(journal, "duplicates", "anna", NOW, 1, f"{day}..{day}")
    (run,) = control_runs(journal)
    assert run.text("by") == "anna" and run.text("at").startswith("2026-11-23T09:00")
    assert run.text("control") == "duplicates" and run.text("found") == "1"
    with pytest.raises(ValueError, match="unknown control"):
        sign_off(journal, "nothing", "anna", NOW, 0, "")
