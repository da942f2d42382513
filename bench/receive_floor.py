"""Bench: `receive g68` of the month's last delivery against the journal's own floor.

    .venv/bin/python bench/receive_floor.py [--before 10] [--payments 91000] [--runs 2]
                                            [--out PATH]

The issue's floor for `receive g68` (:mod:`bench.baselines`) slices five fields of each
payment and inserts them into a table with no index. The journal keeps more of a payment:
its whole row (sixteen columns, the payload's JSON among them) in the items table, under five
indexes. One of them, the duplicate-payment control's look-up key (paying unit, ident code,
beneficiary, amount, date), is in the beneficiary's order, so a delivery's rows land all over
an index as large as the month. This bench asks what those rows cost by themselves, at the
month's scale.

A month of ``--before`` + 1 deliveries of ``--payments`` is generated (as
``bench/month_end.py`` does); the first ``--before`` are received into a journal. Then, per
run, on copies of that journal, in turn:

- ``receive g68``: the last delivery received, as ``bench/month_end.py`` times the stage
  (a child process; the first pass, the second pass, the inserts, the error list, the
  durable commit with its checkpoint);
- *the journal's floor*: the very rows that receive journaled, read back from its journal,
  inserted into a copy of the journal as it was before, and nothing else: multi-row
  ``INSERT`` statements as the journal makes them (up to 2,500 rows each, where SQLite's
  parameter limit allows; their parameters laid out before the clock starts) into the items
  table with its indexes, in one transaction, committed as receive commits
  (``synchronous = FULL``, the writer's 64 MiB page cache) and checkpointed as SQLite's
  automatic checkpoint does after a commit (``PASSIVE``); foreign keys are not checked;
- *the journal's floor with a narrow payload*: the same, each row's payload (``data``, about
  415 bytes of JSON a payment, most of a row) written as a compact JSON array of its values
  (about 180 bytes), what a payload whose field names stood in one table of the code would
  hold: what the payload's width costs the floor;
- the issue's floor for the same delivery: bare slicing + bare SQLite.

It prints each run and the medians: the journal's floor as a share of the receive, and the
issue's ratio (bare / receive, goal >= 0.3) next to the same ratio with the journal's floor
in the place of the receive, the most that any receive journaling these rows could reach (and
with the narrow payload's floor, the most if the payload were narrowed).
Writes bench/results/receive_floor.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import month_end  # noqa: E402
from toekgw.gateway.journal._sqlite_connection import (  # noqa: E402
    ROWS_PER_INSERT,
    WRITER_CACHE_KIB,
    _insert_sql,
    chunks,
)

RESULTS = ROOT / "bench" / "results"
NARROW = "narrow floor"  # the journal's floor with narrow payloads


def _statements(
    db: sqlite3.Connection, rows: list[tuple[object, ...]], columns: list[str]
) -> list[tuple[str, list[object]]]:
    """The journal's multi-row inserts of ``rows``: its statement text and as many rows a
    statement as it takes on ``db`` (:meth:`JournalConnection._insert_maker`)."""
    names = tuple(columns)
    limit = db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = max(1, min(ROWS_PER_INSERT, limit // len(names)))
    return [
        (_insert_sql("items", names, len(part)), [value for row in part for value in row])
        for part in chunks(rows, per)
    ]


def narrow_payload(data: str) -> str:
    """A payment's payload as the compact JSON array of its values, in their order."""
    return json.dumps(list(json.loads(data).values()), separators=(",", ":"), ensure_ascii=False)


def journal_floor(before: Path, after: Path, *, narrow: bool = False) -> dict[str, float]:
    """Insert into ``before`` (a copy of the journal before the delivery) the items ``after``
    (the journal that received it) holds for its last transmission; seconds per step. With
    ``narrow``, each payload as :func:`narrow_payload` makes it (laid out before the clock)."""
    source = sqlite3.connect(after)
    columns = [r[1] for r in source.execute("PRAGMA table_info(items)") if r[1] != "id"]
    rows = source.execute(
        f"SELECT {', '.join(columns)} FROM items "
        "WHERE transmission_id = (SELECT max(transmission_id) FROM items) ORDER BY id"
    ).fetchall()
    source.close()
    if narrow:
        at = columns.index("data")
        rows = [(*r[:at], narrow_payload(r[at]), *r[at + 1 :]) for r in rows]
    db = sqlite3.connect(before, isolation_level=None)
    statements = _statements(db, rows, columns)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
    db.execute("PRAGMA wal_autocheckpoint = 0")  # run by hand below, timed apart
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    for sql, parameters in statements:
        db.execute(sql, parameters)
    inserted = time.perf_counter()
    db.execute("COMMIT")
    committed = time.perf_counter()
    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    end = time.perf_counter()
    done = resource.getrusage(resource.RUSAGE_SELF)
    db.close()
    cpu = (done.ru_utime - usage.ru_utime) + (done.ru_stime - usage.ru_stime)
    return {
        "count": len(rows),
        "wall_s": end - start,
        "cpu_s": cpu,
        "insert_s": inserted - start,
        "commit_s": committed - inserted,
        "checkpoint_s": end - committed,
    }


