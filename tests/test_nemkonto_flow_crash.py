"""SIGKILL the gateway between the put and the journal commit, between the journal commit
and the get commit, and while an answer is read ahead in the middle of a batch: after a
restart every payment is paid once (the simulator's ledger)."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crashkit import child_env
from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import (
    SETTINGS,
    TODAY,
    instruction,
    journal_delivery,
    new_journal,
    states,
)
from toekgw.adapters.nemkonto import receive_answers, release, send_bundles
from toekgw.adapters.nemkonto.answers import ANSWERS_PER_COMMIT
from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript
from toekgw.simulators.nemkonto.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
COUNT = 30


def _child(step: str, journal: Path, queue: Path, crash_at: str | None) -> int:
    env = child_env(crash_at)
    done = subprocess.run(
        [sys.executable, "-m", "tests.nemkonto_child", step, str(journal), str(queue)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    return done.returncode


def _setup(tmp_path: Path) -> tuple[SqliteJournal, Path, Path]:
    journal = new_journal(tmp_path / "journal.sqlite")
    journal_delivery(journal, [instruction(n) for n in range(COUNT)])
    narrow = dataclasses.replace(SETTINGS, max_payments=20)  # two bundles: 20 and 10
    assert len(release(journal, narrow, TODAY).bundles) == 2
    return journal, tmp_path / "journal.sqlite", tmp_path / "queues.sqlite"


def _simulate(queue_db: Path, ledger: Path) -> None:
    with SqliteQueue(queue_db) as queue:
        sim = NemKontoSimulator(queue, ledger, SimulatorScript(reject_cprs=frozenset({cpr(3)})))
        sim.drain()
        sim.ledger.close()


def _answered(tmp_path: Path) -> tuple[SqliteJournal, Path, Path, int]:
    """Both bundles sent and answered by the simulator: the journal, its file, the queue's
    file, and how many answers wait on the reply queue."""
    journal, journal_db, queue_db = _setup(tmp_path)
    with SqliteQueue(queue_db) as queue:
        send_bundles(journal, queue, SETTINGS)
    _simulate(queue_db, tmp_path / "ledger.sqlite")
    with SqliteQueue(queue_db) as queue:
        waiting = len(queue.browse(SETTINGS.reply_queue))
    return journal, journal_db, queue_db, waiting


def _assert_paid_once(journal: SqliteJournal, ledger_db: Path) -> None:
    ledger = Ledger(ledger_db)
    paid = ledger.paid()
    deliveries = ledger.deliveries()
    ledger.close()
    expected = {instruction(n).business_key: 10_000 + n for n in range(COUNT) if n != 3}
    assert {k: v[0] for k, v in paid.items()} == expected  # once each: the primary key
    assert len(deliveries) == 2
    got = states(journal)
    assert got.pop(instruction(3).business_key) == "rejected"
    assert set(got.values()) == {"at-bank"}
    (manual,) = [e for e in journal.errors(counterpart="nemkonto")]
    assert manual.business_key == instruction(3).business_key


@pytest.mark.parametrize("bodies", ["staged", "built again"])
@pytest.mark.parametrize("point", ["nemkonto.send.after_put", "nemkonto.send.after_commit"])
def test_killed_between_put_and_journal_commit(tmp_path: Path, point: str, bodies: str) -> None:
    journal, journal_db, queue_db = _setup(tmp_path)
    bundles = journal.transmissions(kind="nemkonto-bundle")
    if bodies == "built again":  # as for bundles released before migration 16
        assert all(journal.drop_staged_body(t.id) for t in bundles)
    assert _child("send", journal_db, queue_db, point) == -signal.SIGKILL
    (first, second) = journal.transmissions(kind="nemkonto-bundle")
    assert first.state == second.state == "prepared"  # the journal never learnt of the put
    # the staged bytes stay until the bundle is known to be sent
    assert [journal.staged_body(t.id) is not None for t in bundles] == [bodies == "staged"] * 2
    _simulate(queue_db, tmp_path / "ledger.sqlite")
    # Restarted: the send puts every prepared bundle again, same id and bytes.
    assert _child("send", journal_db, queue_db, None) == 0
    _simulate(queue_db, tmp_path / "ledger.sqlite")
    with SqliteQueue(queue_db) as queue:
        receive_answers(journal, queue, SETTINGS)
    _assert_paid_once(journal, tmp_path / "ledger.sqlite")
    assert all(journal.staged_body(t.id) is None for t in bundles)
    ledger = Ledger(tmp_path / "ledger.sqlite")
    # after_commit: the first bundle reached NemKonto twice and was paid once.
    twice = 1 if point.endswith("after_commit") else 0
    assert sorted(ledger.deliveries().values()) == [1] * (2 - twice) + [2] * twice
    ledger.close()


def test_an_answer_is_proof_of_a_put_the_journal_missed(tmp_path: Path) -> None:
    journal, journal_db, queue_db = _setup(tmp_path)
    assert _child("send", journal_db, queue_db, "nemkonto.send.after_commit") == -signal.SIGKILL
    _simulate(queue_db, tmp_path / "ledger.sqlite")
    # The answers come in before the send is restarted: the first bundle becomes sent.
    with SqliteQueue(queue_db) as queue:
        receive_answers(journal, queue, SETTINGS)
        bundle_states = [t.state for t in journal.transmissions(kind="nemkonto-bundle")]
        assert bundle_states == ["settled", "prepared"]
        assert len(send_bundles(journal, queue, SETTINGS)) == 1  # only the one never put
    _simulate(queue_db, tmp_path / "ledger.sqlite")
    with SqliteQueue(queue_db) as queue:
        receive_answers(journal, queue, SETTINGS)
    _assert_paid_once(journal, tmp_path / "ledger.sqlite")


def test_killed_between_journal_commit_and_get_commit(tmp_path: Path) -> None:
    journal, journal_db, queue_db = _setup(tmp_path)
    with SqliteQueue(queue_db) as queue:
        send_bundles(journal, queue, SETTINGS)
    _simulate(queue_db, tmp_path / "ledger.sqlite")
    for nth in (1, 3):
        point = f"nemkonto.answers.after_journal:{nth}"
        assert _child("receive:1", journal_db, queue_db, point) == -signal.SIGKILL
    # The answer journaled but not got comes back; journaling it again changes nothing.
    with SqliteQueue(queue_db) as queue:
        summary = receive_answers(journal, queue, SETTINGS)
        assert summary.duplicates >= 1
        assert queue.browse(SETTINGS.reply_queue) == []
    _assert_paid_once(journal, tmp_path / "ledger.sqlite")


def test_killed_between_a_batch_of_answers_and_its_gets(tmp_path: Path) -> None:
    journal, journal_db, queue_db, waiting = _answered(tmp_path)
    assert 1 < waiting <= ANSWERS_PER_COMMIT  # one batch holds them all
    point = "nemkonto.answers.after_journal:1"
    assert _child("receive", journal_db, queue_db, point) == -signal.SIGKILL
    # The whole batch was journaled and its gets were not committed: every answer comes back
    # once (counted), and journaling each again changes nothing.
    with SqliteQueue(queue_db) as queue:
        back = queue.browse(SETTINGS.reply_queue)
        assert [m.backout_count for m in back] == [1] * waiting
        summary = receive_answers(journal, queue, SETTINGS)
        assert (summary.duplicates, summary.applied, summary.failed) == (waiting, 0, 0)
        assert queue.browse(SETTINGS.reply_queue) == []
    _assert_paid_once(journal, tmp_path / "ledger.sqlite")


@pytest.mark.parametrize("nth", [1, 3])
def test_killed_while_an_answer_is_read_ahead(tmp_path: Path, nth: int) -> None:
    """In the middle of a batch, with the next answer got and being read and the batch's
    journal transaction open: nothing of the batch stays, every answer comes back (the ones
    got, counted) and is applied once."""
    journal, journal_db, queue_db, waiting = _answered(tmp_path)
    assert nth + 1 < waiting <= ANSWERS_PER_COMMIT
    point = f"nemkonto.answers.read_ahead:{nth}"
    assert _child("receive", journal_db, queue_db, point) == -signal.SIGKILL
    with SqliteQueue(queue_db) as queue:
        back = queue.browse(SETTINGS.reply_queue)
        # the answers got before the kill: those journaled (nth - 1), the one being journaled
        # and the one read ahead
        assert [m.backout_count for m in back] == [1] * (nth + 1) + [0] * (waiting - nth - 1)
        summary = receive_answers(journal, queue, SETTINGS)
        assert (summary.applied, summary.duplicates, summary.failed) == (waiting, 0, 0)
        assert queue.browse(SETTINGS.reply_queue) == []
    _assert_paid_once(journal, tmp_path / "ledger.sqlite")
