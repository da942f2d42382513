"""Bench: what the duplicate-payment control costs at receive and at release, as ratios to the
same work without the controls, in the same run.

    .venv/bin/python bench/duplicates.py [--payments 99999] [--runs 1]

N defaults to 99,999 (the most one G68 delivery holds: about 100k payments a run). A journal
holds last run's delivery of N payments (received once, copied for every
measurement). Then, each in a fresh process on its own copy:

- **receive**: a second G68 delivery of N payments (``toekgw receive g68`` without the network),
  with the control (every payment's key looked up in the journal in batches) and without it
  (its per-payment step and its journal look-ups replaced by no-ops in that process only; the
  keys are still made, a block at a time with the idents, and a clean run's checked within
  the delivery as it is taken whole);
- **release**: every pending payment (2N) released and bundled, with ``PaymentControls`` (the
  duplicate scan, the limits and accounts of an empty ``[payments]``) and with none.

Prints each ratio (with / without; 1.0 = free), of wall time and of the process's CPU time
(the steadier figure on a shared machine; both count from the step's start, the journal's opening
included), and writes bench/results/duplicates.json. No assertion on time: the figures
are for reading. Never part of ``make test``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from receive_g68 import TODAY, prepare, timed_receive  # noqa: E402

from toekgw.adapters.g68 import first_pass  # noqa: E402
from toekgw.adapters.nemkonto import Authority, FlowSettings, release  # noqa: E402
from toekgw.adapters.payments import PaymentControls, PaymentsSettings  # noqa: E402
from toekgw.formats.nemkonto import Account  # noqa: E402
from toekgw.gateway.journal import open_journal  # noqa: E402
from toekgw.simulators.ksd import GeneratorSettings, write_delivery  # noqa: E402

RESULTS = ROOT / "bench" / "results"
FLOW = FlowSettings(authorities={"101": Authority("29189846", "4711", Account("1234", "1"))})
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def child(step: str, base: Path, controls: bool) -> None:
    """One measured step in this process; prints its wall and CPU seconds as JSON."""
    cpu = time.process_time()
    if step == "receive":
        if not controls:  # the same receive, without the duplicate-payment control
            first_pass.FirstPass._control = lambda self, line, ident, key: None  # type: ignore
            first_pass.FirstPass._control_lookup = lambda self: None  # type: ignore
        seconds, _cpu, _ = timed_receive(base)
    else:
        journal = open_journal(base / "journal.sqlite")
        checks = PaymentControls(PaymentsSettings(), NOW) if controls else None
        start = time.perf_counter()
        result = release(journal, FLOW, TODAY + dt.timedelta(days=60), now=NOW, controls=checks)
        seconds = time.perf_counter() - start
        assert result.released > 0, result
        journal.close()
    print(json.dumps({"seconds": seconds, "cpu": time.process_time() - cpu}))


def measure(step: str, source: Path, base: Path, controls: bool) -> dict[str, float]:
    shutil.rmtree(base, ignore_errors=True)
    shutil.copytree(source, base)
    done = subprocess.run(
        [sys.executable, __file__, "--child", step, str(base), "--controls", str(int(controls))],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=99_999)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--controls", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), bool(args.controls))
        return
    work = Path(tempfile.mkdtemp(prefix="bench-duplicates-"))
    first, second = work / "first.g68", work / "second.g68"
    for path, number, seed in ((first, 1, 68), (second, 2, 69)):
        write_delivery(
            path,
            GeneratorSettings(count=args.payments, seed=seed, today=TODAY, delivery_number=number),
        )
    # The journal with last run's delivery, and the second delivery waiting in our IN/.
    last_run = work / "last-run"
    prepare(last_run, first)
    timed_receive(last_run)
    shutil.rmtree(last_run / "platform")
    shutil.rmtree(last_run / "staging", ignore_errors=True)
    prepare(last_run, second)
    figures: dict[str, dict[str, float]] = {}
    received = work / "received"  # both deliveries journaled: what a release meets
    shutil.copytree(last_run, received)
    timed_receive(received)
    for step, source in (("receive", last_run), ("release", received)):
        with_, without = [], []
        for n in range(args.runs):
            without.append(measure(step, source, work / f"{step}-without-{n}", False))
            with_.append(measure(step, source, work / f"{step}-with-{n}", True))
        figures[step] = {}
        for name, unit in (("seconds", "wall"), ("cpu", "cpu")):
            a = statistics.median(r[name] for r in with_)
            b = statistics.median(r[name] for r in without)
            figures[step] |= {
                f"with_{unit}_s": round(a, 3),
                f"without_{unit}_s": round(b, 3),
                f"{unit}_ratio": round(a / b, 2),
            }
            print(f"{step} ({unit}): with the controls {a:.2f} s, without {b:.2f} s: "
                  f"ratio {a / b:.2f}")  # fmt: skip
    result = {
        "bench": "duplicates",
        "payments_per_delivery": args.payments,
        "runs": args.runs,
        **figures,
        "python": platform.python_version(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "duplicates.json").write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
