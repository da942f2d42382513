"""Bench: vouchers for N payment events (plan + write + schema-check, streamed) vs lxml
building and schema-checking the same number of bare postings, in the same run.

    .venv/bin/python bench/oir_vouchers.py [--events 1000000] [--runs 1]

Each side runs in a child process (so its peak RSS is its own): ours is
``plan_vouchers`` -> ``voucher_xml`` -> batch files capped like a send -> ``validate_batch``;
the baseline builds one ``Postering`` element per posting with lxml (the same fields, into the
same batch envelope, written with ``etree.xmlfile``) and validates the files the same way.
Memory: ours at N/10 and at N (flat: the same peak). Prints the ratio (the acceptance bound
is 3x) and writes bench/results/oir_vouchers.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from toekgw.adapters.oir import Chart, MunicipalityBooks, OirSettings, plan_vouchers  # noqa: E402
from toekgw.formats.oir import (  # noqa: E402
    BATCH_TAIL,
    Account,
    BatchHeader,
    batch_head,
    validate_batch,
    voucher_xml,
)
from toekgw.gateway.journal.books import BookingEvent, ClassRow  # noqa: E402

CODES = ("5.57.72/1/5.2", "9.52.59/0/9.1", "9.22.05/0/9.1", "9.52.56/0/9.1")
NS = "urn:toek-gateway:oir:Finansbilag:1"
HEADER = BatchHeader(
    "9a4b1c7e-0d2f-4e6a-8b3c-5d7e9f1a2b3c",
    dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC),
    "5f2c1d7e-0a4b-4c39-9e21-3c0e5b7a8d42",
    "29189846",
)
PER_FILE = 1000  # vouchers
PER_VOUCHER = 1000  # postings


def settings() -> OirSettings:
    return OirSettings(
        sender_system=HEADER.sender_system,
        erp="erp",
        sortiment="0b5b6c1e-2f51-4c5e-8f38-6a3a3b0c9d11",
        accounts={
            "expense": Account.parse(CODES[0]),
            "intermediate": Account.parse(CODES[1]),
            "bank": Account.parse(CODES[2]),
            "trivial": Account.parse(CODES[3]),
        },
        expense_by_category={},
        municipalities={"101": MunicipalityBooks("101", "29189846")},
        max_postings_per_voucher=PER_VOUCHER,
    )


def chart() -> Chart:
    start = dt.date(2026, 1, 1)
    return Chart(
        "0b5b6c1e-2f51-4c5e-8f38-6a3a3b0c9d11",
        1,
        [
            ClassRow(f"00000000-0000-4000-8000-{n:012d}", c, c, start, None)
            for n, c in enumerate(CODES)
        ],
    )


def events(n: int) -> Iterator[BookingEvent]:
    """N events as the journal hands them over: by municipality, day and event."""
    day0 = dt.date(2026, 12, 1)
    per_day = max(1, n // 20)
    for i in range(n):
        kind = "journaled" if i % 3 else "effectuated"
        yield BookingEvent(
            i + 1,
            i + 1,
            kind,
            "101",
            day0 + dt.timedelta(days=i // per_day),
            10_000 + i % 9_000,
            f"12345678:{i:018d}",
            "01",
            f"B{i // 10_000:08d}",
            f"P{i:012d}",
        )


def ours(n: int, out: Path) -> int:
    files = 0
    handle = None
    count = 0
    postings = 0
    for planned in plan_vouchers(events(n), settings(), chart()):
        if handle is None or count >= PER_FILE:
            if handle is not None:
                handle.write(BATCH_TAIL)
                handle.close()
            files += 1
            handle = (out / f"ours-{files}.xml").open("wb")
            handle.write(batch_head(HEADER))
            count = 0
        handle.write(voucher_xml(planned.voucher))
        count += 1
        postings += len(planned.rows)
    if handle is not None:
        handle.write(BATCH_TAIL)
        handle.close()
    for path in sorted(out.glob("ours-*.xml")):
        assert validate_batch(path) == [], path
        path.unlink()
    return postings


def baseline(n: int, out: Path) -> int:
    """lxml builds the same postings (two per event: D and K) with no domain logic."""
    q = "{" + NS + "}"
    postings = 2 * n
    per_file = PER_FILE * PER_VOUCHER
    made = 0
    file_no = 0
    while made < postings:
        file_no += 1
        path = out / f"base-{file_no}.xml"
        with (
            etree.xmlfile(str(path), encoding="UTF-8") as xf,
            xf.element(q + "FinansbilagBatch", nsmap={None: NS}),
        ):
            for tag, text in (
                ("BatchId", HEADER.batch_id),
                ("CreatedAt", HEADER.created_at.isoformat()),
                ("SenderSystem", HEADER.sender_system),
                ("Authority", HEADER.authority),
            ):
                e = etree.Element(q + tag)
                e.text = text
                xf.write(e)
            in_file = 0
            while made < postings and in_file < per_file:
                bilag = etree.Element(q + "Finansbilag")
                etree.SubElement(bilag, q + "BilagId").text = f"00000000-0000-4000-8000-{made:012d}"
                etree.SubElement(bilag, q + "BilagNummer").text = f"B{made}"
                etree.SubElement(bilag, q + "BilagDato").text = "2026-12-04"
                for _ in range(min(PER_VOUCHER, postings - made)):
                    i = made // 2
                    p = etree.SubElement(bilag, q + "Postering")
                    etree.SubElement(p, q + "PosteringId").text = f"{made}"
                    etree.SubElement(p, q + "PosteringDato").text = "2026-12-04"
                    etree.SubElement(p, q + "Beloeb").text = f"{100 + i % 90}.00"
                    etree.SubElement(p, q + "DebetKredit").text = "D" if made % 2 == 0 else "K"
                    konto = etree.SubElement(p, q + "Konto")
                    funktion, dranst, art = CODES[made % 2].split("/")
                    etree.SubElement(konto, q + "Funktion").text = funktion
                    etree.SubElement(konto, q + "Dranst").text = dranst
                    etree.SubElement(konto, q + "Art").text = art
                    etree.SubElement(
                        konto, q + "SortimentKlasse"
                    ).text = "00000000-0000-4000-8000-000000000001"
                    etree.SubElement(p, q + "Tekst").text = "Udbetaling registreret"
                    etree.SubElement(p, q + "BundtId").text = f"B{i // 10_000:08d}"
                    etree.SubElement(p, q + "BetalingId").text = f"P{i:012d}"
                    etree.SubElement(p, q + "Forretningsnoegle").text = f"12345678:{i:018d}"
                    made += 1
                    in_file += 1
                xf.write(bilag)
    for path in sorted(out.glob("base-*.xml")):
        assert validate_batch(path) == [], path
        path.unlink()
    return postings


def child(which: str, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.process_time()
        postings = (ours if which == "ours" else baseline)(n, Path(tmp))
        seconds = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"seconds": seconds, "postings": postings, "peak_rss_mb": peak}))


def run(which: str, n: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", which, "--events", str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child", choices=["ours", "baseline"], default=None)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.events)
        return
    n = args.events
    ours_runs = [run("ours", n) for _ in range(args.runs)]
    base_runs = [run("baseline", n) for _ in range(args.runs)]
    small = run("ours", n // 10)
    ours_s = statistics.median(r["seconds"] for r in ours_runs)
    base_s = statistics.median(r["seconds"] for r in base_runs)
    result = {
        "events": n,
        "postings": ours_runs[0]["postings"],
        "ours_cpu_s": round(ours_s, 2),
        "baseline_cpu_s": round(base_s, 2),
        "ratio": round(ours_s / base_s, 2),
        "bound": 3.0,
        "peak_rss_mb": {
            "ours_n_over_10": small["peak_rss_mb"],
            "ours_n": ours_runs[0]["peak_rss_mb"],
            "baseline_n": base_runs[0]["peak_rss_mb"],
        },
        "machine": platform.platform(),
        "python": platform.python_version(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, indent=2))
    target = ROOT / "bench" / "results" / "oir_vouchers.json"
    target.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if result["ratio"] > 3.0:
        raise SystemExit(f"ratio {result['ratio']} > 3.0")


if __name__ == "__main__":
    main()
