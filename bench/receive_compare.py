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
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.month_compare import cross_check, run_in  # noqa: E402
from bench.receive_g68 import TODAY, g68_pipeline, prepare  # noqa: E402
from toekgw.formats.g68 import G68Form  # noqa: E402
from toekgw.gateway.journal import open_journal  # noqa: E402
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
        (outcome,) = g68_pipeline(journal, base).poll_once()
        print(path.name, outcome.status, file=sys.stderr)
        journal.close()
    return journal_path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--other", type=Path, help="the other tree's src/")
    parser.add_argument("--receive", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receive:
        receive_all(args.receive)
        return
    if args.other is None:
        parser.error("--other is required")
    base = Path(tempfile.mkdtemp(prefix="bench-receive-compare-"))
    for work, src in ((base / "ours", ROOT / "src"), (base / "theirs", args.other)):
        work.mkdir()
        run_in(src, __file__, "--receive", str(work))
    cross_check(base, args.other)


if __name__ == "__main__":
    main()
