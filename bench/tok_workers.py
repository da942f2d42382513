"""The month-end over TØK's interfaces with several workers, SIGKILLed at random (issue 15's
acceptance run, in ``make chaos``).

A case system (``toekgw.simulators.fagsystem``) orders ``--count`` messages over a private
RabbitMQ node (payment orders, a share straks, claims, recalls, 1% broken); ``--workers``
workers, each a machine of its own, run ``toekgw receive tok`` against one private PostgreSQL
journal again and again; each run is SIGKILLed after a random delay with the chance
``--kill-chance``; a killed run is run again (tests/tok_workers_kit.py). A run takes at most
``--run-messages`` messages, so the month is many runs and kills land all through it (a run
left unbounded would take the whole month if its first seconds passed unkilled). Then:
messages lost (sent, not journaled), doubled (journaled twice, or a payment item twice),
statuses not yet published, messages unanswered, and the status copies the case system
dropped by event id.

    python bench/tok_workers.py --count 200000 --workers 4 [--kill-chance 0.3]
        [--run-messages 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import start_postgresql, start_rabbitmq  # noqa: E402
from tests.tok_workers_kit import Worker, config_of, queues_of, run_workers, verify  # noqa: E402
from toekgw.gateway.transport.amqp_pika import PikaBroker  # noqa: E402
from toekgw.simulators.fagsystem import CaseSystem, Mix  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kill-chance", type=float, default=0.3)
    parser.add_argument("--kill-within", type=float, default=20.0)
    parser.add_argument(
        "--run-messages", type=int, default=2000,
        help="at most this many messages a run: a month of many runs, each may be killed",
    )  # fmt: skip
    parser.add_argument("--hours", type=float, default=3.0, help="give up after this long")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=ROOT / "bench/results/tok_workers.json")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with (
        tempfile.TemporaryDirectory() as work,
        start_rabbitmq(Path(work) / "rabbitmq") as node,
        start_postgresql(durable=True) as server,
    ):
        url = server.fresh()
        broker = PikaBroker(node.settings)
        case_system = CaseSystem(
            broker, sender="KP", municipality="29189846", queues=queues_of("month"),
            reply_queue="month.KP.status", now=lambda: dt.datetime.now(dt.UTC), seed=args.seed,
        )  # fmt: skip
        started = time.monotonic()
        case_system.send(args.count, Mix(broken=0.01))
        ordered = time.monotonic() - started
        workers = [
            Worker(config_of(Path(work), slot, url, node.port, "month"),
                   kill_chance=args.kill_chance, kill_within=args.kill_within,
                   run_messages=args.run_messages,
                   rng=random.Random(rng.random()))
            for slot in range(args.workers)
        ]  # fmt: skip
        run_workers(workers, time.monotonic() + args.hours * 3600)
        taken = time.monotonic() - started - ordered
        verdict = verify(url, case_system, node.settings)
        case_system.broker.close()
    result = {
        "count": args.count,
        "workers": args.workers,
        "ordered_s": round(ordered, 1),
        "taken_and_told_s": round(taken, 1),
        "runs": sum(len(w.codes) for w in workers),
        "kills": sum(w.kills for w in workers),
        "problems": [p for w in workers for p in w.problems],
        "lost": verdict.lost,
        "doubled": verdict.doubled,
        **{k: v for k, v in dataclasses.asdict(verdict).items() if k != "errors"},
        "errors": list(verdict.errors[:20]),
        "load_average": os.getloadavg(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    ok = not (verdict.lost or verdict.doubled or verdict.unpublished or verdict.errors)
    ok = ok and verdict.answered == verdict.sent and not result["problems"]
    print("acceptance:", "passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