def _child_floor(before: Path, after: Path, *, narrow: bool = False) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--floor", str(before), str(after)]
        + (["--narrow"] if narrow else []),
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def prepare(work: Path, before: int, payments: int) -> tuple[Path, Path]:
    """The month's first ``before`` deliveries received in ``work/month``; the last delivery
    apart, in ``work/last/``."""
    month = work / "month"
    month_end.generate(month, (before + 1) * payments, payments)
    deliveries = sorted((month / "ksd").glob("G68_*.g68"))
    last = work / "last" / deliveries[-1].name
    last.parent.mkdir()
    deliveries[-1].rename(last)
    month_end.stage_send(month)
    month_end.run("receive g68", month)
    for delivery in deliveries[:-1]:
        delivery.unlink()
    return month, last


def one_run(month: Path, last: Path, where: Path) -> dict[str, dict[str, float]]:
    """Receive, the journal's floor and the issue's floor, each on a fresh copy."""
    shutil.copytree(month, where)
    shutil.copy(last, where / "ksd" / last.name)
    shutil.copy(month / "journal.sqlite", where / "floor.sqlite")
    shutil.copy(month / "journal.sqlite", where / "narrow.sqlite")
    month_end.stage_send(where)
    figures = {"receive g68": month_end.run("receive g68", where)}
    figures["journal floor"] = _child_floor(where / "floor.sqlite", where / "journal.sqlite")
    figures[NARROW] = _child_floor(where / "narrow.sqlite", where / "journal.sqlite", narrow=True)
    # The stage counts the journal's payments; the delivery's are the rows the floor inserts.
    figures["receive g68"]["count"] = figures["journal floor"]["count"]
    for name in ("bare slicing", "bare sqlite"):
        figures[name] = month_end.run(name, where)
    shutil.rmtree(where)
    return figures


def _ratios(f: dict[str, dict[str, float]], on: str) -> dict[str, float]:
    bare = f["bare slicing"][on] + f["bare sqlite"][on]
    return {
        "floor_share_of_receive": f["journal floor"][on] / f["receive g68"][on],
        "bare_vs_receive": bare / f["receive g68"][on],
        "bare_vs_journal_floor": bare / f["journal floor"][on],
        "bare_vs_narrow_floor": bare / f[NARROW][on],
    }


def _show(n: int, f: dict[str, dict[str, float]]) -> None:
    for name, s in f.items():
        extra = ""
        if name in ("journal floor", NARROW):
            extra = (
                f"  (insert {s['insert_s']:.2f}, commit {s['commit_s']:.2f}, "
                f"checkpoint {s['checkpoint_s']:.2f})"
            )
        seconds = f"{s['wall_s']:7.2f} s {s['cpu_s']:7.2f} s CPU"
        print(f"run {n} {name:14} {s['count']:>8,} {seconds}{extra}")
    print(f"run {n} ratios on wall {_round(_ratios(f, 'wall_s'))}")


def _round(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in values.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=int, default=10, help="deliveries received before")
    parser.add_argument("--payments", type=int, default=91_000, help="payments a delivery")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "receive_floor.json")
    parser.add_argument("--floor", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--narrow", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        print(json.dumps(journal_floor(*args.floor, narrow=args.narrow)))
        return
    work = Path(tempfile.mkdtemp(prefix="bench-receive-floor-"))
    try:
        month, last = prepare(work, args.before, args.payments)
        runs = []
        for n in range(1, args.runs + 1):
            runs.append(one_run(month, last, work / f"run{n}"))
            _show(n, runs[-1])
    finally:
        shutil.rmtree(work)
    medians = {}
    for on in ("wall_s", "cpu_s"):
        each = [_ratios(r, on) for r in runs]
        medians[on] = _round({k: statistics.median(e[k] for e in each) for k in each[0]})
    print(f"medians on wall {medians['wall_s']}; on CPU {medians['cpu_s']}")
    result = {
        "bench": "receive_floor",
        "before": args.before,
        "payments": args.payments,
        "runs": runs,
        "medians": medians,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average": os.getloadavg(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(args.out)


if __name__ == "__main__":
    main()
