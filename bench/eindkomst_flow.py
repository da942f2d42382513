"""Bench: the eIndkomst round trip over the journal and the SQLite queue.

    .venv/bin/python bench/eindkomst_flow.py [--sizes 20000,100000]

For N recipients (A-income 0014 and A-tax 0015 each): send (build, validate against the
journal's history, journal every report and recipient, put), the simulator's answer (validate
with its history, ledger, 7100s), receive (journal and apply the receipts), the per-report
reconciliation, and a supplementary report correcting a tenth of the recipients downwards
(one history lookup per person). Each size runs in a fresh child process (its own peak RSS).

Writes ``bench/results/eindkomst_flow.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toekgw.adapters.eindkomst import EindkomstGateway, MqRoute, report_lines  # noqa: E402
from toekgw.formats.eindkomst import IncomeReport, Recipient, Sender  # noqa: E402
from toekgw.gateway.journal import open_journal  # noqa: E402
from toekgw.gateway.transport.mq import SqliteQueue  # noqa: E402
from toekgw.simulators.eindkomst import (  # noqa: E402
    DEFAULT_REPLY_QUEUE,
    DEFAULT_REQUEST_QUEUE,
    EindkomstSimulator,
)

SE = "12345674"
MONTH = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def _cpr(i: int) -> str:
    # Unique for i < 16,800,000; serial below 1000 (7th digit 0: born in the 1900s).
    d = i % 16_800
    return f"{1 + d % 28:02d}{1 + (d // 28) % 12:02d}{50 + d // 336:02d}{i // 16_800:04d}"


def _report(people: dict[str, int], key: str) -> IncomeReport:
    recipients = [
        Recipient(
            cpr=c, amounts={"0014": a, "0015": max(a, 0) * 38 // 100} if a > 0 else {"0014": a}
        )
        for c, a in people.items()
    ]
    return IncomeReport(SE, *MONTH, dt.date(2026, 11, 27), "06", recipients, key=key)


def run_one(n: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        journal = open_journal(base / "journal.sqlite")
        queue = SqliteQueue(base / "queues.sqlite")
        gw = EindkomstGateway(
            journal,
            MqRoute(queue, DEFAULT_REQUEST_QUEUE, DEFAULT_REPLY_QUEUE),
            sender=Sender(SE, SE),
            outbox=base / "outbox",
        )
        sim = EindkomstSimulator(queue, base / "ledger.sqlite")
        people = {_cpr(i): 100_000 + i for i in range(n)}
        report = _report(people, "main")
        rss_input = _rss_mb()
        t0 = time.perf_counter()
        sent = gw.send([report])
        t1 = time.perf_counter()
        rss_send = _rss_mb()
        sim.drain()
        t2 = time.perf_counter()
        got = gw.receive()
        t3 = time.perf_counter()
        lines = report_lines(
            journal, now=dt.datetime.now(dt.UTC), overdue_after=dt.timedelta(hours=24)
        )
        t4 = time.perf_counter()
        fixes = {c: -1 for c in list(people)[: n // 10]}
        gw.send([_report(fixes, "fix")])
        t5 = time.perf_counter()
        accepted = sum(1 for line in lines if line.result.status.value == "accepted")
        sim.ledger.close()
        queue.close()
        journal.close()
    return {
        "recipients": n,
        "deliveries": len(sent.transmissions),
        "reports": len(sent.report_ids),
        "reports_accepted": accepted,
        "sum_receipts": got.sum_receipts,
        "send_s": round(t1 - t0, 3),
        "send_recipients_per_s": round(n / (t1 - t0)),
        "simulator_s": round(t2 - t1, 3),
        "receive_s": round(t3 - t2, 3),
        "reconcile_s": round(t4 - t3, 3),
        "correction_recipients": n // 10,
        "correction_send_s": round(t5 - t4, 3),
        "maxrss_input_mb": rss_input,  # the input report held in memory
        "maxrss_after_send_mb": rss_send,
        "maxrss_mb": _rss_mb(),  # with the simulator (its history is in memory) in-process
    }


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--child", type=int)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child)))
        return
    runs = []
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(size)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout))
        print(json.dumps(runs[-1]))
    result = {
        "bench": "eindkomst_flow",
        "command": f"python bench/eindkomst_flow.py --sizes {args.sizes}",
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.system()}",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "runs": runs,
    }
    target = ROOT / "bench" / "results" / "eindkomst_flow.json"
    target.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
