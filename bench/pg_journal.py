"""The PostgreSQL journal against a bare ``COPY`` on the same server, in one run.

Starts a private PostgreSQL (tests/servers.py, with fsync on: commits reach the disk), then:

(a) the floor: ``COPY`` of N payment rows (the same columns and payload as the journal's items)
    into a table made ``LIKE items INCLUDING ALL`` (the same indexes and constraints), one
    transaction;
(b) the journal: one durable transaction that opens a transmission and journals the same N
    payments with ``add_items`` (events, duplicate controls and all), with its hash-chain link;
(c) the same without the chain (the link not written), to show what the chain costs.

Prints payments/s of each and the ratio of (b) to (a) (goal: the journal at least 0.3x the
bare COPY), then the throughput of 1, 2 and 4 worker processes journaling W payments between
them at once, each in commits of ``--batch`` payments (every commit a link, taken under the
chain's lock), with the chain and without: the curve, and the chain lock's cost under
contention. Prints the load average at start and end (the machine is shared). Writes
bench/results/pg_journal.json. Never part of ``make test``.

    .venv/bin/python bench/pg_journal.py [--count 100000] [--workers-count W] [--batch 1000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from tests.servers import PostgresServer, start_postgresql
from toekgw.gateway.journal import (
    Direction,
    KindSpec,
    Lifecycle,
    NewItem,
    NewTransmission,
    open_journal,
)

RESULTS = Path(__file__).resolve().parent / "results" / "pg_journal.json"
KIND = KindSpec(
    "bench-delivery",
    Direction.IN,
    Lifecycle(("journaled",), {}),
    Lifecycle(("pending",), {"pending": ("released",)}),
)


def payments(prefix: str, count: int) -> Iterator[NewItem]:
    for n in range(count):
        yield NewItem(
            f"{prefix}-{n:09d}",
            10_000 + n % 90_000,
            seq=n + 2,
            fingerprint=f"fp-{prefix}-{n}",
            data={"recipient": f"{n:010d}", "text": "Kontanthjælp", "municipality": "101"},
            municipality="101",
        )


def bare_copy(url: str, count: int) -> float:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE bare_items (LIKE items INCLUDING ALL)")
        started = time.perf_counter()
        with (
            connection.transaction(),
            connection.cursor().copy(
                "COPY bare_items (transmission_id, counterpart, business_key, amount_ore, seq, "
                "fingerprint, state, created_event, updated_at, data, municipality) FROM STDIN"
            ) as copy,
        ):
            for item in payments("bare", count):
                copy.write_row(
                    (1, "ksd", item.business_key, item.amount_ore, item.seq, item.fingerprint,
                     "pending", 1, "2026-12-04T08:00:00+00:00", json.dumps(item.data),
                     item.municipality)
                )  # fmt: skip
        return time.perf_counter() - started


def journal_payments(url: str, prefix: str, count: int, chained: bool, batch: int) -> float:
    """Journal ``count`` payments in durable commits of ``batch``; the seconds it took."""
    journal = open_journal(url)
    journal.define_kind(KIND)
    # The bench's switch for (c): the journal writes no links (a journal always does).
    journal._chained = chained and journal._chained
    started = time.perf_counter()
    for first in range(0, count, batch):
        size = min(batch, count - first)
        with journal.transaction(durable=True):
            tx = journal.create_transmission(NewTransmission("ksd", KIND.name, "journaled"))
            journal.add_items(
                tx.id, payments(f"{prefix}-{first}", size), state="pending", reason="journaled"
            )
    elapsed = time.perf_counter() - started
    journal.close()
    return elapsed


def workers(server: PostgresServer, count: int, k: int, chained: bool, batch: int) -> float:
    url = server.fresh()
    open_journal(url).define_kind(KIND)
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(k) as pool:
        pool.starmap(
            journal_payments, [(url, f"w{n}", count // k, chained, batch) for n in range(k)]
        )
    elapsed = time.perf_counter() - started
    if chained:
        report = open_journal(url).verify_chain()
        if report.problems:
            raise SystemExit(f"{k} workers broke the chain: {report.problems[0]}")
    server.drop(url)
    return elapsed


def one_commit(server: PostgresServer, count: int, chained: bool) -> float:
    url = server.fresh()
    elapsed = journal_payments(url, "j", count, chained, count)
    server.drop(url)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--workers-count", type=int, default=None, help="default: --count")
    parser.add_argument("--batch", type=int, default=1_000, help="payments per worker commit")
    args = parser.parse_args()
    count, batch = args.count, args.batch
    spread = args.workers_count or count
    load_start = os.getloadavg()
    with start_postgresql(durable=True) as server:
        url = server.fresh()
        bare = bare_copy(url, count)
        server.drop(url)
        ours = one_commit(server, count, chained=True)
        unchained = one_commit(server, count, chained=False)
        curve = {
            (k, chained): spread / workers(server, spread, k, chained, batch)
            for k in (1, 2, 4)
            for chained in (True, False)
        }
    load_end = os.getloadavg()
    result = {
        "count": count,
        "bare_copy_per_s": round(count / bare),
        "journal_per_s": round(count / ours),
        "journal_unchained_per_s": round(count / unchained),
        "ratio": round(bare / ours, 3),
        "ratio_unchained": round(bare / unchained, 3),
        "goal": 0.3,
        "workers_count": spread,
        "batch": batch,
        "workers_per_s": {str(k): round(v) for (k, c), v in curve.items() if c},
        "workers_unchained_per_s": {str(k): round(v) for (k, c), v in curve.items() if not c},
        "load_average": {"start": load_start[0], "end": load_end[0]},
    }
    print(f"bare COPY:                  {result['bare_copy_per_s']:>9} payments/s")
    print(f"journal (durable, chained): {result['journal_per_s']:>9} payments/s")
    print(f"journal without the chain:  {result['journal_unchained_per_s']:>9} payments/s")
    print(f"ratio:                      {result['ratio']} (goal >= 0.3; "
          f"without the chain {result['ratio_unchained']})")  # fmt: skip
    print(f"{spread} payments between k workers, commits of {batch}:")
    for k in (1, 2, 4):
        print(f"  {k} worker(s): {round(curve[k, True]):>8} payments/s chained, "
              f"{round(curve[k, False]):>8} without the chain")  # fmt: skip
    print(f"load average (1 min): {load_start[0]:.1f} at start, {load_end[0]:.1f} at end")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
