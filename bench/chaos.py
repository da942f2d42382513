"""``make chaos``: random SIGKILLs over every flow for N minutes, then an independent check
that nothing was lost, doubled or left stuck.

Each round starts from nothing: a Serviceplatformen simulator (asyncssh on 127.0.0.1), KSD's
G68 deliveries on it (1-3, up to 400 payments each, a few planted errors), an eIndkomst report
request (5-60 recipients), a file of up to 3 MB for the ERP, and the gateway's configuration.
The gateway's commands run as separate processes, as an operator runs them: ``receive g68``,
``nemkonto release``, ``nemkonto send``, ``receive nemkonto``, ``eindkomst send``, ``eindkomst
receive`` and ``send FILE --to erp``; between them the NemKonto and eIndkomst simulators answer.
Any run may be killed (SIGKILL) at a random named crash point (``TOEKGW_CRASH_AT``) or after a
random delay; a killed run is simply run again, as an operator or ``toekgw run`` would. A
round ends with one clean pass of every step.

The check reads what the counterparts hold - the delivery files with their generator manifests
(what KSD sent), the NemKonto and eIndkomst simulators' ledgers, the platform's delivery ledger
- plus the journal's states for "stuck":

- lost: a valid payment NemKonto never saw; the eIndkomst report SKAT never got, or got with
  other recipients or amounts; the file the ERP never got whole;
- doubled: a payment NemKonto saw in two bundles (``DUPLICATE_PAYMENT``) or never validly
  sent; a second eIndkomst report for the same request; the file delivered twice;
- stuck: a payment item not in a final state, a delivery still in IN/, an eIndkomst delivery
  not receipted, an upload not receipted.

Bundles and eIndkomst deliveries put twice (a kill between the queue commit and the journal)
are counted and reported: the counterpart takes each once by its id, so a re-put is not a
double payment or a double report.

    python bench/chaos.py --minutes 10 [--seed 1] [--json bench/results/chaos.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
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
from toekgw.simulators.eindkomst import EindkomstSimulator  # noqa: E402
from toekgw.simulators.ksd import GeneratorSettings, write_delivery  # noqa: E402
from toekgw.simulators.ksd.g68 import manifest_path  # noqa: E402
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript  # noqa: E402

TODAY = dt.date(2026, 11, 23)
RELEASE_DAY = TODAY + dt.timedelta(days=45)  # every payment is due by then
SUPPLIER = "29189846"
MUNICIPALITY = "101"
EIK_SE = "12345674"  # passes mod-11
FINAL = {"at-bank", "rejected", "cheque", "error-account", "stopped", "bank-error", "recalled"}
POINTS = {
    "receive": ["inbound.after_download", "inbound.after_commit", "inbound.after_remote_dispose"],
    "release": [],
    "send": ["nemkonto.send.after_put", "nemkonto.send.after_commit"],
    "answers": ["nemkonto.answers.after_journal"],
    "eik-send": [
        "eindkomst.send.after_journal",
        "eindkomst.send.after_put",
        "eindkomst.send.after_mq_commit",
    ],
    "eik-receive": ["eindkomst.receive.after_journal"],
    "sp-send": ["outbound.after_journal", "outbound.after_upload", "transport.put.mid"],
}
STEPS = {
    "receive": ["receive", "g68", "--today", TODAY.isoformat()],
    "release": ["nemkonto", "release", "--today", RELEASE_DAY.isoformat()],
    "send": ["nemkonto", "send"],
    "answers": ["receive", "nemkonto"],
    "eik-send": ["eindkomst", "send", "var/eindkomst-request.json"],
    "eik-receive": ["eindkomst", "receive"],
    "sp-send": ["send", "var/outgoing/VOUCHERS.txt", "--to", "erp", "--wait", "10"],
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

[eindkomst]
sender_se = "{EIK_SE}"
companies = ["{EIK_SE}"]
queue_db = "var/queues.sqlite"
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
    eindkomst_reports: int = 0
    eindkomst_deliveries_put_again: int = 0
    files_sent: int = 0
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
            cwd=config.parent,
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


def _eindkomst_answers(var: Path) -> None:
    with SqliteQueue(var / "queues.sqlite") as queue:
        simulator = EindkomstSimulator(queue, var / "eindkomst-ledger.sqlite")
        simulator.drain()
        simulator.ledger.close()


def _eindkomst_request(var: Path, rng: random.Random) -> tuple[int, int]:
    """One month's income report of 5-60 recipients; returns (recipients, sum of amounts)."""
    people = {
        f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(50, 99):02d}"
        f"{rng.randint(0, 3)}{n:03d}": rng.randint(100_00, 30_000_00)
        for n in range(rng.randint(5, 60))
    }
    request = {
        "reports": [
            {
                "company_se": EIK_SE,
                "period_start": "2026-11-01",
                "period_end": "2026-11-30",
                "disposition_date": "2026-11-27",
                "income_type": "06",
                "recipients": [{"cpr": c, "amounts": {"0014": a}} for c, a in people.items()],
            }
        ]
    }
    var.mkdir(parents=True, exist_ok=True)
    (var / "eindkomst-request.json").write_text(json.dumps(request), encoding="utf-8")
    return len(people), sum(people.values())


