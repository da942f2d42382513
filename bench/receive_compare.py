"""Receive the same G68 deliveries into a fresh journal and write its rows in a canonical form,
to compare two versions of the receiver row by row (all but ids and timestamps).

    .venv/bin/python bench/receive_compare.py --out mine.jsonl
    /work/main/.venv/bin/python bench/receive_compare.py --out main.jsonl
    diff mine.jsonl main.jsonl     # nothing: the journals hold the same rows

Run with each version's interpreter (its own ``toekgw``). The deliveries cover the receiver's
paths: a fast-form delivery with planted errors and recalls, a floating-form one, the first
one again under a new delivery number (every ident reused, every payment a suspected
duplicate), and one refused whole (a wrong control total). Each goes through
``receive_pipeline`` as ``toekgw receive g68`` does; the dump is every table but the hash chain
(whose links hash the timestamps), rows in id order, ids, timestamps, transfer UUIDs and the
run's directory replaced by placeholders.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.receive_g68 import TODAY, prepare  # noqa: E402
from toekgw.adapters.g68 import G68Processor  # noqa: E402
from toekgw.adapters.serviceplatform import ReceiveSettings, receive_pipeline  # noqa: E402
from toekgw.formats.g68 import G68Form  # noqa: E402
from toekgw.gateway.journal import open_journal  # noqa: E402
from toekgw.gateway.transport import LocalDirTransport  # noqa: E402
from toekgw.simulators.ksd import GeneratorSettings, write_delivery  # noqa: E402

_DELIVERIES = (
    GeneratorSettings(count=4000, seed=1, error_rate=0.01, today=TODAY, delivery_number=1),
    GeneratorSettings(
        count=2000, seed=2, error_rate=0.01, today=TODAY, delivery_number=2, form=G68Form.FLOATING
    ),
)
_SKIP_TABLES = {"chain", "schema_migrations"}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")


def _deliveries(work: Path) -> list[Path]:
    """The two generated deliveries; the first again under delivery number 3 (its Z300 from
    a generation numbered 3: every payment ident reused); the second under number 4 with its
    control total one off (refused whole)."""
    paths = []
    for n, settings in enumerate(_DELIVERIES, start=1):
        paths.append(work / f"delivery{n}.g68")
        write_delivery(paths[-1], settings)
    renumbered = work / "renumbered.g68"
    write_delivery(renumbered, replace(_DELIVERIES[0], delivery_number=3))
    head = renumbered.read_bytes().splitlines(keepends=True)[0]
    renumbered.write_bytes(head + b"".join(paths[0].read_bytes().splitlines(keepends=True)[1:]))
    broken = work / "broken.g68"
    write_delivery(broken, replace(_DELIVERIES[1], delivery_number=4))
    lines = broken.read_bytes().splitlines(keepends=True)
    last = lines[-1].rstrip(b"\r\n")
    digit = last.rstrip()[-1:]
    at = len(last.rstrip()) - 1
    lines[-1] = lines[-1][:at] + (b"1" if digit != b"1" else b"2") + lines[-1][at + 1 :]
    broken.write_bytes(b"".join(lines))
    return [*paths, renumbered, broken]


def receive_all(work: Path) -> Path:
    """Each delivery received in turn into ``work``'s journal."""
    journal_path = work / "journal.sqlite"
    for path in _deliveries(work):
        base = work / path.stem
        prepare(base, path)
        journal = open_journal(journal_path)
        pipeline = receive_pipeline(
            journal,
            LocalDirTransport(base / "platform" / "parties" / "toek"),
            G68Processor(ReceiveSettings("g68", ("ksd",), "ksd"), today=TODAY),
            party="toek",
            senders=["ksd"],
            staging=base / "staging",
        )
        (outcome,) = pipeline.poll_once()
        print(path.name, outcome.status, file=sys.stderr)
        journal.close()
    return journal_path


def _keep(column: str) -> bool:
    return not (column == "id" or column == "at" or column.endswith("_at"))


def dump(journal_path: Path, work: Path, out: Path) -> None:
    db = sqlite3.connect(journal_path)
    tables = [
        r[0]
        for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        if r[0] not in _SKIP_TABLES and not r[0].startswith("sqlite_")
    ]
    with out.open("w", encoding="utf-8") as handle:
        for table in tables:
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if _keep(r[1])]
            order = (
                "id"
                if any(r[1] == "id" for r in db.execute(f"PRAGMA table_info({table})"))
                else "rowid"
            )
            for row in db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"):
                text = json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False)
                text = _UUID.sub("<uuid>", text.replace(str(work), "<work>"))
                text = _STAMP.sub("<time>", text)
                handle.write(f"{table} {text}\n")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="receive-compare-"))
    dump(receive_all(work), work, args.out.resolve())
    print(f"{sum(1 for _ in args.out.open())} rows written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
