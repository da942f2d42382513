"""Several workers on one PostgreSQL journal and one RabbitMQ node run TØK's interfaces at once
(each `toekgw receive tok` a real child process, each worker a machine of its own staging), one
SIGKILLed at a crash point and one at a random moment, each restarted: every message is
journaled once, every status reaches its case system, and the publishers, which claim the
outbox's items, publish a status twice only where a killed one had published it unrecorded."""

from __future__ import annotations

import datetime as dt
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
from tests.servers import PostgresServer, RabbitNode
from tests.test_nemkonto_flow_cli import CONFIG
from toekgw.adapters.tok.kinds import STATUS_KINDS, TOK_PAYMENTS
from toekgw.formats.tok import Interface
from toekgw.gateway.transport.amqp_pika import PikaBroker
from toekgw.simulators.fagsystem import CaseSystem, Mix

MESSAGES = 1000
WORKERS = 3


def config_of(work: Path, slot: int, url: str, node: RabbitNode, tag: str) -> Path:
    """Worker ``slot``'s configuration: its own staging (a machine of its own), the shared
    journal and broker, and this test's queue names."""
    home = work / f"worker{slot}"
    (home / "var").mkdir(parents=True)
    queues = "\n".join(f'{i.value} = "{tag}.{i.value}"' for i in Interface)
    text = CONFIG.replace('path = "var/journal.sqlite"', f'url = "{url}"') + (
        f'\n[tok]\nreply_queue = "{tag}.{{sender}}.status"\n\n[tok.queues]\n{queues}\n\n'
        f'[tok.amqp]\ntransport = "rabbitmq"\nport = {node.port}\nprefetch = 20\n'
    )
    path = home / "toekgw.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Worker:
    """Runs ``toekgw receive tok`` again and again until a run finds nothing."""

    config: Path
    crash_at: str | None = None  # the first run's
    kill_after: float | None = None  # seconds into the first run
    codes: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def run(self, deadline: float) -> None:
        idle = 0
        while idle < 1 and time.monotonic() < deadline:
            first = not self.codes
            child = toekgw_process(
                ["receive", "tok", "--wait", "1", "--json"],
                self.config,
                crash_at=self.crash_at if first else None,
            )
            if first and self.kill_after is not None:
                threading.Timer(self.kill_after, _kill, (child,)).start()
            out, err = child.communicate(timeout=180)
            self.codes.append(child.returncode)
            if child.returncode == -signal.SIGKILL:
                idle = 0
            elif child.returncode in (0, 1):  # 1: some messages refused (the broken ones)
                figures = json.loads(out)
                busy = figures["taken"] + figures["refused"] + figures["statuses"]
                idle = 0 if busy else idle + 1
            else:
                self.problems.append(f"exit {child.returncode}: {err.strip()[-500:]}")
                return


def _kill(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)


def test_three_workers_killed_and_restarted_lose_and_double_nothing(
    tmp_path: Path, postgresql: PostgresServer, rabbitmq: RabbitNode
) -> None:
    url = postgresql.fresh()
    tag = f"w{random.getrandbits(40):x}"
    broker = PikaBroker(rabbitmq.settings)
    try:
        case_system = CaseSystem(
            broker, sender="KP", municipality="29189846",
            queues={i: f"{tag}.{i.value}" for i in Interface},
            reply_queue=f"{tag}.KP.status", now=lambda: dt.datetime.now(dt.UTC), seed=15,
        )  # fmt: skip
        case_system.send(MESSAGES, Mix(broken=0.01))
        configs = [config_of(tmp_path, slot, url, rabbitmq, tag) for slot in range(WORKERS)]
        workers = [
            Worker(configs[0], crash_at="tok.intake.after_commit:3"),
            Worker(configs[1], kill_after=random.uniform(1.0, 4.0)),
            Worker(configs[2], crash_at="tok.status.after_publish:20"),
        ]
        deadline = time.monotonic() + 240
        threads = [threading.Thread(target=w.run, args=(deadline,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not [p for w in workers for p in w.problems]
        kills = sum(code == -signal.SIGKILL for w in workers for code in w.codes)
        assert workers[0].codes[0] == -signal.SIGKILL  # killed at its third commit
        # A restart after everyone stopped takes over whatever a killed run left.
        Worker(configs[1]).run(time.monotonic() + 120)

        report = case_system.check(wait=1.0)
        assert report.ok, report.errors[:5]
        assert report.answered == MESSAGES
        # Each copy is a status a killed publisher had published but not recorded.
        assert report.copies <= kills, (report.copies, [w.codes for w in workers])
        with psycopg.connect(url) as db:
            kinds = list(STATUS_KINDS)
            messages, distinct = db.execute(
                "SELECT count(*), count(DISTINCT delivery_key) FROM transmissions "
                "WHERE kind = ANY(%s)",
                (kinds,),
            ).fetchone() or (0, 0)
            assert messages == distinct == MESSAGES  # every message journaled once
            payments, keys = db.execute(
                "SELECT count(*), count(DISTINCT i.business_key) FROM items i "
                "JOIN transmissions t ON t.id = i.transmission_id WHERE t.kind = %s",
                (TOK_PAYMENTS,),
            ).fetchone() or (0, 0)
            assert payments == keys > 0
            unsent = db.execute(
                "SELECT count(*) FROM items i JOIN transmissions t ON t.id = i.transmission_id "
                "LEFT JOIN status_outbox o ON o.item_id = i.id WHERE t.kind = ANY(%s) "
                "AND (o.item_id IS NULL OR o.published_state <> i.state)",
                (kinds,),
            ).fetchone()
            assert unsent == (0,)
    finally:
        broker.close()
        postgresql.drop(url)
