"""``make chaos``: random SIGKILLs over the payment flows for N minutes, then an independent
check that nothing was lost, doubled or left stuck.

Each round starts from nothing: a Serviceplatformen simulator (asyncssh on 127.0.0.1), KSD's
G68 deliveries on it (1-3, up to 400 payments each, a few planted errors), and the gateway's
configuration. The gateway's commands run as separate processes, as an operator runs them:
``receive g68``, ``nemkonto release``, ``nemkonto send``, ``receive nemkonto``; between send and
receive the NemKonto simulator answers. Any run may be killed (SIGKILL) at a random named crash
point (``TOEKGW_CRASH_AT``) or after a random delay; a killed run is simply run again, as an
operator or ``toekgw run`` would. A round ends with one clean pass of every step.

The check reads only what the counterparts hold - the delivery files with their generator
manifests (what KSD sent) and the NemKonto simulator's ledger (what the bank side saw) - plus
the journal's payment states for "stuck":

- lost: a valid payment of a delivery that NemKonto never saw;
- doubled: a payment NemKonto saw in two bundles (its outcome ``DUPLICATE_PAYMENT``), or a
  payment NemKonto saw that KSD never sent validly;
- stuck: a payment item in a state that is not final, or a delivery still in IN/.

Bundles put twice (a kill between the queue commit and the journal's "sent") are counted and
reported: NemKonto takes a bundle once by its id, so a re-put is not a double payment.

    python bench/chaos.py --minutes 10 [--seed 1] [--json bench/results/chaos.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.crashkit import Rig  # noqa: E402
from toekgw.formats.g68 import G68Form  # noqa: E402
from toekgw.formats.g68.codec import decode_delivery  # noqa: E402
from toekgw.gateway.transport.mq import SqliteQueue  # noqa: E402
from toekgw.simulators.ksd import GeneratorSettings, write_delivery  # noqa: E402
from toekgw.simulators.ksd.g68 import manifest_path  # noqa: E402
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript  # noqa: E402

TODAY = dt.date(2026, 11, 23)
RELEASE_DAY = TODAY + dt.timedelta(days=45)  # every payment is due by then
SUPPLIER = "29189846"
MUNICIPALITY = "101"
FINAL = {"at-bank", "rejected", "cheque", "error-account", "stopped", "bank-error", "recalled"}
POINTS = {
    "receive": ["inbound.after_download", "inbound.after_commit", "inbound.after_remote_dispose"],
    "release": [],
    "send": ["nemkonto.send.after_put", "nemkonto.send.after_commit"],
    "answers": ["nemkonto.answers.after_journal"],
}
STEPS = {
    "receive": ["receive", "g68", "--today", TODAY.isoformat()],
    "release": ["nemkonto", "release", "--today", RELEASE_DAY.isoformat()],
    "send": ["nemkonto", "send"],
    "answers": ["receive", "nemkonto"],
}
EXTRA_CONFIG = f"""
[receive.g68]
senders = ["ksd"]
counterpart = "ksd"

[nemkonto.mq]
transport = "sqlite"
queue_db = "var/queues.sqlite"

