"""Bench: build + validate a 10,000-payment NemKonto bundle vs lxml parse + validate of it.

    .venv/bin/python bench/nemkonto_bundle.py [--payments 10000] [--runs 5]

Prints medians and the ratio (the acceptance bound is 3x) and writes
bench/results/nemkonto_bundle.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import sys
import time
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toekgw.formats.nemkonto import (  # noqa: E402
    Account,
    Address,
    PaymentBundle,
    PaymentOrder,
    RecipientId,
    RecipientKind,
    build_bundle,
)
from toekgw.formats.nemkonto.bundle import SCHEMA as BUNDLE_SCHEMA  # noqa: E402
from toekgw.formats.xmlcheck import load_schema  # noqa: E402


def make_bundle(n: int) -> PaymentBundle:
    payments = []
    for i in range(n):
        complete = i % 5 == 0
        payments.append(
            PaymentOrder(
                payment_id=f"P{i:012d}",
                amount_ore=100_00 + i,
                recipient=RecipientId(
                    RecipientKind.CPR,
                    f"{i % 28 + 1:02d}{i % 12 + 1:02d}{i % 100:02d}{i % 9999:04d}",
                ),
                account=Account("1234", f"{i:010d}") if complete else None,
                name=f"Modtager Nummer {i}",
                address=Address((f"Vejen {i % 200}",), "8000", "Aarhus C") if i % 3 == 0 else None,
                notification=("Kontanthjælp december", f"Sag {i}"),
                benefit_kind="KONTANTHJ",
            )
        )
    return PaymentBundle(
        bundle_id="6b1f6a8e-0000-5000-8000-000000000001",
        created_at=dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC),
        authority_cvr="29189846",
        agreement_number="4711",
        payment_information_id="PI6b1f6a8e000050008000000000000001",
        disposition_date=dt.date(2026, 12, 1),
        debtor_account=Account("1234", "0001234567"),
        payments=tuple(payments),
    )


def timed(fn: object, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/nemkonto_bundle.json")
    args = parser.parse_args()

    bundle = make_bundle(args.payments)
    schema = load_schema(BUNDLE_SCHEMA)
    data = build_bundle(bundle)  # warm up, and the document the baseline parses
    xml_parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

    def baseline() -> None:
        if not schema.validate(etree.fromstring(data, xml_parser)):
            raise SystemExit("the bench document is not valid")

    build_s = timed(lambda: build_bundle(bundle), args.runs)
    baseline_s = timed(baseline, args.runs)
    ratio = build_s / baseline_s
    result = {
        "bench": "nemkonto_bundle",
        "payments": args.payments,
        "bytes": len(data),
        "runs": args.runs,
        "build_and_validate_s": round(build_s, 4),
        "lxml_parse_and_validate_s": round(baseline_s, 4),
        "ratio": round(ratio, 2),
        "bound": 3.0,
        "within_bound": ratio <= 3.0,
        "python": platform.python_version(),
        "lxml": ".".join(map(str, etree.LXML_VERSION)),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"nemkonto bundle, {args.payments} payments, {len(data) / 1e6:.1f} MB: "
        f"build+validate {build_s:.3f} s, lxml parse+validate {baseline_s:.3f} s, "
        f"ratio {ratio:.2f} (bound 3.0) -> {args.out}"
    )


if __name__ == "__main__":
    main()
