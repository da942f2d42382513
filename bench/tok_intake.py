"""TØK's intake against a bare consumer on the same RabbitMQ broker, in one run.

Publishes N payment orders, then takes them (a) with a bare ``pika`` consume + ack loop at the
same prefetch, the floor any consumer stands on, and (b) with the intake: read and validate
each message, journal a batch (what has arrived, up to the prefetch) in one durable commit
(SQLite, or with ``--journal postgresql`` a private PostgreSQL server started for the run,
``synchronous_commit`` on), acknowledge after the commit. Prints messages/s of both and
their ratio (the goal: the intake at least 0.3x the bare loop): ``--rounds`` of the two in
turn, the median of the rounds' ratios. The intake is CPU-bound and
the bare loop waits on the broker, so the ratio falls on a machine busy with other work: the
load average is printed beside it.

Then the intake's memory, in a pass of its own (tracemalloc slows what it traces, so the
timed pass runs without it): after a warm-up, what it still holds after ``--memory`` sizes
of messages (500 and 5,000 by default; flat: it does not grow with the number of messages)
and its peak (bounded by a batch in flight). Writes bench/results/tok_intake[-postgresql].json.
Never part of ``make test``.

    .venv/bin/python bench/tok_intake.py [--count 2000] [--prefetch 50] [--journal sqlite]
                                         [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pika

from tests.servers import start_postgresql, start_rabbitmq
from tests.tok_helpers import PLACES, Names, clock, order
from toekgw.adapters.tok import Intake
from toekgw.formats.tok import build_message
from toekgw.gateway.journal import JournalLocation, JournalUrl, open_journal
from toekgw.gateway.transport.amqp import QueueSpec
from toekgw.gateway.transport.amqp_pika import BrokerSettings, PikaBroker

WARM_UP = 200
RESULTS = Path(__file__).resolve().parent / "results"


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


@contextlib.contextmanager
def warm_intake(
    settings: BrokerSettings, journal_at: JournalLocation, prefetch: int, count: int
) -> Iterator[Callable[[int], None]]:
    """An intake with ``count`` messages waiting after a warm-up of :data:`WARM_UP` (statement
    caches, buffers: what any size pays once); yields ``take(n)``."""
    names = Names()
    publish(settings, names.payments, count + WARM_UP)
    journal = open_journal(journal_at)
    broker = PikaBroker(settings, prefetch=prefetch)
    taker = Intake(journal, broker, registration_places=PLACES, now=clock, queues=names.queues)

    def take(n: int) -> None:
        taken = 0
        while taken < n:  # a run ends when the broker is slow to push the next one
            taken += taker.take(max_messages=n - taken).taken

    take(WARM_UP)
    try:
        yield take
    finally:
        broker.close()
        journal.close()


def timed_intake(
    settings: BrokerSettings, journal_at: JournalLocation, prefetch: int, count: int
) -> float:
    with warm_intake(settings, journal_at, prefetch, count) as take:
        started = time.perf_counter()
        take(count)
        return time.perf_counter() - started


def intake_memory(
    settings: BrokerSettings, journal_at: JournalLocation, prefetch: int, sizes: list[int]
) -> tuple[dict[str, int], int]:
    """What the intake still holds after each of ``sizes`` messages (traced, after a
    collection, against a snapshot after the warm-up), and its peak."""
    held: dict[str, int] = {}
    with warm_intake(settings, journal_at, prefetch, sizes[-1]) as take:
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.take_snapshot()
        done = 0
        for size in sizes:
            take(size - done)
            done = size
            gc.collect()
            diff = tracemalloc.take_snapshot().compare_to(base, "filename")
            held[str(size)] = sum(stat.size_diff for stat in diff)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return held, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--prefetch", type=int, default=50)
    parser.add_argument("--journal", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--memory", default="500,5000", help="sizes for the memory pass")
    parser.add_argument("--rounds", type=int, default=3, help="bare loop + intake, in turn")
    args = parser.parse_args()
    count, prefetch = args.count, args.prefetch
    sizes = sorted(int(s) for s in args.memory.split(","))
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        node = stack.enter_context(start_rabbitmq(Path(tmp) / "rabbit"))
        settings = node.settings
        if args.journal == "postgresql":
            server = stack.enter_context(start_postgresql(durable=True))

            def journal_at() -> JournalLocation:
                return JournalUrl(server.fresh())
        else:

            def journal_at() -> JournalLocation:
                return Path(tmp) / f"journal-{time.monotonic_ns()}.sqlite"

        # Rounds of the two, one right after the other: the bare loop's rate moves with what
        # else the machine does, so each round's ratio pairs runs of the same moment.
        rounds: list[tuple[float, float]] = []
        load = os.getloadavg()[0]
        for _ in range(args.rounds):
            publish(settings, "bench.bare", count)
            bare_s = bare(settings, "bench.bare", count, prefetch)
            rounds.append((bare_s, timed_intake(settings, journal_at(), prefetch, count)))
        held, peak = intake_memory(settings, journal_at(), prefetch, sizes)
    ratios = sorted(b / i for b, i in rounds)
    bare_s = statistics.median(b for b, _ in rounds)
    intake_s = statistics.median(i for _, i in rounds)
    figures = {
        "date": dt.date.today().isoformat(),
        "journal": args.journal,
        "messages": count,
        "prefetch": prefetch,
        "load_average_1min": round(load, 2),
        "bare_pika_per_s": round(count / bare_s),
        "intake_per_s": round(count / intake_s),
        "rounds": args.rounds,
        "ratio_intake_to_bare": round(statistics.median(ratios), 3),
        "ratio_per_round": [round(r, 3) for r in ratios],
        "intake_held_traced_bytes": held,
        "intake_peak_traced_bytes": peak,
    }
    suffix = "" if args.journal == "sqlite" else f"-{args.journal}"
    path = RESULTS / f"tok_intake{suffix}.json"
    # The workers' curve (bench/tok_intake_workers.py) is written into the same file: kept.
    earlier = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if "workers" in earlier:
        figures["workers"] = earlier["workers"]
    path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(
        f"bare pika consume+ack (prefetch {prefetch}): {figures['bare_pika_per_s']}/s; "
        f"intake (validate, durable {args.journal} journal, ack): {figures['intake_per_s']}/s; "
        f"ratio {figures['ratio_intake_to_bare']} (goal >= 0.3; median of {args.rounds} rounds: "
        f"{figures['ratio_per_round']}); load average {load:.2f}"
    )
    print(
        "intake traced memory still held after a warm-up: "
        + ", ".join(f"{b} B after {n}" for n, b in held.items())
        + f"; peak {peak} B"
    )


if __name__ == "__main__":
    main()
