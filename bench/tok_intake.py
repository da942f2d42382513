"""TØK's intake against a bare consumer on the same RabbitMQ broker, in one run.

Publishes N payment orders, then takes them (a) with a bare ``pika`` get + ack loop, the
floor any consumer stands on, and (b) with the intake: read and validate each message, journal
it in a durable SQLite transaction, acknowledge after the commit. Prints messages/s of both and
their ratio (the goal: the intake at least 0.3x the bare loop), and the intake's peak traced
memory at two sizes (flat: it does not grow with the number of messages). Writes
bench/results/tok_intake.json. Never part of ``make test``.

    .venv/bin/python bench/tok_intake.py [--count 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pika

from tests.servers import start_rabbitmq
from tests.tok_helpers import PLACES, Names, clock, order
from toekgw.adapters.tok import Intake
from toekgw.formats.tok import build_message
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.amqp import QueueSpec
from toekgw.gateway.transport.amqp_pika import BrokerSettings, PikaBroker

RESULTS = Path(__file__).resolve().parent / "results" / "tok_intake.json"


def publish(settings: BrokerSettings, queue: str, count: int) -> None:
    broker = PikaBroker(settings)
    broker.declare(QueueSpec(queue, max_priority=9))
    for n in range(count):
        message = order(f"B-{n}")
        broker.publish(queue, build_message(message), message_id=message.header.message_id)
    broker.close()


def bare(settings: BrokerSettings, queue: str, count: int) -> float:
    connection = pika.BlockingConnection(settings.parameters())
    channel = connection.channel()
    channel.basic_qos(prefetch_count=1)
    started = time.perf_counter()
    taken = 0
    while taken < count:
        method, _, _body = channel.basic_get(queue)
        if method is None:
            continue
        channel.basic_ack(method.delivery_tag)
        taken += 1
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def intake(settings: BrokerSettings, names: Names, count: int, work: Path) -> tuple[float, int]:
    journal = open_journal(work / f"journal-{count}-{time.monotonic_ns()}.sqlite")
    broker = PikaBroker(settings)
    taker = Intake(journal, broker, registration_places=PLACES, now=clock, queues=names.queues)
    tracemalloc.start()
    started = time.perf_counter()
    taken = 0
    while taken < count:  # a run ends when the broker is slow to push the next one
        taken += taker.take(max_messages=count - taken).taken
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    broker.close()
    journal.close()
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    count = args.count
    with tempfile.TemporaryDirectory() as tmp, start_rabbitmq(Path(tmp) / "rabbit") as node:
        settings = node.settings
        baseline_queue = "bench.bare"
        publish(settings, baseline_queue, count)
        bare_s = bare(settings, baseline_queue, count)
        names = Names()
        payments = names.payments
        publish(settings, payments, count)
        intake_s, peak = intake(settings, names, count, Path(tmp))
        small = max(count // 4, 100)
        names = Names()
        publish(settings, names.payments, small)
        _, peak_small = intake(settings, names, small, Path(tmp))
    figures = {
        "date": dt.date.today().isoformat(),
        "messages": count,
        "bare_pika_per_s": round(count / bare_s),
        "intake_per_s": round(count / intake_s),
        "ratio_intake_to_bare": round(bare_s / intake_s, 3),
        "intake_peak_traced_bytes": {str(small): peak_small, str(count): peak},
    }
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(
        f"bare pika get+ack: {figures['bare_pika_per_s']}/s; intake (validate, durable journal, "
        f"ack): {figures['intake_per_s']}/s; ratio {figures['ratio_intake_to_bare']} (goal >= 0.3)"
    )
    print(f"intake peak traced memory: {peak_small} B at {small}, {peak} B at {count}")


if __name__ == "__main__":
    main()
