"""TØK's intake against a bare consumer on the same RabbitMQ broker, in one run.

Publishes N payment orders, then takes them (a) with a bare ``pika`` consume + ack loop at the
same prefetch, the floor any consumer stands on, and (b) with the intake: read and validate
each message, journal a batch (what has arrived, up to the prefetch) in one durable SQLite
commit, acknowledge after the commit. Prints messages/s of both and their ratio (the goal: the
intake at least 0.3x the bare loop), and the intake's traced memory at two sizes: its peak
(bounded by a batch in flight) and what it still holds at the end (flat: it does not grow with
the number of messages). The intake is CPU-bound and the bare loop waits on the broker, so the
ratio falls on a machine busy with other work: note the load average beside it. Writes
bench/results/tok_intake.json. Never part of ``make test``.

    .venv/bin/python bench/tok_intake.py [--count 2000] [--prefetch 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
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

WARM_UP = 200
RESULTS = Path(__file__).resolve().parent / "results" / "tok_intake.json"


def publish(settings: BrokerSettings, queue: str, count: int) -> None:
    broker = PikaBroker(settings)
    broker.declare(QueueSpec(queue, max_priority=9))
    for n in range(count):
        message = order(f"B-{n}")
        broker.publish(queue, build_message(message), message_id=message.header.message_id)
    broker.close()


def bare(settings: BrokerSettings, queue: str, count: int, prefetch: int) -> float:
    connection = pika.BlockingConnection(settings.parameters())
    channel = connection.channel()
    channel.basic_qos(prefetch_count=prefetch)
    started = time.perf_counter()
    for taken, (method, _props, _body) in enumerate(channel.consume(queue, auto_ack=False), 1):
        channel.basic_ack(method.delivery_tag)
        if taken == count:
            break
    elapsed = time.perf_counter() - started
    channel.cancel()
    connection.close()
    return elapsed


def intake(
    settings: BrokerSettings, names: Names, count: int, work: Path, prefetch: int
) -> tuple[float, int, int]:
    """Seconds to take ``count`` messages; the peak traced memory while taking them after a
    warm-up of :data:`WARM_UP` (statement caches, buffers: what any size pays once), which a
    batch of ``prefetch`` messages in flight bounds; and what is still held at the end."""
    journal = open_journal(work / f"journal-{count}-{time.monotonic_ns()}.sqlite")
    broker = PikaBroker(settings, prefetch=prefetch)
    taker = Intake(journal, broker, registration_places=PLACES, now=clock, queues=names.queues)
    warm = 0
    while warm < WARM_UP:
        warm += taker.take(max_messages=WARM_UP - warm).taken
    tracemalloc.start()
    started = time.perf_counter()
    taken = 0
    while taken < count:  # a run ends when the broker is slow to push the next one
        taken += taker.take(max_messages=count - taken).taken
    elapsed = time.perf_counter() - started
    gc.collect()
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    broker.close()
    journal.close()
    return elapsed, peak, retained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--prefetch", type=int, default=50)
    args = parser.parse_args()
    count, prefetch = args.count, args.prefetch
    with tempfile.TemporaryDirectory() as tmp, start_rabbitmq(Path(tmp) / "rabbit") as node:
        settings = node.settings
        baseline_queue = "bench.bare"
        publish(settings, baseline_queue, count)
        bare_s = bare(settings, baseline_queue, count, prefetch)
        names = Names()
        payments = names.payments
        publish(settings, payments, count + WARM_UP)
        intake_s, peak, retained = intake(settings, names, count, Path(tmp), prefetch)
        small = max(count // 4, 100)
        names = Names()
        publish(settings, names.payments, small + WARM_UP)
        _, peak_small, retained_small = intake(settings, names, small, Path(tmp), prefetch)
    figures = {
        "date": dt.date.today().isoformat(),
        "messages": count,
        "prefetch": prefetch,
        "bare_pika_per_s": round(count / bare_s),
        "intake_per_s": round(count / intake_s),
        "ratio_intake_to_bare": round(bare_s / intake_s, 3),
        "intake_peak_traced_bytes": {str(small): peak_small, str(count): peak},
        "intake_retained_traced_bytes": {str(small): retained_small, str(count): retained},
    }
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(
        f"bare pika consume+ack (prefetch {prefetch}): {figures['bare_pika_per_s']}/s; "
        f"intake (validate, durable journal, ack): {figures['intake_per_s']}/s; "
        f"ratio {figures['ratio_intake_to_bare']} (goal >= 0.3)"
    )
    print(
        f"intake traced memory after a warm-up: peak {peak_small} B at {small}, {peak} B at "
        f"{count}; still held at the end {retained_small} B at {small}, {retained} B at {count}"
    )


if __name__ == "__main__":
    main()
