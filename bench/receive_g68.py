"""Bench: receive G68 deliveries of 99,999 payments (the most one delivery holds) from a
local directory into a fresh journal, the work of ``toekgw receive g68`` without the network.

    .venv/bin/python bench/receive_g68.py [--payments 99999] [--deliveries 1] [--runs 3]

Each run is a fresh process (a fresh journal, and its peak memory on its own) receiving every
delivery in one poll: metadata read, staged copy with SHA-256, the G68 reader's full
validation, the second (decode-only) pass and the journal's batched inserts in one durable
transaction per delivery, then the remote removal. In the same run, on the same files, the
issue's baseline (:mod:`bench.baselines`: bare slicing + bare SQLite insert and batched
update), so the ratio compares times taken under the same load, on wall and on CPU time (the
steadier on a shared machine). Prints the medians, payments per second, the ratios (goal
>= 0.3) and the peak RSS (``--deliveries 3`` against 1: memory must not grow); writes
bench/results/receive_g68.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.baselines import bare_slicing, bare_sqlite  # noqa: E402
from toekgw.adapters.g68 import G68Processor  # noqa: E402
from toekgw.adapters.serviceplatform import ReceiveSettings, receive_pipeline  # noqa: E402
from toekgw.formats.serviceplatform import FileDescriptor, Trigger, build_trigger  # noqa: E402
from toekgw.gateway.inbound import InboundPipeline  # noqa: E402
from toekgw.gateway.journal import Journal, open_journal  # noqa: E402
from toekgw.gateway.transport import LocalDirTransport  # noqa: E402
from toekgw.simulators.ksd import GeneratorSettings, write_delivery  # noqa: E402
from toekgw.simulators.serviceplatform import Platform  # noqa: E402

TODAY = dt.date(2026, 11, 23)
RESULTS = ROOT / "bench" / "results"


def g68_pipeline(journal: Journal, base: Path) -> InboundPipeline:
    """``toekgw receive g68``'s pipeline (as on :data:`TODAY`) over the platform under
    ``base`` (:func:`prepare`), staging in ``base``."""
    return receive_pipeline(
        journal,
        LocalDirTransport(base / "platform" / "parties" / "toek"),
        G68Processor(ReceiveSettings("g68", ("ksd",), "ksd"), today=TODAY),
        party="toek",
        senders=["ksd"],
        staging=base / "staging",
    )


def timed_receive(base: Path) -> tuple[float, float, int]:
    """One receive of what waits in ``base``'s IN/ into ``base``'s journal: its seconds (wall,
    CPU), and how many payments the journal then holds."""
    journal = open_journal(base / "journal.sqlite")
    pipeline = g68_pipeline(journal, base)
    start, cpu = time.perf_counter(), time.process_time()
    outcomes = pipeline.poll_once()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert outcomes and all(o.status == "received" for o in outcomes), outcomes
    items = sum(t.item_count for t in journal.transmissions())
    journal.close()
    return seconds, cpu, items


def child(base: Path) -> None:
    """One receive; prints seconds, CPU seconds, items and peak RSS (KiB) as JSON."""
    seconds, cpu, items = timed_receive(base)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu": cpu, "items": items, "peak_rss_kib": peak}))


def prepare(base: Path, *deliveries: Path) -> None:
    """A platform in ``base`` with the deliveries waiting in TØK's IN/."""
    platform_ = Platform(base / "platform")
    platform_.add_party("ksd")
    platform_.add_party("toek")
    out = platform_.party_dir("ksd") / "OUT"
    for n, delivery in enumerate(deliveries, start=1):
        data = delivery.read_bytes()
        name = "G68_BENCH.txt" if len(deliveries) == 1 else f"G68_BENCH{n:02d}.txt"
        (out / name).write_bytes(data)
        trigger = Trigger(FileDescriptor(name, len(data), "ksd", ("toek",)))
        (out / f"{name}.trigger").write_bytes(build_trigger(trigger))
    assert platform_.scan() == len(deliveries)


def _baseline(work: Path, deliveries: list[Path]) -> tuple[float, float]:
    """Bare slicing + bare SQLite of the same rows: wall and CPU seconds."""
    start, cpu = time.perf_counter(), time.process_time()
    bare_slicing(deliveries)
    bare_sqlite(deliveries, work / "bare.sqlite")
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=99_999)
    parser.add_argument("--deliveries", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-receive-g68-"))
    deliveries = [work / f"delivery{n}.g68" for n in range(1, args.deliveries + 1)]
    for n, delivery in enumerate(deliveries, start=1):
        settings = GeneratorSettings(
            count=args.payments, seed=67 + n, error_rate=0.001, today=TODAY, delivery_number=n
        )
        write_delivery(delivery, settings)
    runs = []
    for n in range(args.runs):
        base = work / f"run{n}"
        prepare(base, *deliveries)
        bare_wall, bare_cpu = _baseline(work, deliveries)
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(base)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append({**json.loads(done.stdout), "bare_s": bare_wall, "bare_cpu": bare_cpu})
    seconds = statistics.median(r["seconds"] for r in runs)
    payments = args.payments * args.deliveries
    result = {
        "bench": "receive_g68",
        "payments": payments,
        "deliveries": args.deliveries,
        "journaled": runs[0]["items"],
        "bytes": sum(d.stat().st_size for d in deliveries),
        "runs": args.runs,
        "receive_s": round(seconds, 3),
        "receive_cpu_s": round(statistics.median(r["cpu"] for r in runs), 3),
        "bare_s": round(statistics.median(r["bare_s"] for r in runs), 3),
        "bare_cpu_s": round(statistics.median(r["bare_cpu"] for r in runs), 3),
        # the ratio (at least 0.3 wanted), each run's own baseline, the median
        "ratio": round(statistics.median(r["bare_s"] / r["seconds"] for r in runs), 3),
        "ratio_cpu": round(statistics.median(r["bare_cpu"] / r["cpu"] for r in runs), 3),
        "payments_per_s": round(payments / seconds),
        "peak_rss_mib": round(max(r["peak_rss_kib"] for r in runs) / 1024, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "receive_g68" if args.deliveries == 1 else f"receive_g68_x{args.deliveries}"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
