"""SIGKILL at each step of ``receive g68`` (the real G68 processor) and of ``toekgw send``; after
a restart every payment is journaled exactly once and no file is lost."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crashkit import ROOT, Rig, child_env, killed, paused_at, resumed, run_child
from tests.g68_receive_helpers import PROCESSOR, TODAY, excluded_lines, g68_rig, generate
from toekgw.gateway.journal import open_journal

COUNT = 3_000
RECEIVE = ["receive", *PROCESSOR, "--today", TODAY.isoformat()]


@pytest.fixture
def grig(tmp_path: Path) -> Iterator[Rig]:
    rig = g68_rig(tmp_path)
    try:
        yield rig
    finally:
        rig.stop()


def _journal_rows(rig: Rig) -> tuple[list[str], int, int]:
    db = sqlite3.connect(rig.settings.journal)
    keys = [k for (k,) in db.execute("SELECT business_key FROM items")]
    entries = db.execute("SELECT count(*) FROM error_entries").fetchone()[0]
    findings = db.execute("SELECT count(*) FROM error_findings").fetchone()[0]
    return keys, entries, findings


@pytest.mark.parametrize(
    ("point", "journaled_after_kill"),
    [
        ("inbound.after_download", False),
        # the first batch of payments inserted, the second pass read ahead on its thread
        ("journal.items.batch", False),
        ("inbound.after_commit", True),
        ("inbound.after_remote_dispose", True),
    ],
)
def test_receive_g68_killed_then_restarted_journals_each_payment_once(
    grig: Rig, tmp_path: Path, point: str, journaled_after_kill: bool
) -> None:
    data, expected = generate(tmp_path, "crash.g68", count=COUNT, error_rate=0.02, seed=11)
    payments = COUNT - len(excluded_lines(expected))
    grig.deliver("G68_CRASH.txt", data)

    first = run_child(grig, RECEIVE, crash_at=point)
    assert killed(first), first.stderr
    keys, entries, _ = _journal_rows(grig)
    assert len(keys) == (payments if journaled_after_kill else 0)
    assert entries == (1 if journaled_after_kill else 0)
    if point != "inbound.after_remote_dispose":
        assert (grig.inbox() / "G68_CRASH.txt").read_bytes() == data  # nothing lost

    again = run_child(grig, RECEIVE)
    assert again.returncode == 0, again.stderr
    outcome = json.loads(again.stdout.splitlines()[0])
    assert outcome["status"] == ("resumed" if journaled_after_kill else "received")

    keys, entries, findings = _journal_rows(grig)
    assert len(keys) == payments and len(set(keys)) == payments
    assert (entries, findings) == (1, sum(expected.values()))
    journal = open_journal(grig.settings.journal)
    (tx,) = journal.transmissions()
    assert tx.state == "received" and tx.kind == "g68-delivery"
    assert Path(tx.local_path or "").read_bytes() == data
    assert list(grig.inbox().iterdir()) == []
    assert not list((grig.settings.staging / "ksd" / "incoming").iterdir())
    assert run_child(grig, RECEIVE).stdout == ""  # nothing left to do


def _toekgw(
    rig: Rig, args: list[str], crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed command's code path (``toekgw.cli.main:main``), in a child process."""
    env = child_env(crash_at)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from toekgw.cli.main import main; main()",
            *args,
            "--config",
            str(rig.config),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_toekgw_commands_killed_mid_way_then_rerun(grig: Rig, tmp_path: Path) -> None:
    # toekgw send, killed in the middle of the upload.
    payload = tmp_path / "SF1590_A_0002.xml"
    payload.write_bytes(b"<voucher/>\n" * 200_000)
    first = _toekgw(grig, ["send", str(payload), "--to", "erp"], crash_at="transport.put.mid")
    assert killed(first), first.stderr
    assert grig.sim.platform.deliveries() == []
    again = _toekgw(grig, ["send", str(payload), "--to", "erp"])
    assert again.returncode == 0 and "receipted" in again.stdout, again.stderr
    assert (grig.inbox("erp") / payload.name).read_bytes() == payload.read_bytes()
    assert len(grig.sim.platform.deliveries()) == 1

    # toekgw receive g68, killed after the journal commit, before the remote removal.
    data, expected = generate(tmp_path, "toekgw.cli.g68", count=500, error_rate=0.02, seed=12)
    grig.deliver("G68_CLI.txt", data)
    receive = ["receive", "g68", "--today", TODAY.isoformat()]
    killed_run = _toekgw(grig, receive, crash_at="inbound.after_commit")
    assert killed(killed_run), killed_run.stderr
    rerun = _toekgw(grig, receive)
    assert rerun.returncode == 1, rerun.stderr  # records with errors went to the error list
    assert rerun.stdout.startswith("G68_CLI.txt: resumed: ")
    assert " errors and " in rerun.stdout and "on the error list (toekgw errors)" in rerun.stdout
    keys, entries, _ = _journal_rows(grig)
    assert len(keys) == len(set(keys)) == 500 - len(excluded_lines(expected))
    assert entries == 1 and list(grig.inbox().iterdir()) == []


@pytest.mark.parametrize("point", ["inbound.after_download", "journal.items.batch"])
def test_sigterm_stops_a_receive_as_ctrl_c_does_and_the_next_run_takes_it_whole(
    grig: Rig, tmp_path: Path, point: str
) -> None:
    """SIGTERM (a shutdown, ``timeout``, ``kill``) to a one-shot command ended it with no word
    (exit -15). Now it stops as for Ctrl-C: its open transaction rolled back, one line, exit
    143; the next run journals every payment once."""
    data, expected = generate(tmp_path, "term.g68", count=COUNT, error_rate=0.02, seed=13)
    payments = COUNT - len(excluded_lines(expected))
    grig.deliver("G68_TERM.txt", data)
    held = paused_at(["receive", "g68", "--today", TODAY.isoformat()], grig.config, point)
    os.kill(held.pid, signal.SIGTERM)  # delivered when it goes on
    stopped = resumed(held)
    assert stopped.returncode == 143, stopped.stderr
    assert stopped.stderr == "toekgw: terminated (SIGTERM): stopped where Ctrl-C would\n"
    assert _journal_rows(grig)[:2] == ([], 0)  # nothing journaled
    assert (grig.inbox() / "G68_TERM.txt").read_bytes() == data  # nothing lost
    again = _toekgw(grig, ["receive", "g68", "--today", TODAY.isoformat()])
    assert again.returncode == 1, again.stderr  # the planted errors
    assert again.stdout.startswith(f"G68_TERM.txt: received: {payments} items journaled")
    keys, entries, _ = _journal_rows(grig)
    assert len(keys) == len(set(keys)) == payments and entries == 1