def _check_eindkomst(var: Path, expected: tuple[int, int], tally: Tally) -> None:
    """SKAT's simulator holds exactly one report with every recipient and the whole sum, and
    the journal has its delivery receipted (not stuck in journaled/sent)."""
    ledger = sqlite3.connect(var / "eindkomst-ledger.sqlite")
    reports = ledger.execute("SELECT count_6000, amount_sum, status FROM report").fetchall()
    tally.eindkomst_deliveries_put_again += ledger.execute(
        "SELECT coalesce(sum(deliveries - 1), 0) FROM delivery"
    ).fetchone()[0]
    ledger.close()
    tally.eindkomst_reports += 1
    if not reports:
        tally.lost += 1
        tally.problems.append(f"round {tally.rounds}: eIndkomst report never reached SKAT")
    elif len(reports) > 1:
        tally.doubled += len(reports) - 1
        tally.problems.append(f"round {tally.rounds}: eIndkomst reports {reports}")
    elif reports[0][:2] != expected:
        tally.problems.append(f"round {tally.rounds}: eIndkomst {reports[0]} != {expected}")
    journal = sqlite3.connect(var / "journal.sqlite")
    stuck = journal.execute(
        "SELECT count(*) FROM transmissions WHERE kind = 'eindkomst-delivery' "
        "AND state != 'receipted'"
    ).fetchone()[0]
    journal.close()
    if stuck:
        tally.stuck += stuck
        tally.problems.append(f"round {tally.rounds}: {stuck} eIndkomst deliveries not receipted")


def _outgoing_file(var: Path, rng: random.Random) -> str:
    """A file for the ERP over Serviceplatformen's send; returns its SHA-256."""
    path = var / "outgoing" / "VOUCHERS.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(rng.randbytes(rng.randint(1_000, 3_000_000)))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_sent_file(rig: Rig, sha256: str, tally: Tally) -> None:
    """The platform delivered the file to the ERP exactly once, whole, and the journal has
    its send receipted."""
    delivered = [d for d in rig.sim.platform.deliveries() if d.recipients == ("erp",)]
    whole = [d for d in delivered if d.sha256 == sha256]
    tally.files_sent += 1
    if not whole:
        tally.lost += 1
        tally.problems.append(f"round {tally.rounds}: the file never reached the ERP whole")
    if len(delivered) > 1:
        tally.doubled += len(delivered) - 1
        tally.problems.append(f"round {tally.rounds}: the file reached the ERP {len(delivered)}x")
    journal = sqlite3.connect(rig.base / "var" / "journal.sqlite")
    states = journal.execute(
        "SELECT state FROM transmissions WHERE kind = 'serviceplatform-file'"
    ).fetchall()
    journal.close()
    if states != [("receipted",)]:
        tally.stuck += 1
        tally.problems.append(f"round {tally.rounds}: the send's journal states {states}")


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
        expected = _eindkomst_request(base / "var", rng)
        sha256 = _outgoing_file(base / "var", rng)
        for clean in (False, False, True):
            for step in STEPS:
                if step == "answers":
                    _nemkonto_answers(base / "var")
                if step == "eik-receive":
                    _eindkomst_answers(base / "var")
                _run_step(rig.config, step, rng, tally, clean=clean)
        _nemkonto_answers(base / "var")
        _run_step(rig.config, "answers", rng, tally, clean=True)
        _eindkomst_answers(base / "var")
        _run_step(rig.config, "eik-receive", rng, tally, clean=True)
        _check(rig, files, tally)
        _check_eindkomst(base / "var", expected, tally)
        _check_sent_file(rig, sha256, tally)
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
