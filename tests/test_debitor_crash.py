"""SIGKILL of ``toekgw debitor send`` between journaling a B_01 call and its answer: after the
restart each claim is created once in the debtor simulator and each covering counts once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.debitor_rig import CVR, claim, debtor_rig
from tests.tok_helpers import header, order
from toekgw.adapters.debitor import claim_ledger
from toekgw.adapters.debitor.claims import fordring_id
from toekgw.formats.tok import SetOff
from toekgw.gateway.journal import open_journal
from toekgw.simulators.debitor import ScriptStep


def _send(config: Path, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TOEKGW_CRASH_AT"}
    if crash_at:
        env["TOEKGW_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "toekgw.cli", "debitor", "send", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "point",
    ["debitor.afsend.before_call", "debitor.afsend.after_call", "debitor.afsend.after_call:2"],
)
def test_sigkill_between_journal_and_answer_creates_each_claim_once(
    tmp_path: Path, point: str
) -> None:
    with debtor_rig(tmp_path) as rig:
        rig.send_tok(claim("C-1", 700_00), claim("C-2", 300_00))
        config = rig.write_config()
        killed = _send(config, crash_at=point)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        done = _send(config)
        assert done.returncode == 0, done.stderr
        assert "made again" in done.stdout
        assert sorted(c.fordring_id for c in rig.system.claims()) == [
            fordring_id("KP", "C-1"),
            fordring_id("KP", "C-2"),
        ]
        assert rig.system.applied == 2  # each message applied once, a repeat dropped
        assert rig.system.repeats == (1 if "after_call" in point else 0)
        rig.simulator.faults.duplicate_callbacks = True
        rig.simulator.run_script([ScriptStep("*", "DAEKNING", 100_00)])
        journal = open_journal(rig.journal_path)
        try:
            for claim_id, left in (("C-1", 600_00), ("C-2", 200_00)):
                ledger = claim_ledger(journal, CVR, fordring_id("KP", claim_id))
                assert ledger is not None and ledger.remaining_ore == left
            assert {tx.state for tx in journal.transmissions(kind="debitor-afsend")} == {"answered"}
        finally:
            journal.close()
        assert sorted(rig.statuses()) == [("C-1", "sent"), ("C-2", "sent")]


@pytest.mark.parametrize("point", ["debitor.afsend.before_call", "debitor.afsend.after_call"])
def test_sigkill_around_a_set_off_correction_sends_it_once(tmp_path: Path, point: str) -> None:
    """Killed before the correction is sent, or after the debtor system applied it before
    its answer is journaled: sent once. (``before_call`` once failed here with SQLite's "disk
    I/O error": the journal's open dropped this process's locks; see test_journal_locks.py.)"""
    with debtor_rig(tmp_path) as rig:
        rig.send_tok(claim("C-3", 400_00, sender="KY"), order("P-3", 1_000_00))
        config = rig.write_config()
        assert _send(config).returncode == 0
        rig.send_tok(SetOff(header(), "S-3", "create", "P-3", "C-3", 150_00))
        assert _send(config).returncode == 0
        rig.send_tok(SetOff(header(), "S-3", "change", "P-3", "C-3", 60_00))
        killed = _send(config, crash_at=point)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        applied = rig.system.applied
        done = _send(config)
        assert done.returncode == 0, done.stderr
        assert rig.system.applied == applied + (1 if "before_call" in point else 0)
        assert rig.system.repeats == (1 if "after_call" in point else 0)
        fid = fordring_id("KY", "C-3")
        made = rig.system.claim(CVR, fid)
        assert made is not None and made.remaining_ore == 340_00  # 150 paid, 90 reversed
        deadline = time.monotonic() + 15  # the covering and its reversal told to TØK
        while len(rig.simulator.callback_answers) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rig.simulator.callback_answers == [200, 200]
        journal = open_journal(rig.journal_path)
        try:
            ledger = claim_ledger(journal, CVR, fid)
            assert ledger is not None and ledger.paid_in_ore == 60_00
            assert {tx.state for tx in journal.transmissions(kind="debitor-afsend")} == {"answered"}
        finally:
            journal.close()
        assert _send(config).returncode == 0 and rig.system.applied == applied + (
            1 if "before_call" in point else 0
        )
