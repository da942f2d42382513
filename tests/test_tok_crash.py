"""SIGKILL the intake and the status publisher at each step; restart; nothing lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tok_helpers import Names, order, send, statuses
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker

CHILD = """
import sys
from pathlib import Path
from tests.tok_helpers import PLACES, Names, clock
from toekgw.adapters.tok import Intake, StatusPublisher
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker

work, tag, prefetch = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
names = Names(tag)
journal = open_journal(work / "journal.sqlite")
broker = SqliteBroker(work / "broker.sqlite", prefetch=prefetch)
intake = Intake(journal, broker, registration_places=PLACES, now=clock, queues=names.queues)
intake.take()
StatusPublisher(journal, journal, broker, now=clock, reply_queue=names.reply).publish_due()
"""


def run_child(work: Path, tag: str, crash_at: str | None, prefetch: int = 1) -> int:
    env = {k: v for k, v in os.environ.items() if k not in ("TOEKGW_CRASH_AT",)}
    if crash_at:
        env["TOEKGW_CRASH_AT"] = crash_at
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(work), tag, str(prefetch)],
        env=env,
        cwd=root,
        timeout=120,
        check=False,
    )
    return done.returncode


@pytest.mark.parametrize(
    ("crash_at", "prefetch"),
    [
        ("tok.intake.after_commit:3", 1),
        ("tok.status.after_publish:2", 1),
        ("tok.intake.after_commit:1", 3),  # a batch of three journaled, none acknowledged
        ("tok.intake.after_commit:2", 3),  # the first batch acknowledged, the second not
    ],
)
def test_a_killed_intake_or_publisher_loses_and_doubles_nothing(
    tmp_path: Path, crash_at: str, prefetch: int
) -> None:
    names = Names()
    broker = SqliteBroker(tmp_path / "broker.sqlite")
    payments = names.payments
    ordered = [order(f"P-{n}") for n in range(5)]
    for message in ordered:
        send(broker, payments, message)

    assert run_child(tmp_path, names.tag, crash_at, prefetch) == -signal.SIGKILL
    assert run_child(tmp_path, names.tag, None, prefetch) == 0

    journal = open_journal(tmp_path / "journal.sqlite")
    for message in ordered:
        (item,) = journal.find_items(f"KY:{message.payment_id}", "tok")
        assert item.state == "pending"
    assert broker.get(payments, wait=0.2) is None  # every message acknowledged
    arrived: list[int] = []
    told = statuses(broker, names.reply_of("KY"), arrived)  # de-duplicated by event id
    assert sorted(s.in_reply_to or "" for s in told) == sorted(m.header.message_id for m in ordered)
    broker.close()
