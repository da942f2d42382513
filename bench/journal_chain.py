"""The hash chain's cost: journaling a delivery of N payments with the chain against the same
without it (the baseline), in one run; and verifying the chain afterwards.

Each journal commit ends with one link over the rows it added (docs/operations.md, "The hash
chain"). Prints CPU seconds of both and their ratio, and the verification's, and writes
bench/results/journal_chain.json. Never part of ``make test``.

    .venv/bin/python bench/journal_chain.py [--count 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.nemkonto_flow_data import instruction, journal_delivery
from toekgw.gateway.journal import open_journal

RESULTS = Path(__file__).resolve().parent / "results" / "journal_chain.json"


def journal_once(count: int, *, chained: bool) -> tuple[float, float]:
    """CPU seconds to journal ``count`` payments, and to verify the chain (0 without it)."""
    payments = [instruction(n) for n in range(1, count + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        journal = open_journal(Path(tmp) / "journal.sqlite")
        journal._chained = chained  # the baseline: the same journal, no link at the commit
        started = time.process_time()
        journal_delivery(journal, payments)
        took = time.process_time() - started
        verify = 0.0
        if chained:
            started = time.process_time()
            report = journal.verify_chain()
            verify = time.process_time() - started
            assert not report.problems, report.problems
        journal.close()
    return took, verify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bases, chains, verifies = [], [], []
    for _ in range(args.rounds):
        bases.append(journal_once(args.count, chained=False)[0])
        took, verify = journal_once(args.count, chained=True)
        chains.append(took)
        verifies.append(verify)
    base, chain, verify = min(bases), min(chains), min(verifies)
    result = {
        "payments": args.count,
        "journal_cpu_s_without_chain": round(base, 3),
        "journal_cpu_s_with_chain": round(chain, 3),
        "ratio": round(chain / base, 3),
        "verify_cpu_s": round(verify, 3),
    }
    print(
        f"journal {args.count} payments: {base:.2f} s CPU without the chain, {chain:.2f} s "
        f"with it (ratio {chain / base:.2f}); verifying the chain {verify:.2f} s"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
