"""Several workers on one PostgreSQL journal run the NemKonto flow at once - release, send,
receive, each a real ``toekgw`` child process, each worker a machine of its own staging (its
own lock files) -, are SIGKILLed at the send's and the receiver's crash points and at random
moments, and are restarted: NemKonto pays every payment once, every payment is in one bundle,
and a bundle reaches NemKonto more than once only where a killed send had put it without
journaling it (the simulator drops such a copy by its bundle id)."""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.crashkit import toekgw_process
from tests.nemkonto_flow_data import TODAY, instruction, journal_delivery
from tests.servers import PostgresServer
from tests.test_nemkonto_flow_cli import CONFIG
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript
from toekgw.simulators.nemkonto.ledger import Ledger
from toekgw.simulators.nemkonto.simulator import DEFAULT_REPLY_QUEUE

PAYMENTS = 300
PER_BUNDLE = 25  # twelve bundles
STEPS = {
    "release": ["nemkonto", "release", "--today", TODAY.isoformat()],
    "send": ["nemkonto", "send"],
    "receive": ["receive", "nemkonto"],
}


def _config(work: Path, slot: int, url: str, queue_db: Path) -> Path:
    home = work / f"worker{slot}"
    (home / "var").mkdir(parents=True)
    text = (
        CONFIG.replace('path = "var/journal.sqlite"', f'url = "{url}"')
        .replace('queue_db = "var/queues.sqlite"', f'queue_db = "{queue_db}"')
        .replace("overdue_hours = 1", f"overdue_hours = 1\nmax_payments = {PER_BUNDLE}")
    )
    path = home / "toekgw.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Worker:
    """One machine: runs release, send and receive (:data:`STEPS`) as child processes."""

    config: Path
    kill_chance: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    kills: int = 0
    busy: int = 0
    problems: list[str] = field(default_factory=list)

    def run(self, done: threading.Event, deadline: float) -> None:
        """The steps again and again until ``done``; a run is SIGKILLed after a random delay
        with the chance ``kill_chance``."""
        while not done.is_set() and time.monotonic() < deadline:
            for name in STEPS:
                self.step(name, deadline=deadline)

    def step(self, name: str, *, crash_at: str | None = None, deadline: float = 0.0) -> int:
        """Run step ``name`` once (killed at ``crash_at`` if given); its exit code."""
        child = toekgw_process(STEPS[name], self.config, crash_at=crash_at)
        if crash_at is None and self.rng.random() < self.kill_chance:
            threading.Timer(self.rng.uniform(0.3, 3.0), _kill, (child,)).start()
        _, err = child.communicate(timeout=max(60.0, deadline - time.monotonic()))
        if child.returncode == -signal.SIGKILL:
            self.kills += 1
        elif child.returncode == 2 and "is running" in err:
            self.busy += 1  # another worker holds the flow's lock: nothing was done
        elif child.returncode != 0:
            self.problems.append(f"{name}: exit {child.returncode}: {err[-500:]}")
        return child.returncode


def _kill(child: object) -> None:
    assert hasattr(child, "poll") and hasattr(child, "send_signal")
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)


def _answering(queue_db: Path, ledger: Path, done: threading.Event) -> None:
    """NemKonto: takes bundles and answers them (1, 2, then 8) until ``done``."""
    with SqliteQueue(queue_db) as queue:
        simulator = NemKontoSimulator(queue, ledger, SimulatorScript())
        try:
            while not done.is_set():
                simulator.step(wait=0.2)
        finally:
            simulator.ledger.close()


def _wait_for_answers(queue_db: Path, count: int, deadline: float) -> None:
    with SqliteQueue(queue_db) as queue:
        while queue.depth(DEFAULT_REPLY_QUEUE) < count:
            assert time.monotonic() < deadline, "NemKonto's simulator did not answer"
            time.sleep(0.1)


def _item_states(url: str) -> dict[str, int]:
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT state, count(*) FROM items WHERE counterpart = 'ksd' GROUP BY state"
        ).fetchall()
    return {state: n for state, n in rows}


def test_three_workers_release_send_and_receive_each_payment_once(
    tmp_path: Path, postgresql: PostgresServer
) -> None:
    url = postgresql.fresh()
    journal = open_journal(url)
    try:
        journal_delivery(journal, [instruction(n) for n in range(PAYMENTS)])
    finally:
        journal.close()
    queue_db, ledger_db = tmp_path / "queues.sqlite", tmp_path / "ledger.sqlite"
    SqliteQueue(queue_db).close()  # created once, before the workers open it at once
    configs = [_config(tmp_path, slot, url, queue_db) for slot in range(3)]
    done, deadline = threading.Event(), time.monotonic() + 300
    answering = threading.Thread(target=_answering, args=(queue_db, ledger_db, done))
    answering.start()
    threads: list[threading.Thread] = []
    try:
        # One worker first, killed at each point where the send and the receiver put or
        # take: at its second put (before the queue's commit), at its third put's queue commit
        # (the journal never learns of it), at its first batch of answers journaled (their
        # gets not yet committed).
        first = Worker(configs[0])
        assert first.step("release", deadline=deadline) == 0
        for crash in ("nemkonto.send.after_put:2", "nemkonto.send.after_commit:3"):
            assert first.step("send", crash_at=crash, deadline=deadline) == -signal.SIGKILL
        _wait_for_answers(queue_db, 2, deadline)
        crash = "nemkonto.answers.after_journal:1"
        assert first.step("receive", crash_at=crash, deadline=deadline) == -signal.SIGKILL
        # Then three at once, each run SIGKILLed at a random moment with a chance of 1/4.
        workers = [Worker(c, 0.25, random.Random(slot)) for slot, c in enumerate(configs)]
        threads = [threading.Thread(target=w.run, args=(done, deadline)) for w in workers]
        for thread in threads:
            thread.start()
        while time.monotonic() < deadline and _item_states(url) != {"at-bank": PAYMENTS}:
            time.sleep(0.5)
    finally:
        done.set()
        for thread in [answering, *threads]:
            thread.join()
    try:
        assert not [p for w in (first, *workers) for p in w.problems]
        assert _item_states(url) == {"at-bank": PAYMENTS}
        kills = sum(w.kills for w in (first, *workers))
        ledger = Ledger(ledger_db)
        paid, deliveries = ledger.paid(), ledger.deliveries()
        ledger.close()
        expected = {instruction(n).business_key: 10_000 + n for n in range(PAYMENTS)}
        assert {key: amount for key, (amount, _) in paid.items()} == expected
        with sqlite3.connect(ledger_db) as db:
            (refused,) = db.execute(
                "SELECT count(*) FROM outcome WHERE control_code = 'DUPLICATE_PAYMENT'"
            ).fetchone()
        assert refused == 0  # no payment was ever put in a second bundle
        # Copies: a bundle put by a send killed before it journaled the put.
        assert sum(deliveries.values()) - len(deliveries) <= kills
        with psycopg.connect(url) as db:
            bundles = db.execute(
                "SELECT state, count(*) FROM transmissions WHERE kind = 'nemkonto-bundle'"
                " GROUP BY state"
            ).fetchall()
            (twice,) = db.execute(
                "SELECT count(*) FROM (SELECT item_id FROM transmission_members"
                " GROUP BY item_id HAVING count(*) > 1) AS doubled"
            ).fetchone()
        assert bundles == [("settled", len(deliveries))]
        assert len(deliveries) == PAYMENTS // PER_BUNDLE
        assert twice == 0
    finally:
        postgresql.drop(url)
