"""The month's answering as it happens in operation: NemKonto answers while we send.

``bench/month_end.py`` runs its stages one after the other, each alone on the machine, so
that each stage's time, CPU and peak memory are its own. In operation NemKonto is another
system: it answers each bundle as it arrives, while the gateway is still sending the next and
already taking the first answers (``toekgw run`` polls the reply queue on its schedule). This
module runs that part of the month that way, on a copy of the journal as the release left it:

- the gateway, in one process as the service runs its jobs (one at a time): ``send nemkonto``,
  then ``receive nemkonto`` again and again until NemKonto is done and nothing is left;
- the NemKonto simulator, in a process of its own on the same two cores, answering each
  bundle as it comes (1, 2 with 2 % rejected, 8) until the gateway has sent everything and the
  request queue is empty.

The phase's wall time runs from the first of the two starting its work to the last finishing.
Then ``status --bundles`` on the copy, and a check that the month ended the same way as in
the stages one after the other: every item in the same state, with the same count and sum.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from toekgw.adapters.nemkonto import FlowSettings, receive_answers, send_bundles
from toekgw.gateway.journal import Journal
from toekgw.gateway.transport.mq import MessageQueue
from toekgw.simulators.nemkonto import NemKontoSimulator

SENT = "sent.done"  # the gateway has put every bundle
ANSWERED = "answered.done"  # the simulator has committed its last answer


def snapshot(work: Path, target: Path) -> None:
    """A copy of the journal in ``work`` as it is now (after the release) in ``target``."""
    target.mkdir()
    for path in work.glob("journal.sqlite*"):
        shutil.copy2(path, target / path.name)


def answer_as_sent(sim: NemKontoSimulator, work: Path) -> int:
    """The simulator answering each bundle as it comes, until the gateway has sent them all
    and the request queue is empty; how many payments it decided."""
    while True:
        # The flag before the queue: a bundle put before the flag was set is on the queue
        # when the flag is seen, so a look that finds none after it finds none for good.
        sent = (work / SENT).exists()
        if not sim.step(wait=0.2) and sent:
            break
    sim.send_bank_answers()
    (work / ANSWERED).touch()
    return sim.stats.accepted + sim.stats.rejected


def send_and_take_answers(
    journal: Journal, queue: MessageQueue, settings: FlowSettings, work: Path
) -> int:
    """The gateway as the service runs it: every bundle sent, then the answers taken as they
    come until the simulator is done and nothing is left; how many items they moved."""
    send_bundles(journal, queue, settings)
    (work / SENT).touch()
    moved = 0
    while True:
        answered = (work / ANSWERED).exists()  # the flag before the queue, as above
        summary = receive_answers(journal, queue, settings, wait=0.2)
        moved += sum(summary.moved.values())
        if answered and not summary.messages:
            return moved


def end_state(journal: Path) -> list[tuple[str, int, int]]:
    """Each state of the journal's items, with its count and sum."""
    db = sqlite3.connect(journal)
    try:
        rows = db.execute(
            "SELECT state, count(*), coalesce(sum(amount_ore), 0) FROM items"
            " GROUP BY state ORDER BY state"
        ).fetchall()
    finally:
        db.close()
    return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]


def run_pair(script: str, work: Path, names: tuple[str, str]) -> dict[str, dict[str, float]]:
    """Run two children of ``script`` at once; each one's figures, and the pair's wall time
    from the first start to the last end. When one fails, the other is stopped: each waits
    for the other's flag, and would wait for ever."""
    outs = [work / f"child-{i}.out" for i in range(len(names))]
    errs = [work / f"child-{i}.err" for i in range(len(names))]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name, out, err in zip(names, outs, errs, strict=True):
            with out.open("wb") as stdout, err.open("wb") as stderr:
                command = [sys.executable, script, "--child", name, "--work", str(work)]
                procs.append(subprocess.Popen(command, stdout=stdout, stderr=stderr))
        _wait(names, procs, errs)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    figures = {
        name: dict(json.loads(out.read_text().strip().splitlines()[-1]))
        for name, out in zip(names, outs, strict=True)
    }
    start = min(f["start"] for f in figures.values())
    end = max(f["end"] for f in figures.values())
    figures["together"] = {
        "wall_s": end - start,
        "cpu_s": sum(f["cpu_s"] for f in figures.values()),
        "count": figures[names[1]]["count"],
        "rss_kib": max(f["rss_kib"] for f in figures.values()),
    }
    return figures


def _wait(names: tuple[str, ...], procs: list[subprocess.Popen[bytes]], errs: list[Path]) -> None:
    """Until every child has ended; raises as soon as one fails."""
    while True:
        codes = [proc.poll() for proc in procs]
        for name, code, err in zip(names, codes, errs, strict=True):
            if code:
                raise RuntimeError(f"{name} failed ({code}):\n{err.read_text()[-4000:]}")
        if None not in codes:
            return
        time.sleep(0.05)
