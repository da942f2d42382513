"""Bench: receive one G68 delivery of 99,999 payments (the most one delivery holds) from a
local directory into a fresh journal, the work of ``toekgw receive g68`` without the network.

    .venv/bin/python bench/receive_g68.py [--payments 99999] [--runs 3]

Each run is a fresh process (a fresh journal, and its peak memory on its own): metadata read,
staged copy with SHA-256, the G68 reader's full validation, the second (decode-only) pass and
the journal's batched inserts in one durable transaction, then the remote removal. Prints the
median wall time, payments per second and the peak RSS; writes bench/results/receive_g68.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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

from toekgw.adapters.g68 import G68Processor  # noqa: E402
from toekgw.adapters.serviceplatform import ReceiveSettings, receive_pipeline  # noqa: E402
from toekgw.formats.serviceplatform import FileDescriptor, Trigger, build_trigger  # noqa: E402
from toekgw.gateway.journal import open_journal  # noqa: E402
from toekgw.gateway.transport import LocalDirTransport  # noqa: E402
from toekgw.simulators.ksd import GeneratorSettings, write_delivery  # noqa: E402
from toekgw.simulators.serviceplatform import Platform  # noqa: E402

TODAY = dt.date(2026, 11, 23)
RESULTS = ROOT / "bench" / "results"


def timed_receive(base: Path) -> tuple[float, int]:
    """One receive of what waits in ``base``'s IN/ into ``base``'s journal: its seconds, and
    how many payments the journal then holds."""
    journal = open_journal(base / "journal.sqlite")
    pipeline = receive_pipeline(
        journal,
        LocalDirTransport(base / "platform" / "parties" / "toek"),
        G68Processor(ReceiveSettings("g68", ("ksd",), "ksd"), today=TODAY),
        party="toek",
        senders=["ksd"],
        staging=base / "staging",
    )
    start = time.perf_counter()
    (outcome,) = pipeline.poll_once()
    seconds = time.perf_counter() - start
    assert outcome.status == "received", outcome
    items = journal.transmissions()[-1].item_count
    journal.close()
    return seconds, items


def child(base: Path) -> None:
    """One receive; prints seconds, items and peak RSS (KiB) as JSON."""
    seconds, items = timed_receive(base)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "items": items, "peak_rss_kib": peak}))


def prepare(base: Path, delivery: Path) -> None:
    platform_ = Platform(base / "platform")
    platform_.add_party("ksd")
    platform_.add_party("toek")
    data = delivery.read_bytes()
    out = platform_.party_dir("ksd") / "OUT"
    (out / "G68_BENCH.txt").write_bytes(data)
    trigger = Trigger(FileDescriptor("G68_BENCH.txt", len(data), "ksd", ("toek",)))
    (out / "G68_BENCH.txt.trigger").write_bytes(build_trigger(trigger))
    assert platform_.scan() == 1
    assert (platform_.party_dir("toek") / "IN" / "G68_BENCH.txt").exists()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=99_999)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-receive-g68-"))
    delivery = work / "delivery.g68"
    write_delivery(
        delivery, GeneratorSettings(count=args.payments, seed=68, error_rate=0.001, today=TODAY)
    )
    runs = []
    for n in range(args.runs):
        base = work / f"run{n}"
        prepare(base, delivery)
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(base)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(done.stdout))
    seconds = statistics.median(r["seconds"] for r in runs)
    result = {
        "bench": "receive_g68",
        "payments": args.payments,
        "journaled": runs[0]["items"],
        "bytes": delivery.stat().st_size,
        "runs": args.runs,
        "receive_s": round(seconds, 3),
        "payments_per_s": round(args.payments / seconds),
        "peak_rss_mib": round(max(r["peak_rss_kib"] for r in runs) / 1024, 1),
        "python": platform.python_version(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "receive_g68.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
