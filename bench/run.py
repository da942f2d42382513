"""``make bench``: G68 decode + full validation against two baselines, and peak memory.

For each form, 1,000,000 payments as ten deliveries of 99,999 (bench/data/, generated once):

- **toek-gateway**: ``toekgw.adapters.g68.read_delivery`` — what ``toekgw validate g68`` does: every
  record decoded into typed columns (sequence, amount, date, idents …) a block at a time,
  every layout check and every rule (idents, dates, duplicates, sequence, SLUTD totals); a
  record the columns cannot vouch for is decoded and checked again one at a time, the exact
  way, which writes its findings (the two ways give the same findings: tests/test_g68_columns).
- **toek-gateway, records**: ``toekgw.adapters.g68.G68Reader`` — the receiver's way: every record
  decoded into a typed ``G68Payment`` object and checked one at a time (reported beside,
  against the same baselines).
- **bare slicing**: reading the same text lines and cutting the same fields into a tuple,
  nothing checked or converted. Fast form: the 14 value fields by position. Floating form:
  the prefix fields by position plus ``split("&")`` of the tagged part (no ids looked at).
- **pandas.read_fwf** (``dtype=str``): fast form: the same 14 columns; floating form: the
  prefix columns plus the tagged part as one column (read_fwf cannot split tags).

Rates are records per CPU second of the process (median of the repeats, run interleaved, so a
shared machine's load falls on all alike); ratios are toek-gateway's rate over the baseline's.
Peak memory (max RSS) of ``toekgw validate g68`` is measured in a fresh process on one
delivery (~100k payments) and on all ten (~1M). Results: bench/results/g68.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toekgw.adapters.g68 import G68Config, G68Reader, G68Validation, read_delivery  # noqa: E402
from toekgw.formats.g68 import G68Form  # noqa: E402
from toekgw.formats.g68.layouts import G68_FAST, G68_FLOATING_PREFIX  # noqa: E402
from toekgw.simulators.ksd import GeneratorSettings, write_deliveries  # noqa: E402

DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
TODAY = dt.date(2026, 11, 23)
DELIVERIES = 10
PER_DELIVERY = 99_999
SEED = 68


def dataset(form: G68Form) -> list[Path]:
    name = form.name.lower()
    stamp = DATA / f"{name}.done"
    files = [DATA / f"{name}-{i:03d}.g68" for i in range(1, DELIVERIES + 1)]
    if stamp.exists() and all(f.exists() for f in files):
        return files
    DATA.mkdir(parents=True, exist_ok=True)
    print(f"generating {DELIVERIES} x {PER_DELIVERY:,} {name} payments ...", flush=True)
    t = time.perf_counter()
    settings = GeneratorSettings(count=DELIVERIES * PER_DELIVERY, seed=SEED, form=form, today=TODAY)
    out = write_deliveries(DATA / f"{name}.g68", settings, split=True)
    assert [s.path for s in out] == files
    stamp.write_text("ok\n")
    print(f"  generated in {time.perf_counter() - t:.1f} s", flush=True)
    return files


# --- the three ways to read -----------------------------------------------------------


def _validated(files: list[Path], read: Callable[[Path, G68Config], G68Validation]) -> int:
    config = G68Config(today=TODAY)
    n = 0
    for path in files:
        result = read(path, config)
        if not result.ok:
            raise SystemExit(f"bench data {path} does not validate: {result.findings[:3]}")
        n += result.count
    return n


def _each_record(path: Path, config: G68Config) -> G68Validation:
    reader = G68Reader(path, config)
    for _entry in reader:
        pass
    return reader.result()


def records(files: list[Path]) -> int:
    return _validated(files, _each_record)


def ours(files: list[Path]) -> int:
    return _validated(files, read_delivery)


def _slices(layout_fields: list[tuple[int, int]]) -> str:
    return ", ".join(f"line[{a - 1}:{a - 1 + n}]" for a, n in layout_fields)


def _bare(files: list[Path], cut_expression: str) -> int:
    """Iterate the text lines and evaluate ``cut_expression`` (of ``line``) on each."""
    namespace: dict[str, Callable[[str], object]] = {}
    exec(f"def cut(line):\n    return {cut_expression}\n", namespace)
    cut = namespace["cut"]
    n = 0
    for path in files:
        with path.open(encoding="iso-8859-1", newline="") as f:
            for line in f:
                cut(line)
                n += 1
    return n - 2 * len(files)


def bare_fast(files: list[Path]) -> int:
    spans = [(f.start, f.length) for f in G68_FAST.value_fields]
    return _bare(files, f"({_slices(spans)},)")


def bare_floating(files: list[Path]) -> int:
    spans = [(f.start, f.length) for f in G68_FLOATING_PREFIX.value_fields]
    return _bare(files, f"({_slices(spans)}, line.rstrip('\\r\\n')[14:].split('&'))")


def pandas_fwf(form: G68Form) -> Callable[[list[Path]], int]:
    import pandas as pd

    if form is G68Form.FAST:
        colspecs = [(f.start - 1, f.end) for f in G68_FAST.value_fields]
    else:
        colspecs = [(f.start - 1, f.end) for f in G68_FLOATING_PREFIX.value_fields]
        colspecs.append((14, 4000))

    def read(files: list[Path]) -> int:
        n = 0
        for path in files:
            frame = pd.read_fwf(
                path, colspecs=colspecs, dtype=str, header=None, encoding="iso-8859-1"
            )
            n += len(frame)
        return n - 2 * len(files)

    return read


def timed(
    methods: dict[str, tuple[Callable[[list[Path]], int], int]], files: list[Path]
) -> dict[str, dict[str, object]]:
    """Each method ``repeat`` times, interleaved, so that the load of a shared machine falls
    on all of them alike. Rates use CPU time of this process (the work is single-threaded);
    wall time is recorded beside it."""
    cpu: dict[str, list[float]] = {name: [] for name in methods}
    wall: dict[str, list[float]] = {name: [] for name in methods}
    records: dict[str, int] = {}
    for round_ in range(max(repeat for _fn, repeat in methods.values())):
        for name, (fn, repeat) in methods.items():
            if round_ >= repeat:
                continue
            w, c = time.perf_counter(), time.process_time()
            records[name] = fn(files)
            cpu[name].append(time.process_time() - c)
            wall[name].append(time.perf_counter() - w)
    out: dict[str, dict[str, object]] = {}
    for name in methods:
        median = statistics.median(cpu[name])
        out[name] = {
            "records": records[name],
            "cpu_seconds": median,
            "cpu_runs": cpu[name],
            "wall_runs": wall[name],
            "rate": records[name] / median,
        }
    return out


# --- memory ---------------------------------------------------------------------------

_MEASURE = """
import resource, sys
from toekgw.cli.main import cli
out, args = sys.argv[1], sys.argv[2:]
try:
    toekgw.cli.main(args=args, prog_name="toekgw", standalone_mode=False, obj={"debug": False})
