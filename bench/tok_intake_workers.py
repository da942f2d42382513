"""TØK's intake on k worker processes at once, one PostgreSQL journal, one RabbitMQ queue.

For each k (``--workers``, 1,2,4 by default): ``--count`` payment orders are published on a
fresh queue, k processes each open the journal and a broker session of their own (as k
``toekgw`` workers would), wait for one another, then take the queue until it is empty.
Prints messages/s (all messages over the time from the common start to the last worker's
end) and where the CPU went: the workers' own (each process's user + system time), the
PostgreSQL server's and the RabbitMQ node's (their process trees, from /proc), against the
machine's cores and load average. Every message must be journaled once and the hash chain
must verify, or the run fails. Writes ``workers`` into bench/results/tok_intake-postgresql.json.
Never part of ``make test``.

    .venv/bin/python bench/tok_intake_workers.py [--count 5000] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tok_intake import publish

from tests.servers import PostgresServer, start_postgresql, start_rabbitmq
from tests.tok_helpers import PLACES, Names, clock
from toekgw.adapters.tok import Intake
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.amqp_pika import BrokerSettings, PikaBroker

RESULTS = Path(__file__).resolve().parent / "results" / "tok_intake-postgresql.json"
_TICK = os.sysconf("SC_CLK_TCK")


def worker(
    url: str,
    settings: BrokerSettings,
    queues: dict[Any, str],
    prefetch: int,
    start: Any,
    results: Any,
) -> None:
    """Take the queue until it is empty; put messages taken, CPU seconds, start and end."""
    journal = open_journal(url)
    broker = PikaBroker(settings, prefetch=prefetch)
    intake = Intake(journal, broker, registration_places=PLACES, now=clock, queues=queues)
    start.wait()
    began, cpu = time.time(), resource.getrusage(resource.RUSAGE_SELF)
    taken, wait = 0, 1.0  # the first take waits for the broker's first push
    while (result := intake.take(wait=wait)).messages:
        taken, wait = taken + result.taken, 0.0
    used = resource.getrusage(resource.RUSAGE_SELF)
    ended = time.time()
    broker.close()
    journal.close()
    results.put((taken, used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime, began, ended))


def tree_cpu(root: int) -> float:
    """CPU seconds of ``root`` and its descendants (live ones, and reaped ones through the
    root's children's times)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        own = int(fields[11]) + int(fields[12])
        reaped = int(fields[13]) + int(fields[14])
        times[pid] = (own + reaped) / _TICK
    total = 0.0
    for pid in times:
        p = pid
        while p not in (0, 1) and p != root:
            p = parents.get(p, 0)
        if p == root:
            total += times[pid]
    return total


def run(
    server: PostgresServer, settings: BrokerSettings, rabbit_pid: int, count: int, k: int,
    prefetch: int,
) -> dict[str, Any]:  # fmt: skip
    url = server.fresh()
    names = Names()
    publish(settings, names.payments, count)
    postmaster = int((server.base / "data" / "postmaster.pid").read_text().split()[0])
    context = multiprocessing.get_context("spawn")
    start, done = context.Barrier(k + 1), context.Queue()
    processes = [
        context.Process(target=worker, args=(url, settings, names.queues, prefetch, start, done))
        for _ in range(k)
    ]
    for process in processes:
        process.start()
    start.wait(timeout=120)
    pg_cpu, rabbit_cpu, load = tree_cpu(postmaster), tree_cpu(rabbit_pid), os.getloadavg()
    results = [done.get(timeout=3600) for _ in processes]
    pg_cpu, rabbit_cpu = tree_cpu(postmaster) - pg_cpu, tree_cpu(rabbit_pid) - rabbit_cpu
    for process in processes:
        process.join()
    taken = sum(r[0] for r in results)
    wall = max(r[3] for r in results) - min(r[2] for r in results)
    journal = open_journal(url)
    journaled = len(journal.transmissions(counterpart="tok"))
    report = journal.verify_chain()
    journal.close()
    if taken != count or journaled != count or report.problems:
        raise SystemExit(
            f"{k} workers: {taken} taken, {journaled} journaled of {count}; "
            f"chain: {report.problems[:1]}"
        )
    server.drop(url)
    return {
        "workers": k,
        "messages_per_s": round(count / wall),
        "wall_s": round(wall, 2),
        "cpu_s": {
            "workers": [round(r[1], 2) for r in results],
            "postgresql": round(pg_cpu, 2),
            "rabbitmq": round(rabbit_cpu, 2),
        },
        "load_average_1min_at_start": round(load[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--prefetch", type=int, default=50)
    args = parser.parse_args()
    ks = [int(k) for k in args.workers.split(",")]
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_rabbitmq(Path(tmp) / "rabbit") as node,
        start_postgresql(durable=True) as server,
    ):
        curve = [run(server, node.settings, node.process.pid, args.count, k, args.prefetch)
                 for k in ks]  # fmt: skip
    for point in curve:
        cpu = point["cpu_s"]
        print(
            f"{point['workers']} worker(s): {point['messages_per_s']} messages/s "
            f"({args.count} in {point['wall_s']} s; CPU s: workers {cpu['workers']}, "
            f"PostgreSQL {cpu['postgresql']}, RabbitMQ {cpu['rabbitmq']}; "
            f"load {point['load_average_1min_at_start']}, {os.cpu_count()} cores)"
        )
    figures = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    figures["workers"] = {"messages": args.count, "cores": os.cpu_count(), "curve": curve}
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
