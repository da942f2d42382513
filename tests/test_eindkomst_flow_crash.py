"""SIGKILL the eIndkomst gateway and simulator at each step: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.crashkit import kill_at, paused_at, resumed, toekgw_child
from tests.eik_config import CLI, ROOT, toekgw, write_config, write_request
from tests.eik_helpers import cpr
from toekgw.adapters.config import load_settings
from toekgw.adapters.eindkomst import COUNTERPART, DELIVERY, RECEIPTS
from toekgw.adapters.eindkomst.runtime import open_eindkomst
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.eindkomst import DEFAULT_REQUEST_QUEUE, EindkomstSimulator


def _finish(base: Path, config: Path) -> None:
    """After the crash: what the next run of the gateway and the simulator do."""
    settings = load_settings(config)
    with open_eindkomst(settings) as gw:
        gw.send_pending()
        with SqliteQueue(base / "var" / "queues.sqlite") as q:
            sim = EindkomstSimulator(q, base / "ledger.sqlite")
            sim.drain()
            sim.ledger.close()
        gw.receive()


def _ledger(base: Path) -> dict[str, int]:
    with sqlite3.connect(base / "ledger.sqlite") as db:
        return dict(db.execute("SELECT report_id, deliveries FROM report").fetchall())


def _check_once(base: Path, config: Path) -> None:
    journal = open_journal(base / "var" / "journal.sqlite")
    try:
        (delivery,) = journal.transmissions(counterpart=COUNTERPART, kind=DELIVERY.name)
        assert delivery.state == "receipted"
        rids = [str(r) for r in delivery.meta["report_ids"]]  # type: ignore[attr-defined]
        for rid in rids:
            (report,) = journal.find_items(rid, COUNTERPART)
            assert report.state == "accepted"
        # One receipt applied, however often it was answered.
        receipts = journal.transmissions(counterpart=COUNTERPART, kind=RECEIPTS.name)
        assert len(receipts) == 1
        assert journal.errors(counterpart=COUNTERPART) == []
    finally:
        journal.close()
    assert sorted(_ledger(base)) == sorted(rids)  # each registered exactly once
    with SqliteQueue(base / "var" / "queues.sqlite") as q:
        assert q.browse(DEFAULT_REQUEST_QUEUE) == []
    # Sending the same request again is refused: it went already.
    again = toekgw("eindkomst", "send", str(base / "request.json"), "--config", str(config))
    assert again.returncode == 1 and "duplicate refused" in again.stderr


@pytest.mark.parametrize(
    "point",
    ["eindkomst.send.after_journal", "eindkomst.send.after_put", "eindkomst.send.after_mq_commit"],
)
def test_send_killed_at_each_step(tmp_path: Path, point: str) -> None:
    config = write_config(tmp_path)
    request = write_request(tmp_path, {cpr(i): 100_000 + i for i in range(20)})
    killed = toekgw("eindkomst", "send", str(request), "--config", str(config), crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    _finish(tmp_path, config)
    _check_once(tmp_path, config)
    if point == "eindkomst.send.after_mq_commit":
        # The delivery went twice (committed, then re-put): SKAT registered it once.
        with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
            assert db.execute("SELECT deliveries FROM delivery").fetchone()[0] == 2


def test_receive_killed_between_journal_and_get_commit(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    request = write_request(tmp_path, {cpr(i): 100_000 + i for i in range(5)})
    assert toekgw("eindkomst", "send", str(request), "--config", str(config)).returncode == 0
    with SqliteQueue(tmp_path / "var" / "queues.sqlite") as q:
        sim = EindkomstSimulator(q, tmp_path / "ledger.sqlite")
        assert sim.drain() == 1
        sim.ledger.close()
    killed = toekgw(
        "eindkomst", "receive", "--config", str(config), crash_at="eindkomst.receive.after_journal"
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    settings = load_settings(config)
    with open_eindkomst(settings) as gw:
        got = gw.receive()
    assert got.messages == 1 and got.duplicates == 1  # journaled before: dropped, committed
    _check_once(tmp_path, config)


# "got": the delivery is got, not yet read nor recorded (the simulator kills itself at its
# crash point there); "recorded": it is in the ledger, its answer not committed (held by
# --delay while the test kills it).
Reached = Callable[[Path, Path], bool]
SIM_POINTS: dict[str, tuple[Reached | None, tuple[str, ...], dict[str, str]]] = {
    "got": (None, (), {"TOEKGW_CRASH_AT": "eindkomst.simulator.got"}),
    "recorded": (lambda base, ledger: _registered(ledger), ("--delay", "30"), {}),
}


@pytest.mark.parametrize("point", sorted(SIM_POINTS))
def test_simulator_killed_between_get_and_commit(tmp_path: Path, point: str) -> None:
    reached, extra, env = SIM_POINTS[point]
    config = write_config(tmp_path)
    request = write_request(tmp_path, {cpr(i): 100_000 + i for i in range(5)})
    assert toekgw("eindkomst", "send", str(request), "--config", str(config)).returncode == 0
    ledger = tmp_path / "ledger.sqlite"
    queue_db = str(tmp_path / "var" / "queues.sqlite")
    args = ["--queue-db", queue_db, "--ledger-db", str(ledger), *extra]
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, "simulate", "eindkomst", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    kill_at(proc, None if reached is None else lambda: reached(tmp_path, ledger), timeout=30)
    recorded = _registered(ledger)  # in the ledger, answer not committed: comes back once more
    assert recorded or point == "got"
    _finish(tmp_path, config)
    _check_once(tmp_path, config)
    with sqlite3.connect(ledger) as db:
        assert db.execute("SELECT deliveries FROM delivery").fetchone()[0] == 1 + recorded


def _registered(ledger: Path) -> bool:
    try:
        with sqlite3.connect(ledger, timeout=5) as db:
            return bool(db.execute("SELECT count(*) FROM report").fetchone()[0])
    except sqlite3.OperationalError:
        return False


def test_simulator_cli_runs_for_max_seconds_and_reports(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    bad = cpr(3)
    request = write_request(tmp_path, {cpr(1): 100, bad: 200})
    assert toekgw("eindkomst", "send", str(request), "--config", str(config)).returncode == 0
    queue_db = str(tmp_path / "var" / "queues.sqlite")
    out = toekgw(
        "simulate", "eindkomst", "--queue-db", queue_db, "--reject-cpr", bad, "--max-seconds", "1"
    )
    assert out.returncode == 0, out.stderr
    assert "deliveries 1, duplicates 0; reports accepted 0, rejected 1" in out.stdout
    assert "error/advice receipts 1" in out.stdout
    assert bad not in out.stdout + out.stderr


def test_a_receive_while_a_send_is_mid_put_puts_nothing_twice(tmp_path: Path) -> None:
    """``eindkomst receive`` hands over what waits; while a send held its delivery put but
    not yet committed, it used to put it as well: SKAT got it twice. (``close-month`` did the
    same; it now holds the send's lock.)"""
    config = write_config(tmp_path)
    request = write_request(tmp_path, {cpr(i): 100_000 + i for i in range(3)})
    send = ["eindkomst", "send", str(request)]
    first = paused_at(send, config, "eindkomst.send.after_put")
    try:
        other = toekgw_child(["eindkomst", "receive"], config)
    finally:
        sent = resumed(first)
    with SqliteQueue(tmp_path / "var" / "queues.sqlite") as q:
        bodies = [m.body for m in q.browse(DEFAULT_REQUEST_QUEUE)]
    assert len(bodies) == len(set(bodies)), "a delivery was put twice"
    assert other.returncode == 0, other.stderr
    assert "another process is handing eIndkomst deliveries over" in other.stderr
    assert "Traceback" not in other.stderr
    assert sent.returncode == 0 and "1 delivery(ies) handed over" in sent.stdout, sent.stderr


def test_close_month_while_a_send_runs_is_refused(tmp_path: Path) -> None:
    """``close-month`` journals and sends like ``send``: it holds the same lock (as ``run``'s
    job does), so that two of them never both find the month's nil report due."""
    config = write_config(tmp_path)
    request = write_request(tmp_path, {cpr(1): 100_000})
    first = paused_at(["eindkomst", "send", str(request)], config, "eindkomst.send.after_journal")
    try:
        closing = toekgw_child(["eindkomst", "close-month", "--month", "2026-10"], config)
    finally:
        sent = resumed(first)
    assert closing.returncode == 2, closing.stdout + closing.stderr
    assert "another eindkomst send is running" in closing.stderr
    assert "Traceback" not in closing.stderr
    assert sent.returncode == 0, sent.stderr
    again = toekgw_child(["eindkomst", "close-month", "--month", "2026-10"], config)
    assert again.returncode == 0 and "delivery" in again.stdout, again.stderr
