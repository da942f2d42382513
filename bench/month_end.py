"""Bench: a whole month-end through the simulators, stage by stage, against bare baselines.

    .venv/bin/python bench/month_end.py [--sizes 100000,1000000] [--out PATH]

Per size, in a fresh directory: KSD's generator writes the month as deliveries of at most
``--per-delivery`` payments (11 of ~91k for a million); then each stage runs in a process of
its own (so its peak RSS is its own) and is measured for wall time, CPU time and peak RSS:

1. ``send``: KSD puts each delivery and its trigger on the Serviceplatformen simulator, which
   routes it to our IN directory;
2. ``receive g68``: the receive pipeline over the directory transport, every delivery;
3. ``release``: recalls, blocks, bundles journaled;
4. ``send nemkonto``: each bundle built again, checked and put on the request queue;
5. ``nemkonto answers``: the NemKonto simulator answers (1, 2 with 2 % rejected, 8);
6. ``receive nemkonto``: the answers applied to the journal;
7. ``status --bundles``: the bundle reconciliation, rendered.

Then the answering once more as it happens in operation (``bench/month_alongside.py``): on a
copy of the journal as the release left it, the NemKonto simulator answers each bundle as it
comes while the gateway sends and takes the answers, the two processes at once on the same
cores; then ``status --bundles`` on the copy, which must end with every item as the stages in
turn left them. The month "alongside" is the send, ``receive g68`` and the release from the
stages in turn, plus that phase and its status.

And the baselines, in the same run on the same data: bare slicing of the same G68 files;
bare SQLite (WAL) ``executemany`` of the same rows in one transaction plus one batched state
update; bare lxml build + XSD validation of the same bundles; bare lxml parse + XSD
validation of the answers; a bare ``GROUP BY`` over the journal's items. It prints the table
and the ratios, and writes the JSON (default ``bench/results/month_end.json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402

from bench import month_alongside as alongside  # noqa: E402
from bench.baselines import (  # noqa: E402
    Excluded,
    bare_answers,
    bare_bundles,
    bare_group_by,
    bare_slicing,
    bare_sqlite,
    queue_bodies,
)
from bench.receive_g68 import g68_pipeline  # noqa: E402
from toekgw.adapters.nemkonto import (  # noqa: E402
    Authority,
    FlowSettings,
    receive_answers,
    reconcile_bundles,
    release,
    render_bundles,
    send_bundles,
)
from toekgw.formats.nemkonto import Account  # noqa: E402
from toekgw.formats.serviceplatform import FileDescriptor, Trigger, build_trigger  # noqa: E402
from toekgw.gateway.journal import open_journal  # noqa: E402
from toekgw.gateway.transport.mq import SqliteQueue  # noqa: E402
from toekgw.simulators.ksd import GeneratorSettings, write_delivery  # noqa: E402
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript  # noqa: E402
from toekgw.simulators.serviceplatform import Platform  # noqa: E402

TODAY = dt.date(2026, 11, 23)
# The generator dates payments up to 14 days on: released two weeks later, all are due.
RELEASE_DAY = TODAY + dt.timedelta(days=14)
MUNICIPALITY = "101"
SUPPLIER = "29189846"
SETTINGS = FlowSettings(
    authorities={MUNICIPALITY: Authority("29189846", "4711", Account("1234", "0001234567"))}
)
RESULTS = ROOT / "bench" / "results"
STATUS_LIMIT = 50  # `toekgw status --bundles` lists the first --limit (50) differences
STAGES = (  # from the first send to the status printed
    "send",
    "receive g68",
    "release",
    "send nemkonto",
    "nemkonto answers",
    "receive nemkonto",
    "status --bundles",
)


# -- the stages, each run in a child process -----------------------------------------------


def _journal(work: Path):  # type: ignore[no-untyped-def]
    return open_journal(work / "journal.sqlite")


def _reader(work: Path):  # type: ignore[no-untyped-def]
    """The journal as `toekgw status` opens it: a reader, with a small page cache."""
    try:
        return open_journal(work / "journal.sqlite", reader=True)
    except TypeError:  # a tree from before readers (bench/month_compare.py runs older trees)
        return _journal(work)


def _deliveries(work: Path) -> list[Path]:
    return sorted((work / "ksd").glob("G68_*.g68"))


def stage_send(work: Path) -> int:
    platform_ = Platform(work / "platform")
    platform_.add_party("ksd")
    platform_.add_party("toek")
    out = platform_.party_dir("ksd") / "OUT"
    for delivery in _deliveries(work):
        data = delivery.read_bytes()
        (out / delivery.name).write_bytes(data)
        trigger = Trigger(FileDescriptor(delivery.name, len(data), "ksd", ("toek",)))
        (out / f"{delivery.name}.trigger").write_bytes(build_trigger(trigger))
    routed = platform_.scan()
    assert routed == len(_deliveries(work)), routed
    return sum(_count(d) for d in _deliveries(work))


def _count(delivery: Path) -> int:
    with delivery.open("rb") as handle:
        return sum(1 for _ in handle) - 2  # header and trailer


def stage_receive_g68(work: Path) -> int:
    journal = _journal(work)
    outcomes = g68_pipeline(journal, work).poll_once()
    assert all(o.status == "received" for o in outcomes), outcomes
    return sum(t.item_count for t in journal.transmissions(kind="g68-delivery"))


def stage_release(work: Path) -> int:
    result = release(_journal(work), SETTINGS, RELEASE_DAY)
    return result.released


def stage_send_nemkonto(work: Path) -> int:
    sent = send_bundles(_journal(work), SqliteQueue(work / "queues.sqlite"), SETTINGS)
    return sum(s.count for s in sent)


def _simulator(work: Path) -> NemKontoSimulator:
    return NemKontoSimulator(
        SqliteQueue(work / "queues.sqlite"),
        work / "ledger.sqlite",
        SimulatorScript(reject_share=0.02, seed=17),
    )


def stage_answers(work: Path) -> int:
    sim = _simulator(work)
    sim.drain()
    sim.send_bank_answers()
    return sim.stats.accepted + sim.stats.rejected


def stage_answers_alongside(work: Path) -> int:
    return alongside.answer_as_sent(_simulator(work), work)


def stage_send_receive_nemkonto(work: Path) -> int:
    journal, queue = _journal(work), SqliteQueue(work / "queues.sqlite")
    return alongside.send_and_take_answers(journal, queue, SETTINGS, work)


def stage_receive_nemkonto(work: Path) -> int:
    summary = receive_answers(_journal(work), SqliteQueue(work / "queues.sqlite"), SETTINGS)
    return sum(summary.moved.values())


def stage_status(work: Path) -> int:
    rec = reconcile_bundles(_reader(work), SETTINGS, RELEASE_DAY)
    console = Console(file=io.StringIO(), width=200)
    for table in render_bundles(rec, differences=STATUS_LIMIT):
        console.print(table)
    return rec.total.counts["sent"]


# -- the baselines -------------------------------------------------------------------------


def base_slicing(work: Path) -> int:
    return bare_slicing(_deliveries(work))


def base_sqlite(work: Path) -> int:
    return bare_sqlite(_deliveries(work), work / "bare.sqlite")


def base_bundles(work: Path) -> int:
    return bare_bundles(queue_bodies(work / "queues.sqlite", SETTINGS.request_queue), EXCLUDED)


def base_answers(work: Path) -> int:
    return bare_answers(queue_bodies(work / "queues.sqlite", SETTINGS.reply_queue))


def base_group_by(work: Path) -> int:
    return bare_group_by(work / "journal.sqlite")


# the time a baseline spends on setup it does not measure
EXCLUDED = Excluded()

CHILDREN: dict[str, Callable[[Path], int]] = {
    "send": stage_send,
    "receive g68": stage_receive_g68,
    "release": stage_release,
    "send nemkonto": stage_send_nemkonto,
    "nemkonto answers": stage_answers,
    "receive nemkonto": stage_receive_nemkonto,
    "status --bundles": stage_status,
    "nemkonto alongside": stage_answers_alongside,
    "send + receive nemkonto": stage_send_receive_nemkonto,
    "bare slicing": base_slicing,
    "bare sqlite": base_sqlite,
    "bare bundles": base_bundles,
    "bare answers": base_answers,
    "bare group by": base_group_by,
}


def child(name: str, work: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF)
    start, epoch = time.perf_counter(), time.time()
    count = CHILDREN[name](work)
    wall = time.perf_counter() - start - EXCLUDED.wall_s
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) - EXCLUDED.cpu_s
    figures = {"count": count, "wall_s": wall, "cpu_s": cpu, "rss_kib": after.ru_maxrss}
    # when it started and ended, for two children run at once (bench/month_alongside.py)
    print(json.dumps(figures | {"start": epoch, "end": time.time()}))


def run(name: str, work: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, "--work", str(work)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# -- the month ----------------------------------------------------------------------------


def generate(work: Path, size: int, per_delivery: int) -> None:
    (work / "ksd").mkdir(parents=True)
    left, number = size, 0
    while left > 0:
        number += 1
        count = min(per_delivery, left)
        write_delivery(
            work / "ksd" / f"G68_{SUPPLIER}_{number:05d}.g68",
            GeneratorSettings(
                count=count,
                seed=number,
                today=TODAY,
                supplier_id=SUPPLIER,
                delivery_number=number,
                registration_place=MUNICIPALITY,
            ),
        )
        left -= count


def month(size: int, per_delivery: int) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-month-end-{size}-"))
    generate(work, size, per_delivery)
    stages: dict[str, dict[str, float]] = {}
    # Each baseline runs where its data exists: the bundles before NemKonto takes them, the
    # answers before we take them.
    order = (
        "bare slicing",
        "bare sqlite",
        "send",
        "receive g68",
        "release",
        "send nemkonto",
        "bare bundles",
        "nemkonto answers",
        "bare answers",
        "receive nemkonto",
        "status --bundles",
        "bare group by",
    )
    copy = work / "alongside"  # the journal as the release left it (bench/month_alongside.py)
    for name in order:
        stages[name] = run(name, work)
        _show(size, name, stages[name])
        if name == "release":
            alongside.snapshot(work, copy)
    side = _alongside(size, copy)
    if alongside.end_state(copy / "journal.sqlite") != alongside.end_state(work / "journal.sqlite"):
        raise AssertionError("the month alongside ended otherwise than the stages in turn")
    shutil.rmtree(copy)  # as large as the journal it ended equal to (1.6 GB at 1M)
    for s in (*stages.values(), *side.values()):
        s["payments_per_s"] = round(size / s["wall_s"]) if s["wall_s"] else 0
        s["peak_rss_mib"] = round(s.pop("rss_kib") / 1024, 1)
        s.pop("start", None)
        s.pop("end", None)
    wall = {k: v["wall_s"] for k, v in stages.items()}
    cpu = {k: v["cpu_s"] for k, v in stages.items()}
    before = ("send", "receive g68", "release")
    return {
        "payments": size,
        "deliveries": len(_deliveries(work)),
        "first_send_to_status_s": round(sum(wall[s] for s in STAGES), 2),
        "first_send_to_status_cpu_s": round(sum(cpu[s] for s in STAGES), 2),
        # NemKonto answering while the gateway sends and takes answers, as in operation
        "first_send_to_status_alongside_s": round(
            sum(wall[s] for s in before)
            + side["together"]["wall_s"]
            + side["status --bundles"]["wall_s"],
            2,
        ),
        "stages": stages,
        "alongside": side,
        # the ratios, on wall time and (robust on a shared machine) on CPU time
        "ratios": _ratios(wall),
        "ratios_cpu": _ratios(cpu),
        "workdir": str(work),
    }


def _show(size: int, name: str, s: dict[str, float]) -> None:
    print(
        f"  {size:>9,} {name:<24} {s['wall_s']:8.2f} s wall {s['cpu_s']:8.2f} s CPU "
        f"{s['rss_kib'] / 1024:7.1f} MiB  ({int(s['count']):,})",
        flush=True,
    )


def _alongside(size: int, copy: Path) -> dict[str, dict[str, float]]:
    """The answering phase again on the release's copy, NemKonto alongside the gateway."""
    side = alongside.run_pair(__file__, copy, ("nemkonto alongside", "send + receive nemkonto"))
    side["status --bundles"] = run("status --bundles", copy)
    for name, figures in side.items():
        _show(size, f"alongside: {name}", figures)
    return side


