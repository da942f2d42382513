"""Bench: build and validate an eIndkomst report of N recipients (one 6001 each).

    .venv/bin/python bench/eindkomst_report.py [--sizes 100000,1000000]

Each size runs in a fresh child process, so its peak RSS (``ru_maxrss``) is its own: memory
is flat when the 1,000,000 run peaks near the 100,000 run. In the same child, the same records
are also formatted with bare ``zfill``/string concatenation (no engine, no checks, no ids): the
builder's rate is given as a ratio to that. Validation is compared with iterating the lines of
the same files. The bodies of the 6000/6001 lines written by the builder are checked against
the bare formatting (SHA-256), so both sides did the same work.

Writes ``bench/results/eindkomst_report.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toekgw.formats.eindkomst.report import (  # noqa: E402
    IncomeReport,
    Recipient,
    ReportBuilder,
    Sender,
)
from toekgw.formats.eindkomst.rules import validate_delivery  # noqa: E402

SE = "12345674"


def cpr(i: int) -> str:
    day = 1 + i % 28
    month = 1 + (i // 28) % 12
    year = 50 + (i // 336) % 50
    return f"{day:02d}{month:02d}{year:02d}{i % 1000:04d}"


def amount(i: int) -> int:
    return 1_000_000 + i % 100_000


def recipients(n: int) -> Iterator[Recipient]:
    for i in range(n):
        yield Recipient(cpr=cpr(i), amounts={"0013": amount(i)})


def report(n: int) -> IncomeReport:
    return IncomeReport(
        SE,
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 30),
        dt.date(2026, 11, 27),
        "00",
        recipients(n),
    )


def builder() -> ReportBuilder:
    return ReportBuilder(Sender(SE, SE), created=dt.datetime(2026, 11, 23, 12, 0))


def bare_lines(n: int) -> Iterator[str]:
    """The same 6000 and 6001 records, formatted by hand."""
    blank = " " * 66
    number = 0
    for i in range(n):
        number += 1
        yield str(number).zfill(7) + "6000" + "00000000" + cpr(i) + blank
        number += 1
        yield str(number).zfill(7) + "6001" + "0013" + str(amount(i)).zfill(16) + "+"


def child(n: int) -> dict[str, object]:
    # 1. bare formatting
    t = time.perf_counter()
    size = 0
    records = 0
    for line in bare_lines(n):
        size += len(line)
        records += 1
    bare_s = time.perf_counter() - t
    # 2. the builder, lines consumed in memory
    t = time.perf_counter()
    built = 0
    deliveries = 0
    for d in builder().deliveries([report(n)]):
        deliveries += 1
        for line in d.lines():
            size += len(line)
            built += 1
    build_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory(prefix="eik-bench-") as tmp:
        # 3. build again, writing the files
        t = time.perf_counter()
        paths = []
        for d in builder().deliveries([report(n)]):
            path = Path(tmp) / f"delivery-{d.index:04d}.txt"
            with path.open("wb", buffering=1 << 20) as fh:
                fh.writelines(d.chunks())
            paths.append(path)
        build_write_s = time.perf_counter() - t
        total_bytes = sum(p.stat().st_size for p in paths)
        # 4. iterate the lines of the files (the floor for any validator)
        t = time.perf_counter()
        lines = 0
        for path in paths:
            with path.open("rb") as fh:
                for _ in fh:
                    lines += 1
        iterate_s = time.perf_counter() - t
        # 5. validate
        t = time.perf_counter()
        groups = 0
        errors = 0
        for path in paths:
            with path.open("rb") as fh:
                check = validate_delivery(fh, today=dt.date(2026, 11, 30))
            groups += len(check.reports)
            errors += sum(1 for f in check.findings if f.is_error)
        validate_s = time.perf_counter() - t
        # 6. same work: the 6000/6001 bodies written equal the bare ones
        ours = hashlib.sha256()
        for path in paths:
            with path.open("rb") as fh:
                for raw in fh:
                    if raw[7:11] in (b"6000", b"6001"):
                        ours.update(raw[7:-2])
        bare = hashlib.sha256()
        for line in bare_lines(n):
            bare.update(line[7:].encode("iso-8859-1"))
    assert ours.digest() == bare.digest(), "builder and bare formatting differ"
    assert errors == 0, f"{errors} errors in our own deliveries"
    assert built == lines
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "recipients": n,
        "records": lines,
        "records_6000_group": records,
        "groups_5000": groups,
        "deliveries": deliveries,
        "bytes": total_bytes,
        "bare_format_s": round(bare_s, 3),
        "bare_format_records_per_s": round(records / bare_s),
        "build_s": round(build_s, 3),
        "build_records_per_s": round(built / build_s),
        "build_vs_bare": round((built / build_s) / (records / bare_s), 3),
        "build_and_write_s": round(build_write_s, 3),
        "iterate_lines_s": round(iterate_s, 3),
        "validate_s": round(validate_s, 3),
        "validate_records_per_s": round(lines / validate_s),
        "validate_vs_iterate": round(iterate_s / validate_s, 3),
        "maxrss_mb": round(maxrss_kb / 1024, 1),
        "bodies_sha256_equal": True,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "eindkomst_report.json"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    runs = []
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        run = json.loads(out)
        runs.append(run)
        print(json.dumps(run, indent=2))
    result: dict[str, object] = {
        "bench": "eindkomst_report",
        "command": "python bench/eindkomst_report.py --sizes " + args.sizes,
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.system()}",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "runs": runs,
    }
    if len(runs) > 1:
        result["maxrss_largest_vs_smallest"] = round(
            float(runs[-1]["maxrss_mb"]) / float(runs[0]["maxrss_mb"]), 2
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
