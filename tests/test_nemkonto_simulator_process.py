"""The simulator as a process (``toekgw simulate nemkonto``), SIGKILLed while it works."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.crashkit import kill_at
from tests.nemkonto_data import bundle, cpr, payment
from toekgw.formats.nemkonto import AnswerType, build_bundle, parse_answer
from toekgw.gateway.transport.mq import SqliteQueue, message_id
from toekgw.simulators.nemkonto import DEFAULT_REPLY_QUEUE, DEFAULT_REQUEST_QUEUE, NemKontoSimulator
from toekgw.simulators.nemkonto.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
CLI = "import sys; from toekgw.cli.main import main; sys.argv[0] = 'toekgw'; main()"


def _simulator(
    queue_db: Path, ledger_db: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
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
        env=None if env is None else {**os.environ, **env},
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


# Where the SIGKILL lands. "got": the third bundle is got, not yet read nor recorded (the
# process kills itself at its crash point there); "recorded": the second bundle is in the
# ledger, its answers not committed (held by --delay while the test kills it).
Reached = Callable[[Path, Path], bool]
KILL_POINTS: dict[str, tuple[Reached | None, tuple[str, ...], dict[str, str]]] = {
    "got": (None, (), {"TOEKGW_CRASH_AT": "nemkonto.simulator.got:3"}),
    "recorded": (lambda q, ledger: len(_recorded(ledger)) >= 2, ("--delay", "0.4"), {}),
}


@pytest.mark.parametrize("kill_point", sorted(KILL_POINTS))
def test_sigkill_mid_way_loses_no_bundle_and_pays_none_twice(
    tmp_path: Path, kill_point: str
) -> None:
    queue_db = tmp_path / "queues.sqlite"
    ledger_db = tmp_path / "ledger.sqlite"
    bundles = [
        bundle([payment(b * 10_000 + n) for n in range(40)], bundle_id=f"B-{b}") for b in range(5)
    ]
    with SqliteQueue(queue_db) as q:
        for b in bundles:
            q.put(DEFAULT_REQUEST_QUEUE, build_bundle(b), msg_id=message_id(b.bundle_id))
        q.commit()

    reached, extra, env = KILL_POINTS[kill_point]
    proc = _simulator(queue_db, ledger_db, "--reject-cpr", cpr(10_001), *extra, env=env)
    kill_at(proc, None if reached is None else lambda: reached(queue_db, ledger_db), timeout=60)
    before = _recorded(ledger_db)

    with SqliteQueue(queue_db) as q:
        committed = {parse_answer(m.body).bundle_id for m in q.browse(DEFAULT_REPLY_QUEUE)}
        sim = NemKontoSimulator(q, ledger_db)
        handled = sim.drain()
        replies = [parse_answer(m.body) for m in q.browse(DEFAULT_REPLY_QUEUE)]
        assert q.browse(DEFAULT_REQUEST_QUEUE) == []
        sim.ledger.close()
    ledger = Ledger(ledger_db)
    paid = ledger.paid()
    deliveries = ledger.deliveries()
    ledger.close()

    # Every bundle the killed process had not committed came back and was handled again; one
    # it had recorded but not committed was answered from the ledger (a second delivery).
    assert handled == 5 - len(committed)
    assert deliveries == {
        b.bundle_id: 2 if b.bundle_id in before and b.bundle_id not in committed else 1
        for b in bundles
    }
    if kill_point == "recorded":
        assert deliveries["B-1"] == 2
    else:
        assert committed == {"B-0", "B-1"}
    expected = {p.payment_id: p.amount_ore for b in bundles for p in b.payments}
    del expected["P0000010001"]  # rejected by script
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
