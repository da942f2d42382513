"""SIGKILL a resend inside its journal transaction and right after its commit: after a restart
the rejected payment is paid exactly once (the simulator's ledger), by one follow-up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import instruction, journal_delivery, new_journal
from tests.payments_helpers import desk, flow_round, state_of
from toekgw.adapters.payments import ActionRefused
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import SimulatorScript
from toekgw.simulators.nemkonto.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
K1 = instruction(1).business_key


def _resend_in_child(journal: Path, crash_at: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOEKGW_CRASH_AT": crash_at}
    code = (
        "import sys; from tests.payments_helpers import desk; "
        "from toekgw.gateway.journal import open_journal; "
        f"desk(open_journal(sys.argv[1]), 'anna').resend({K1!r}, 'account registered')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(journal)], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    return done.returncode


@pytest.mark.parametrize(
    ("point", "done"),
    [("payments.resend.before_commit", False), ("payments.resend.after_commit", True)],
)
def test_resend_killed_then_restarted_pays_once(tmp_path: Path, point: str, done: bool) -> None:
    journal = new_journal(tmp_path / "journal.sqlite")
    queue = SqliteQueue(tmp_path / "queues.sqlite")
    ledger = tmp_path / "ledger.sqlite"
    journal_delivery(journal, [instruction(1), instruction(2)])
    flow_round(journal, queue, ledger, SimulatorScript(reject_cprs=frozenset({cpr(1)})))
    assert _resend_in_child(tmp_path / "journal.sqlite", point) == -signal.SIGKILL
    assert state_of(journal, K1) == ("resent" if done else "rejected")
    assert bool(journal.find_items(f"{K1}:r1")) is done
    if done:  # the restarted operator finds it done: a second resend is refused
        with pytest.raises(ActionRefused, match="is resent"):
            desk(journal, "anna").resend(K1, "again")
    else:
        desk(journal, "anna").resend(K1, "again, after the crash")
    flow_round(journal, queue, ledger)
    assert not journal.find_items(f"{K1}:r2")
    paid = Ledger(ledger)
    assert set(paid.paid()) == {instruction(2).business_key, f"{K1}:r1"}  # once each
    paid.close()
    queue.close()
