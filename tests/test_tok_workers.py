"""Several workers on one PostgreSQL journal and one RabbitMQ node run TØK's interfaces at once
(each `toekgw receive tok` a real child process, each worker a machine of its own staging), one
SIGKILLed at a crash point of the intake (alone until then), one at one of the publisher, one
at a random moment, each restarted: every message is journaled once, every status reaches its
case system, and the publishers, which claim the outbox's items, publish a status twice only
where a killed one had published it without recording it."""

from __future__ import annotations

import datetime as dt
import random
import signal
import time
from pathlib import Path

from tests.servers import PostgresServer, RabbitNode
from tests.tok_workers_kit import Worker, config_of, queues_of, run_workers, verify
from toekgw.gateway.transport.amqp_pika import PikaBroker
from toekgw.simulators.fagsystem import CaseSystem, Mix

MESSAGES = 1000


def test_three_workers_killed_and_restarted_lose_and_double_nothing(
    tmp_path: Path, postgresql: PostgresServer, rabbitmq: RabbitNode
) -> None:
    url = postgresql.fresh()
    tag = f"w{random.getrandbits(40):x}"
    broker = PikaBroker(rabbitmq.settings)
    try:
        case_system = CaseSystem(
            broker, sender="KP", municipality="29189846", queues=queues_of(tag),
            reply_queue=f"{tag}.KP.status", now=lambda: dt.datetime.now(dt.UTC), seed=15,
        )  # fmt: skip
        case_system.send(MESSAGES, Mix(broken=0.01))
        configs = [config_of(tmp_path, slot, url, rabbitmq.port, tag) for slot in range(3)]
        workers = [
            Worker(configs[0], crash_at="tok.intake.after_commit:3"),
            Worker(configs[1], kill_after=random.uniform(1.0, 4.0)),
            Worker(configs[2], crash_at="tok.status.after_publish:20"),
        ]
        # The first worker runs alone until its first run is killed at its third commit; had
        # the others started with it, they could take the messages before it reached it.
        workers[1].after = workers[2].after = workers[0].first_run_ended
        run_workers(workers, time.monotonic() + 240)
        assert not [p for w in workers for p in w.problems]
        assert workers[0].codes[0] == -signal.SIGKILL  # killed at its third commit

        verdict = verify(url, case_system, rabbitmq.settings)
        assert not verdict.errors, verdict.errors[:5]
        assert verdict.answered == verdict.sent == MESSAGES
        assert verdict.journaled == verdict.distinct == MESSAGES  # every message once
        assert verdict.payment_items == verdict.payment_keys > 0
        assert verdict.unpublished == 0
        # Each copy is a status a killed publisher had published but not recorded.
        kills = sum(w.kills for w in workers)
        assert verdict.copies <= kills, (verdict.copies, [w.codes for w in workers])
    finally:
        case_system.broker.close()
        postgresql.drop(url)
