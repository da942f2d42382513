"""Journal and inbound throughput. Run: .venv/bin/python -m pytest bench/bench_journal.py

Never part of ``make test``. Measures: journaling 100,000 items in one durable transaction
(executemany in batches), and a whole receive of a 99,999-payment delivery on a local
directory (download, SHA-256, a line-per-payment validation, journal, remote clean-up).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.crashkit import LineProcessor, delivery_bytes
from toekgw.adapters.serviceplatform import receive_pipeline
from toekgw.gateway.inbound import InboundPipeline
from toekgw.gateway.journal import (
    Direction,
    KindSpec,
    Lifecycle,
    NewItem,
    NewTransmission,
    open_journal,
)
from toekgw.gateway.transport import LocalDirTransport

KIND = KindSpec("bench", Direction.IN, Lifecycle(("new",), {}), Lifecycle(("received",), {}))
_counter = itertools.count()


def test_journal_100k_items(benchmark: Any, tmp_path: Path) -> None:
    journal = open_journal(tmp_path / "j.sqlite")
    journal.define_kind(KIND)

    def run() -> None:
        n = next(_counter)
        with journal.transaction(durable=True):
            tx = journal.create_transmission(NewTransmission("c", "bench", "new", ref=f"r{n}"))
            journal.add_items(
                tx.id,
                (NewItem(f"{n}-{i:06d}", i, seq=i, fingerprint=f"{i}") for i in range(100_000)),
                state="received",
                reason="bench",
            )

    benchmark.pedantic(run, rounds=3, iterations=1)


def test_receive_99999_payments_localdir(benchmark: Any, tmp_path: Path) -> None:
    from toekgw.formats.serviceplatform import FileDescriptor, Trigger, build_trigger
    from toekgw.simulators.serviceplatform import Platform

    def setup() -> tuple[tuple[InboundPipeline], dict[str, Any]]:
        n = next(_counter)
        base = tmp_path / str(n)
        platform = Platform(base / "sp")
        platform.add_party("ksd")
        platform.add_party("toek")
        data = delivery_bytes(f"S/{n}", 99_999)
        out = platform.party_dir("ksd") / "OUT"
        (out / "BIG.txt").write_bytes(data)
        trigger = Trigger(FileDescriptor("BIG.txt", len(data), "ksd", ("toek",)))
        (out / "BIG.txt.trigger").write_bytes(build_trigger(trigger))
        platform.scan()
        pipeline = receive_pipeline(
            open_journal(base / "j.sqlite"),
            LocalDirTransport(platform.party_dir("toek")),
            LineProcessor(),
            party="toek",
            senders=["ksd"],
            staging=base / "staging",
        )
        return (pipeline,), {}

    def run(pipeline: InboundPipeline) -> None:
        (outcome,) = pipeline.poll_once()
        assert outcome.status == "received"

    benchmark.pedantic(run, setup=setup, rounds=3, iterations=1)