except SystemExit:
    pass
with open(out, "w") as f:
    f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def peak_rss_kib(files: list[Path]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rss"
        args = ["validate", "g68", "--today", TODAY.isoformat(), *map(str, files)]
        subprocess.run(
            [sys.executable, "-c", _MEASURE, str(out), *args],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        return int(out.read_text())


# --- main -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--pandas-repeat", type=int, default=1)
    parser.add_argument("--records-repeat", type=int, default=1)
    args = parser.parse_args()

    report: dict[str, object] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "payments_per_form": DELIVERIES * PER_DELIVERY,
        "deliveries_per_form": DELIVERIES,
        "baselines": {
            "bare_slicing": "fast: 14 value fields sliced by position into a tuple; floating: "
            "prefix fields sliced + split('&') of the tagged part; text-mode line iteration",
            "pandas_read_fwf": "pandas.read_fwf(dtype=str); fast: the 14 columns; floating: "
            "prefix columns + the tagged part as one column",
            "note": "floating: read_fwf cannot split tags, so it cuts 5 prefix columns and one "
            "wide column (6 strings per record against 14 in the fast form) and checks nothing: "
            "it does less than the fast-form read_fwf, and far less than decoding the tags, "
            "which is why its rate is about twice the fast form's",
        },
        "forms": {},
    }
    forms: dict[str, object] = {}
    files_by_form = {form: dataset(form) for form in (G68Form.FAST, G68Form.FLOATING)}

    print("peak memory of `toekgw validate g68` ...", flush=True)
    fast_files = files_by_form[G68Form.FAST]
    small = peak_rss_kib(fast_files[:1])
    large = peak_rss_kib(fast_files)
    memory = {
        "payments_small": PER_DELIVERY,
        "payments_large": PER_DELIVERY * DELIVERIES,
        "peak_rss_mib_small": round(small / 1024, 1),
        "peak_rss_mib_large": round(large / 1024, 1),
        "large_over_small": round(large / small, 3),
    }
    print(
        f"  {PER_DELIVERY:,} payments: {small / 1024:.1f} MiB; "
        f"{PER_DELIVERY * DELIVERIES:,}: {large / 1024:.1f} MiB "
        f"(x{large / small:.2f})",
        flush=True,
    )

    for form, files in files_by_form.items():
        name = form.name.lower()
        print(f"{name}: {len(files)} deliveries", flush=True)
        bare = bare_fast if form is G68Form.FAST else bare_floating
        ours(files[:1])  # warm the identifier caches as a long-running receiver has them
        result = timed(
            {
                "toek_gateway": (ours, args.repeat),
                "bare_slicing": (bare, args.repeat),
                "pandas_read_fwf": (pandas_fwf(form), args.pandas_repeat),
                "toek_gateway_records": (records, args.records_repeat),
            },
            files,
        )
        rates = {k: float(str(v["rate"])) for k, v in result.items()}
        ratios = {
            "vs_bare_slicing": round(rates["toek_gateway"] / rates["bare_slicing"], 3),
            "vs_pandas_read_fwf": round(rates["toek_gateway"] / rates["pandas_read_fwf"], 2),
            "records_vs_bare_slicing": round(
                rates["toek_gateway_records"] / rates["bare_slicing"], 3
            ),
            "records_vs_pandas_read_fwf": round(
                rates["toek_gateway_records"] / rates["pandas_read_fwf"], 2
            ),
        }
        forms[name] = {**result, "ratios": ratios}
        for k, rate in rates.items():
            print(f"  {k:16s} {rate:12,.0f} records/s", flush=True)
        print(
            f"  decode + full validation = {ratios['vs_bare_slicing']:.2f} x bare slicing, "
            f"{ratios['vs_pandas_read_fwf']:.1f} x pandas.read_fwf "
            f"(as G68Payment objects: {ratios['records_vs_bare_slicing']:.2f} x, "
            f"{ratios['records_vs_pandas_read_fwf']:.1f} x)",
            flush=True,
        )
    report["forms"] = forms
    report["memory"] = memory
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / "g68.json"
    target.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
