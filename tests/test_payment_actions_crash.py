"""SIGKILL every payment action inside its journal transaction and right after its commit.

Each action runs in a child process killed at ``payments.<action>.before_commit`` or
``.after_commit``. After the restart the payment is where it was (the action is done again)
or where the action put it (doing it again is refused): never in between, and never with two
records, two follow-ups or two payouts (the NemKonto simulator's ledger pays each id once).
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.crashkit import child_env
from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import MUNICIPALITY, instruction, journal_delivery, new_journal
from tests.payments_helpers import controlled_release, desk, flow_round, state_of
from toekgw.adapters.nemkonto.stops import STOP_KIND
from toekgw.adapters.payments import ActionRefused, MunicipalityPolicy, PaymentsSettings, records
from toekgw.formats.nemkonto import Account
from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import SimulatorScript
from toekgw.simulators.nemkonto.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
K1, K2 = instruction(1).business_key, instruction(2).business_key
DUPLICATE = dataclasses.replace(instruction(1, delivery=2), payment_ident=f"{101:018d}", line=101)
#: Four eyes for alternative accounts, and an own account (the child uses the same).
POLICY = PaymentsSettings(
    {MUNICIPALITY: MunicipalityPolicy(MUNICIPALITY, own_account=Account("1234", "0009876543"))}
)


@dataclass
class Rig:
    journal: SqliteJournal
    queue: SqliteQueue
    ledger: Path

    def round(self, script: SimulatorScript | None = None) -> None:
        flow_round(self.journal, self.queue, self.ledger, script, settings=POLICY)

    def paid(self) -> set[str]:
        ledger = Ledger(self.ledger)
        try:
            return set(ledger.paid())
        finally:
            ledger.close()


def _rejected(rig: Rig) -> None:
    journal_delivery(rig.journal, [instruction(1), instruction(2)])
    rig.round(SimulatorScript(reject_cprs=frozenset({cpr(1)})))


def _awaiting_alternative(rig: Rig) -> None:
    _rejected(rig)
    desk(rig.journal, "anna", POLICY).pay_alternative(K1, "5678", "123456", "the guardian")


def _at_bank(rig: Rig) -> None:
    journal_delivery(rig.journal, [instruction(1)])
    rig.round()


def _fail_requested(rig: Rig) -> None:
    _at_bank(rig)
    desk(rig.journal, "anna", POLICY).fail(K1, "the bank phoned: account closed")


def _accepted(rig: Rig) -> None:
    journal_delivery(rig.journal, [instruction(1)])
    rig.round(SimulatorScript(bank_delay=30 * 24 * 3600))  # the bank has not answered


def _pending(rig: Rig) -> None:
    journal_delivery(rig.journal, [instruction(1)])


def _released(rig: Rig) -> None:
    journal_delivery(rig.journal, [instruction(1), instruction(2)])
    controlled_release(rig.journal, POLICY)


def _held(rig: Rig) -> None:
    _pending(rig)
    desk(rig.journal, "anna", POLICY).block(K1, "the caseworker asked")


def _suspect(rig: Rig) -> None:
    journal_delivery(rig.journal, [instruction(1)])
    journal_delivery(rig.journal, [DUPLICATE], delivery=2)
    controlled_release(rig.journal, POLICY)


@dataclass(frozen=True)
class Case:
    """``who`` does ``action(key, *args)`` on a payment ``setup`` left ``before``; done, the
    payment is ``after`` with ``records`` records of ``record`` and, once the flow has run,
    ``paid`` is what the simulator paid."""

    action: str
    setup: Callable[[Rig], None]
    args: tuple[str, ...]
    before: str
    after: str
    key: str = K1
    who: str = "anna"
    record: str | None = None
    paid: frozenset[str] = frozenset()


CASES = [
    Case("resend", _rejected, ("account registered",), "rejected", "resent",
         paid=frozenset({K2, f"{K1}:r1"})),
    Case("pay_alternative", _rejected, ("5678", "123456", "the guardian"), "rejected",
         "awaiting-approval", record="alternative-account", paid=frozenset({K2})),
    Case("approve", _awaiting_alternative, ("checked the guardianship",), "awaiting-approval",
         "redirected", who="bo", record="alternative-account", paid=frozenset({K2, f"{K1}:r1"})),
    Case("cash", _rejected, ("KB-17", "paid at the desk"), "rejected", "cash-voucher",
         record="cash-voucher", paid=frozenset({K2})),
    Case("own_account", _rejected, ("estate: refund",), "rejected", "own-account",
         record="own-account", paid=frozenset({K2})),
    Case("recall", _rejected, ("not due after all",), "rejected", "recalled",
         paid=frozenset({K2})),
    Case("fail", _at_bank, ("the bank phoned",), "at-bank", "fail-requested",
         record="failed-after-bank", paid=frozenset({K1})),
    Case("approve", _fail_requested, ("confirmed with the bank",), "fail-requested",
         "failed-after-bank", who="bo", record="failed-after-bank", paid=frozenset({K1})),
    Case("stop", _accepted, ("paid twice",), "accepted", "accepted", record="stop-request",
         paid=frozenset({K1})),  # the simulator's clock is past the date: too late
    Case("block", _pending, ("the caseworker asked",), "pending", "held"),
    Case("block", _released, ("the caseworker asked",), "released", "held",
         paid=frozenset({K2})),  # its bundle withdrawn, K2 bundled again and paid once
    Case("unblock", _held, ("cleared",), "held", "pending", paid=frozenset({K1})),
    Case("clear", _suspect, ("a second payment was due",), "suspected-duplicate", "pending",
         key=DUPLICATE.business_key, paid=frozenset({K1, DUPLICATE.business_key})),
]  # fmt: skip


def _act_in_child(journal: Path, case: Case, crash_at: str) -> int:
    env = child_env(crash_at)
    code = (
        "import sys; from tests.payments_helpers import desk; "
        "from tests.test_payment_actions_crash import POLICY; "
        "from toekgw.gateway.journal import open_journal; "
        f"getattr(desk(open_journal(sys.argv[1]), {case.who!r}, POLICY), {case.action!r})"
        f"({case.key!r}, *{case.args!r})"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(journal)], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    return done.returncode


def _records_of(journal: SqliteJournal, case: Case) -> int:
    return sum(1 for r in records(journal, type_=case.record) if r.payment == K1)


@pytest.mark.parametrize("step", ["before_commit", "after_commit"])
@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.action}-{c.before}" for c in CASES]
)  # fmt: skip
def test_action_killed_then_restarted_is_done_once(tmp_path: Path, case: Case, step: str) -> None:
    rig = Rig(
        new_journal(tmp_path / "journal.sqlite"),
        SqliteQueue(tmp_path / "queues.sqlite"),
        tmp_path / "ledger.sqlite",
    )
    case.setup(rig)
    records_before = _records_of(rig.journal, case) if case.record else 0
    assert state_of(rig.journal, case.key) == case.before
    name = case.action.replace("_", "-")
    _act_in_child(tmp_path / "journal.sqlite", case, f"payments.{name}.{step}")
    operator = desk(rig.journal, case.who, POLICY)
    again = getattr(operator, case.action)
    if step == "before_commit":  # rolled back: nothing done, the operator does it again
        assert state_of(rig.journal, case.key) == case.before
        again(case.key, *case.args)
    else:  # done: the restarted operator finds it done and a second attempt is refused
        assert state_of(rig.journal, case.key) == case.after
        with pytest.raises(ActionRefused):
            again(case.key, *case.args)
    assert state_of(rig.journal, case.key) == case.after
    if case.record:
        expected = records_before if case.action == "approve" else records_before + 1
        assert _records_of(rig.journal, case) == expected  # one record, approved once
    rig.round()
    assert not rig.journal.find_items(f"{K1}:r2")
    assert len(rig.journal.transmissions(kind=STOP_KIND.name)) == (case.action == "stop")
    assert rig.paid() == case.paid  # each once: the ledger's key is the payment id
    rig.queue.close()
