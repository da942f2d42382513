"""The PostgreSQL journal against a bare ``COPY`` on the same server, in one run.

Starts a private PostgreSQL (tests/servers.py, with fsync on: commits reach the disk), then:

(a) the floor: ``COPY`` of N payment rows (the same columns and payload as the journal's items)
    into a table made ``LIKE items INCLUDING ALL`` (the same indexes and constraints), one
    transaction;
(b) the journal: one durable transaction that opens a transmission and journals the same N
    payments with ``add_items`` (events, duplicate controls and all).

Prints payments/s of both and their ratio (goal: the journal at least 0.3x the bare COPY), then
the throughput of 1, 2 and 4 worker processes each journaling N/k payments at once (the curve;
the journal's writer lock serialises their commits). Writes bench/results/pg_journal.json.
Never part of ``make test``.

    .venv/bin/python bench/pg_journal.py [--count 100000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
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


def journal_payments(url: str, prefix: str, count: int) -> float:
    journal = open_journal(url)
    journal.define_kind(KIND)
    started = time.perf_counter()
    with journal.transaction(durable=True):
        tx = journal.create_transmission(NewTransmission("ksd", KIND.name, "journaled"))
        journal.add_items(tx.id, payments(prefix, count), state="pending", reason="journaled")
    elapsed = time.perf_counter() - started
    journal.close()
    return elapsed


def workers(server: PostgresServer, count: int, k: int) -> float:
    url = server.fresh()
    open_journal(url).define_kind(KIND)
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(k) as pool:
        pool.starmap(journal_payments, [(url, f"w{n}", count // k) for n in range(k)])
    elapsed = time.perf_counter() - started
    server.drop(url)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    count = args.count
    with start_postgresql(durable=True) as server:
        url = server.fresh()
        bare = bare_copy(url, count)
        ours = journal_payments(url, "j", count)
        server.drop(url)
        curve = {k: count / workers(server, count, k) for k in (1, 2, 4)}
    result = {
        "count": count,
        "bare_copy_per_s": round(count / bare),
        "journal_per_s": round(count / ours),
        "ratio": round(bare / ours, 3),
        "goal": 0.3,
        "workers_per_s": {str(k): round(v) for k, v in curve.items()},
    }
    print(f"bare COPY:        {result['bare_copy_per_s']:>9} payments/s")
    print(f"journal (durable): {result['journal_per_s']:>8} payments/s")
    print(f"ratio:             {result['ratio']} (goal >= 0.3)")
    for k, v in result["workers_per_s"].items():  # type: ignore[union-attr]
        print(f"{k} worker(s):       {v:>8} payments/s")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