[nemkonto.authorities.{MUNICIPALITY}]
cvr = "{SUPPLIER}"
agreement_number = "4711"
debtor_registration = "1234"
debtor_account = "0001234567"
"""


@dataclass
class Tally:
    rounds: int = 0
    runs: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    payments_sent_by_ksd: int = 0
    lost: int = 0
    doubled: int = 0
    stuck: int = 0
    bundles_put_again: int = 0
    problems: list[str] = field(default_factory=list)


def _run_step(config: Path, step: str, rng: random.Random, tally: Tally, *, clean: bool) -> None:
    """Run one step until it completes; unless ``clean``, it may be killed first (at most 4
    times, then it runs clean)."""
    for attempt in range(5):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOEKGW_")}
        env["PYTHONPATH"] = str(ROOT / "src")
        how = "none" if clean or attempt == 4 else rng.choice(["none", "point", "timer", "timer"])
        if how == "point" and POINTS[step]:
            env["TOEKGW_CRASH_AT"] = f"{rng.choice(POINTS[step])}:{rng.randint(1, 3)}"
        process = subprocess.Popen(
            [sys.executable, "-m", "toekgw", *STEPS[step], "--config", str(config)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        tally.runs += 1
        if how == "timer":
            try:
                process.wait(timeout=rng.uniform(0.2, 1.5))
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
        _, err = process.communicate(timeout=300)
        if process.returncode == -signal.SIGKILL:
            tally.kills[f"{step}:{'timer' if how == 'timer' else env['TOEKGW_CRASH_AT']}"] += 1
            continue
        if process.returncode not in (0, 1):
            tally.problems.append(f"{step} exited {process.returncode}: {err.strip()[-300:]}")
        return


def _nemkonto_answers(var: Path) -> None:
    with SqliteQueue(var / "queues.sqlite") as queue:
        simulator = NemKontoSimulator(queue, var / "nemkonto-ledger.sqlite", SimulatorScript())
        simulator.drain()
        simulator.send_bank_answers()
        simulator.ledger.close()


def _sent_by_ksd(files: list[Path]) -> dict[str, int]:
    """business key -> amount of every payment KSD sent without a planted error and did not
    recall (a recall, sign ``-``, cancels the payment with its ident; one of an ident never
    sent is refused)."""
    valid: dict[str, int] = {}
    for path in files:
        manifest = json.loads(manifest_path(path).read_text())
        planted = {p["line"] for p in manifest["planted"]}
        lines = path.read_bytes().decode("iso-8859-1").splitlines()
        clean = [line for n, line in enumerate(lines, 1) if n not in planted]
        for payment in decode_delivery(clean).payments:
            key = f"{SUPPLIER}:{payment.payment_ident}"
            if payment.is_recall:
                valid.pop(key, None)
            else:
                valid[key] = payment.amount
    return valid


def _check(rig: Rig, files: list[Path], tally: Tally) -> None:
    var = rig.base / "var"
    sent = _sent_by_ksd(files)
    tally.payments_sent_by_ksd += len(sent)
    ledger = sqlite3.connect(var / "nemkonto-ledger.sqlite")
    seen = Counter(
        row[0]
        for row in ledger.execute(
            "SELECT payment_id FROM outcome WHERE coalesce(control_code, '') != 'DUPLICATE_PAYMENT'"
        )
    )
    duplicates = ledger.execute(
        "SELECT count(*) FROM outcome WHERE control_code = 'DUPLICATE_PAYMENT'"
    ).fetchone()[0]
    tally.bundles_put_again += ledger.execute(
        "SELECT coalesce(sum(deliveries - 1), 0) FROM bundle"
    ).fetchone()[0]
    ledger.close()
    lost = [key for key in sent if seen[key] == 0]
    doubled = [key for key, n in seen.items() if n > 1 or key not in sent]
    journal = sqlite3.connect(var / "journal.sqlite")
    states = Counter(
        row[0]
        for row in journal.execute(
            "SELECT i.state FROM items i JOIN transmissions t ON t.id = i.transmission_id "
            "WHERE t.kind = 'g68-delivery'"
        )
    )
    journal.close()
    stuck = sum(n for state, n in states.items() if state not in FINAL)
    left = [p.name for p in rig.inbox().iterdir() if p.name.startswith("G68_")]
    tally.lost += len(lost)
    tally.doubled += len(doubled) + duplicates
    tally.stuck += stuck + len(left)
    for what, found in (("lost", lost), ("doubled", doubled), ("left in IN/", left)):
        if found:
            tally.problems.append(f"round {tally.rounds}: {what}: {found[:5]}")
    if stuck:
        tally.problems.append(f"round {tally.rounds}: stuck payment states {dict(states)}")


def _round(base: Path, rng: random.Random, tally: Tally) -> None:
    rig = Rig(base, extra_config=EXTRA_CONFIG).start()
    try:
        files = []
        for number in range(1, rng.randint(1, 3) + 1):
            path = base / "ksd" / f"G68_{SUPPLIER}_{number:05d}.g68"
            path.parent.mkdir(exist_ok=True)
            write_delivery(
                path,
                GeneratorSettings(
                    count=rng.randint(20, 400),
                    seed=rng.randrange(1 << 30),
                    form=rng.choice([G68Form.FAST, G68Form.FLOATING]),
                    error_rate=0.01,
                    today=TODAY,
                    supplier_id=SUPPLIER,
                    delivery_number=number,
                    registration_place=MUNICIPALITY,
                ),
            )
            rig.deliver(path.name, path.read_bytes())
            files.append(path)
        for clean in (False, False, True):
            for step in STEPS:
                if step == "answers":
                    _nemkonto_answers(base / "var")
                _run_step(rig.config, step, rng, tally, clean=clean)
        _nemkonto_answers(base / "var")
        _run_step(rig.config, "answers", rng, tally, clean=True)
        _check(rig, files, tally)
    finally:
        rig.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "chaos.json")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tally = Tally()
    deadline = time.monotonic() + args.minutes * 60
    started = time.monotonic()
    while time.monotonic() < deadline:
        tally.rounds += 1
        with tempfile.TemporaryDirectory(prefix="toekgw-chaos-") as base:
            _round(Path(base), rng, tally)
        print(
            f"round {tally.rounds}: {tally.runs} runs, {sum(tally.kills.values())} kills, "
            f"{tally.payments_sent_by_ksd} payments; lost {tally.lost}, doubled "
            f"{tally.doubled}, stuck {tally.stuck}",
            flush=True,
        )
    result = {**asdict(tally), "kills": dict(sorted(tally.kills.items()))}
    result["kills_total"] = sum(tally.kills.values())
    result["minutes"] = round((time.monotonic() - started) / 60, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "kills"}, indent=2))
    return 0 if not (tally.lost or tally.doubled or tally.stuck or tally.problems) else 1


if __name__ == "__main__":
    raise SystemExit(main())