def _ratios(t: dict[str, float]) -> dict[str, float]:
    ratios = {
        # a throughput ratio: at least 0.3 wanted
        "receive_g68_vs_bare": (t["bare slicing"] + t["bare sqlite"]) / t["receive g68"],
        # time ratios: at most 2, 2 and 3 wanted
        "release_send_vs_bare": (t["release"] + t["send nemkonto"])
        / (t["bare bundles"] + t["bare sqlite"]),
        "receive_nemkonto_vs_bare": t["receive nemkonto"] / (t["bare answers"] + t["bare sqlite"]),
        "status_vs_group_by": t["status --bundles"] / t["bare group by"],
    }
    return {k: round(v, 3) for k, v in ratios.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--per-delivery", type=int, default=91_000)
    parser.add_argument("--out", type=Path, default=RESULTS / "month_end.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.work)
        return
    runs = []
    for size in args.sizes.split(","):
        runs.append(month(int(size), args.per_delivery))
        result = {
            "bench": "month_end",
            "runs": runs,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "load_average": os.getloadavg(),  # a shared machine's load: see docs/performance.md
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        # written after each size, so that a long run that is stopped keeps what it measured
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for r in runs:
        print(
            f"{r['payments']:,} payments: {r['first_send_to_status_s']} s wall "
            f"({r['first_send_to_status_cpu_s']} s CPU), "
            f"{r['first_send_to_status_alongside_s']} s with NemKonto alongside; "
            f"ratios {r['ratios']}, on CPU {r['ratios_cpu']}"
        )
    print(args.out)


if __name__ == "__main__":
    main()
