"""The simulator as a process (``toekgw simulate nemkonto``), SIGKILLed while it works."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from formats.nemkonto import AnswerType, build_bundle, parse_answer
from gateway.transport.mq import SqliteQueue, message_id
from simulators.nemkonto import DEFAULT_REPLY_QUEUE, DEFAULT_REQUEST_QUEUE, NemKontoSimulator
from simulators.nemkonto.ledger import Ledger
from tests.nemkonto_data import bundle, cpr, payment

ROOT = Path(__file__).resolve().parents[1]
CLI = "import sys; from cli.main import main; sys.argv[0] = 'toekgw'; main()"


def _simulator(queue_db: Path, ledger_db: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            CLI,
            "simulate",
            "nemkonto",
            "--queue-db",
            str(queue_db),
            "--ledger-db",
            str(ledger_db),
            *args,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _recorded(ledger_db: Path) -> dict[str, int]:
    if not ledger_db.exists():
        return {}
    try:
        with sqlite3.connect(ledger_db, timeout=5) as db:
            return dict(db.execute("SELECT bundle_id, deliveries FROM bundle").fetchall())
    except sqlite3.OperationalError:
        return {}  # the schema is not there yet


def test_sigkill_mid_way_loses_no_bundle_and_pays_none_twice(tmp_path: Path) -> None:
    queue_db = tmp_path / "queues.sqlite"
    ledger_db = tmp_path / "ledger.sqlite"
    bundles = [
        bundle([payment(b * 100 + n) for n in range(40)], bundle_id=f"B-{b}") for b in range(5)
    ]
    with SqliteQueue(queue_db) as q:
        for b in bundles:
            q.put(DEFAULT_REQUEST_QUEUE, build_bundle(b), msg_id=message_id(b.bundle_id))
        q.commit()

    # --delay holds each bundle between the ledger write and the commit for 0.4 s: kill there.
    proc = _simulator(queue_db, ledger_db, "--delay", "0.4", "--reject-cpr", cpr(101))
    deadline = time.monotonic() + 30
    while len(_recorded(ledger_db)) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the simulator did not get going"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert _recorded(ledger_db) == {"B-0": 1, "B-1": 1}

    with SqliteQueue(queue_db) as q:
        sim = NemKontoSimulator(q, ledger_db)
        assert sim.drain() == 4  # B-1 again (answered from the ledger), then B-2 .. B-4
        replies = [parse_answer(m.body) for m in q.browse(DEFAULT_REPLY_QUEUE)]
        ledger = Ledger(ledger_db)
        paid = ledger.paid()
        deliveries = ledger.deliveries()
        ledger.close()
        sim.ledger.close()

    assert deliveries == {"B-0": 1, "B-1": 2, "B-2": 1, "B-3": 1, "B-4": 1}
    expected = {p.payment_id: p.amount_ore for b in bundles for p in b.payments}
    del expected["P0000000101"]  # rejected by script
    assert {k: v[0] for k, v in paid.items()} == expected
    for b in bundles:
        kinds = [a.answer_type for a in replies if a.bundle_id == b.bundle_id]
        assert kinds.count(AnswerType.RECEIVED) == 1
        assert kinds.count(AnswerType.RECEIVE_CONTROL) == 1
        assert kinds.index(AnswerType.RECEIVED) < kinds.index(AnswerType.RECEIVED_BY_BANK)


def test_cli_runs_for_max_seconds_and_reports(tmp_path: Path) -> None:
    queue_db = tmp_path / "queues.sqlite"
    with SqliteQueue(queue_db) as q:
        q.put(DEFAULT_REQUEST_QUEUE, build_bundle(bundle([payment(1), payment(2)])))
        q.put(DEFAULT_REQUEST_QUEUE, b"<not-a-bundle/>")
        q.commit()
    proc = _simulator(
        queue_db, tmp_path / "ledger.sqlite", "--max-seconds", "1.5", "--reject-cpr", cpr(2)
    )
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "bundles 1, duplicates 0, unreadable 1" in out
    assert "accepted 1, rejected 1" in out
    assert cpr(2) not in out + err
