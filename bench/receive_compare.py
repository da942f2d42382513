"""Compare the G68 receiver of two code trees on deliveries that take each of its paths:
journals row by row except ids and times (``bench/month_compare.py``'s comparison).

    .venv/bin/python bench/receive_compare.py --other /work/main/src

The deliveries: a fast-form delivery with planted errors and recalls, a floating-form one, the
first again under a new delivery number (every payment ident reused) and one with its control
total one off (refused whole), the second again from another data supplier (the journal's
duplicate-payment match), each received through ``receive_pipeline`` as ``toekgw receive
g68`` does, into one journal per tree. Then each journal's hash chain is verified by the other
tree's code and the journals are compared; exit 1 when they differ.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.month_compare import compare, verify  # noqa: E402
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


def _deliveries(work: Path) -> list[Path]:
    """The two generated deliveries; the first again under delivery number 3 (its Z300 from
    a generation numbered 3: every payment ident reused); the second under number 4 with its
    control total one off (refused whole), and again from another data supplier."""
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
    # The second delivery from another data supplier: new business keys, the same
    # fingerprints (the journal's duplicate-payment match) and control keys.
    other = work / "other_supplier.g68"
    write_delivery(other, replace(_DELIVERIES[1], supplier_id="12345674"))
    return [*paths, renumbered, broken, other]


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


def _run(src: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(ROOT / "bench")])}
    done = subprocess.run(
        [sys.executable, __file__, *args], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--other", type=Path, help="the other tree's src/")
    parser.add_argument("--receive", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--verify", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receive:
        receive_all(args.receive)
        return
    if args.verify:
        verify(args.verify)
        return
    if args.other is None:
        parser.error("--other is required")
    base = Path(tempfile.mkdtemp(prefix="bench-receive-compare-"))
    ours, theirs = base / "ours", base / "theirs"
    for work, src in ((ours, ROOT / "src"), (theirs, args.other)):
        work.mkdir()
        _run(src, "--receive", str(work))
    for name, src, work in (("ours", args.other, ours), ("theirs", ROOT / "src", theirs)):
        verified = _run(src, "--verify", str(work / "journal.sqlite")).strip()
        print(f"chain ({name}, verified by the other tree): {verified}")
    differences = compare(ours / "journal.sqlite", theirs / "journal.sqlite")
    print(f"{differences} differences ({base})")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
