"""Several workers running TØK's interfaces against one PostgreSQL journal and one RabbitMQ node,
killed and restarted: the harness of ``tests/test_tok_workers.py`` (in ``make test``) and of
``bench/tok_workers.py`` (the acceptance run in ``make chaos``).

Each worker is a machine of its own (its own staging, so its own lock files) and runs
``toekgw receive tok`` as a child process again and again until a run finds nothing to do. A
run may be SIGKILLed at a crash point (``TOEKGW_CRASH_AT``) or after a delay; a killed run is
simply run again, as ``toekgw run`` would. :func:`verify` then reads the journal and the case
system's replies.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.crashkit import toekgw_process
from tests.test_nemkonto_flow_cli import CONFIG
from toekgw.adapters.tok.kinds import STATUS_KINDS, TOK_PAYMENTS
from toekgw.formats.tok import Interface
from toekgw.gateway.transport.amqp_pika import BrokerSettings, PikaBroker
from toekgw.simulators.fagsystem import CaseSystem

__all__ = ["Verdict", "Worker", "config_of", "queues_of", "run_workers", "verify"]


def queues_of(tag: str) -> dict[Interface, str]:
    return {i: f"{tag}.{i.value}" for i in Interface}


def config_of(work: Path, slot: int, url: str, port: int, tag: str) -> Path:
    """Worker ``slot``'s configuration: its own staging, the shared journal (``url``) and broker
    (RabbitMQ on ``port``), and the queues named after ``tag``."""
    home = work / f"worker{slot}"
    (home / "var").mkdir(parents=True)
    queues = "\n".join(f'{i.value} = "{name}"' for i, name in queues_of(tag).items())
    text = CONFIG.replace('path = "var/journal.sqlite"', f'url = "{url}"') + (
        f'\n[tok]\nreply_queue = "{tag}.{{sender}}.status"\n\n[tok.queues]\n{queues}\n\n'
        f'[tok.amqp]\ntransport = "rabbitmq"\nport = {port}\nprefetch = 20\n'
    )
    path = home / "toekgw.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Worker:
    """Runs ``toekgw receive tok`` again and again until a run finds nothing to do.

    ``crash_at``: the first run's crash point; ``kill_after``: seconds into the first run to
    SIGKILL it; ``kill_chance``: the chance that any run is SIGKILLed after a random delay of up
    to ``kill_within`` seconds; ``run_messages``: at most this many messages a run (``None``: a
    run takes what waits), so that a long month is many runs, each of which may be killed.
    ``after``: an event its first run waits for (another worker's ``first_run_ended``), so that
    a worker that must reach a crash point finds the messages still waiting."""

    config: Path
    crash_at: str | None = None
    kill_after: float | None = None
    kill_chance: float = 0.0
    kill_within: float = 10.0
    run_messages: int | None = None
    rng: random.Random = field(default_factory=random.Random)
    codes: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    after: threading.Event | None = None
    first_run_ended: threading.Event = field(default_factory=threading.Event)

    @property
    def kills(self) -> int:
        return sum(code == -signal.SIGKILL for code in self.codes)

    def run(self, deadline: float) -> None:
        if self.after is not None:
            self.after.wait(timeout=max(0.0, deadline - time.monotonic()))
        try:
            self._runs(deadline)
        finally:
            self.first_run_ended.set()  # also when it never ran: nobody waits past the deadline

    def _runs(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            first = not self.codes
            bound = [] if self.run_messages is None else ["--max-messages", str(self.run_messages)]
            child = toekgw_process(
                ["receive", "tok", "--wait", "1", "--json", *bound],
                self.config,
                crash_at=self.crash_at if first else None,
            )
            delay = self.kill_after if first else None
            if self.kill_chance and self.rng.random() < self.kill_chance:
                delay = self.rng.uniform(0.5, self.kill_within)
            if delay is not None:
                threading.Timer(delay, _kill, (child,)).start()
            out, err = child.communicate(timeout=max(60.0, deadline - time.monotonic()))
            self.codes.append(child.returncode)
            self.first_run_ended.set()
            if child.returncode == -signal.SIGKILL:
                continue
            if child.returncode not in (0, 1):  # 1: some messages refused (the broken ones)
                self.problems.append(f"exit {child.returncode}: {err.strip()[-500:]}")
                return
            figures = json.loads(out)
            if not figures["taken"] + figures["refused"] + figures["statuses"]:
                return


def _kill(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)


def run_workers(workers: list[Worker], deadline: float) -> None:
    """Run ``workers`` at once until each finds nothing to do, then one clean restart (the
    first worker's configuration) to take over what a run killed last left."""
    threads = [threading.Thread(target=w.run, args=(deadline,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    Worker(workers[0].config).run(deadline)


@dataclass(frozen=True)
class Verdict:
    sent: int  # messages the case system sent
    journaled: int  # message transmissions in the journal
    distinct: int  # of them with distinct message ids
    payment_items: int
    payment_keys: int  # distinct business keys among them
    unpublished: int  # items whose state is not yet told
    answered: int  # messages the case system got an answer to
    statuses: int  # statuses the case system received, copies included
    copies: int
    errors: tuple[str, ...]

    @property
    def lost(self) -> int:
        return self.sent - self.distinct

    @property
    def doubled(self) -> int:
        return self.journaled - self.distinct + self.payment_items - self.payment_keys


def verify(url: str, case_system: CaseSystem, broker: BrokerSettings) -> Verdict:
    """What the journal at ``url`` holds of ``case_system``'s messages, and its check (on a
    new session with ``broker``: the one that sent may have been idle past its heartbeat)."""
    case_system.broker.close()
    case_system.broker = PikaBroker(broker)
    report = case_system.check(wait=1.0)
    kinds = list(STATUS_KINDS)
    with psycopg.connect(url) as db:
        journaled, distinct = _one(
            db,
            "SELECT count(*), count(DISTINCT delivery_key) FROM transmissions WHERE kind = ANY(%s)",
            (kinds,),
        )
        items, keys = _one(
            db,
            "SELECT count(*), count(DISTINCT i.business_key) FROM items i "
            "JOIN transmissions t ON t.id = i.transmission_id WHERE t.kind = %s",
            (TOK_PAYMENTS,),
        )
        (unpublished,) = _one(
            db,
            "SELECT count(*) FROM items i JOIN transmissions t ON t.id = i.transmission_id "
            "LEFT JOIN status_outbox o ON o.item_id = i.id WHERE t.kind = ANY(%s) "
            "AND (o.item_id IS NULL OR o.published_state <> i.state)",
            (kinds,),
        )
    return Verdict(
        report.sent, journaled, distinct, items, keys, unpublished, report.answered,
        report.statuses, report.copies, tuple(report.errors),
    )  # fmt: skip


def _one(
    db: psycopg.Connection[tuple[int, ...]], sql: str, args: tuple[object, ...]
) -> tuple[int, ...]:
    row = db.execute(sql, args).fetchone()
    assert row is not None
    return row
