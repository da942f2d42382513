"""Bench: the NemKonto flow from the journal, step by step, for one month-end's payments.

    .venv/bin/python bench/nemkonto_flow.py [--payments 25000]

Journals N payments of one municipality and date (as the G68 receiver does), then times
release (bundling and journaling), send (build again, check, put), the simulator's answers
(2 % rejected), receive (answers to payment states) and the reconciliation. Wall-clock seconds
of one run on the embedded SQLite journal and queue; writes bench/results/nemkonto_flow.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.nemkonto_flow_data import (  # noqa: E402
    SETTINGS,
    TODAY,
    instruction,
    journal_delivery,
    new_journal,
)
from toekgw.adapters.nemkonto import (  # noqa: E402
    receive_answers,
    reconcile_bundles,
    release,
    send_bundles,
)
from toekgw.gateway.transport.mq import SqliteQueue  # noqa: E402
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=25_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    journal = new_journal(work / "journal.sqlite")
    queue = SqliteQueue(work / "queues.sqlite")
    seconds: dict[str, float] = {}

    def timed(name: str, step):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        result = step()
        seconds[name] = round(time.perf_counter() - start, 2)
        print(f"{name:10s} {seconds[name]:6.2f} s")
        return result

    timed(
        "journal", lambda: journal_delivery(journal, [instruction(n) for n in range(args.payments)])
    )
    result = timed("release", lambda: release(journal, SETTINGS, TODAY))
    timed("send", lambda: send_bundles(journal, queue, SETTINGS))
    sim = NemKontoSimulator(
        queue, work / "ledger.sqlite", SimulatorScript(reject_share=0.02, seed=1)
    )
    timed("simulator", sim.drain)
    timed("receive", lambda: receive_answers(journal, queue, SETTINGS))
    rec = timed("reconcile", lambda: reconcile_bundles(journal, SETTINGS, TODAY))
    out = {
        "payments": args.payments,
        "bundles": [b.count for b in result.bundles],
        "seconds": seconds,
        "total": rec.total.as_dict(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    path = ROOT / "bench" / "results" / "nemkonto_flow.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"received = accepted + rejected + outstanding: {rec.total.balanced}; {path}")


if __name__ == "__main__":
    main()
