"""SIGKILL ``toekgw run`` at random through a simulated month, restart it, and check with the
counterparts: every valid payment KSD sent is at NemKonto exactly once, nothing is left in IN/
or stuck in the journal; SIGTERM then stops the service with exit 0.

The service runs as a separate process on a simulated clock (``--clock START@SPEED``: three
days a second); KSD's deliveries land and NemKonto and SKAT answer on the same simulated time,
driven from this process. About half the lives end in a SIGKILL after a random time, the
others at a random named crash point inside a flow (``TOEKGW_CRASH_AT``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.crashkit import child_env
from tests.httpcheck import http_get, samples
from tests.service_world import World
from toekgw.cli.main import EXIT_OK

ROOT = Path(__file__).resolve().parent.parent
START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
DAYS = 30
SPEED = 259_200.0  # three simulated days per second
FINAL = {"at-bank", "rejected", "cheque", "error-account", "stopped", "bank-error", "recalled"}
POINTS = [
    "inbound.after_download",
    "inbound.after_commit",
    "inbound.after_remote_dispose",
    "nemkonto.send.after_put",
    "nemkonto.send.after_commit",
    "nemkonto.answers.after_journal",
]
COMMAND = [sys.executable, "-m", "toekgw", "--log-format", "json", "run"]
SCHEDULE = """
[run]
metrics_port = {port}
# At three simulated days a second each job's real run time spans simulated hours, so the jobs
# lag their intervals; what counts as overdue is tested on a controllable clock instead.
overdue_after = 1000
backoff_base = 3600
backoff_max = 7200
stop_grace = 10

[run.jobs.receive-g68]
interval = 7200

[run.jobs.nemkonto-release]
interval = 21600

[run.jobs.nemkonto-send]
interval = 7200

[run.jobs.nemkonto-answers]
interval = 7200

[run.jobs.eindkomst-receive]
interval = 21600

[run.jobs.journal-figures]
interval = 21600

[run.jobs.eindkomst-orders]
interval = 21600
"""


def _start(world: World, at: dt.datetime, crash_at: str | None) -> subprocess.Popen[bytes]:
    """The service on the simulated clock from ``at``, once it has started its jobs."""
    log = world.base / "service.log"
    before = log.read_text().count("service started") if log.exists() else 0
    env = child_env(crash_at)
    with log.open("ab") as stderr:
        proc = subprocess.Popen(
            [*COMMAND, "--config", str(world.config), "--clock", f"{at.isoformat()}@{SPEED:g}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    deadline = time.monotonic() + 30
    while log.read_text().count("service started") == before:
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.01)
    return proc


def _live(world: World, at: dt.datetime, proc: subprocess.Popen[bytes], seconds: float) -> float:
    """Let the world act around the running service for ``seconds``; the real time spent."""
    began = time.monotonic()
    while time.monotonic() - began < seconds and proc.poll() is None:
        now = at + dt.timedelta(seconds=(time.monotonic() - began) * SPEED)
        world.arrive(now)
        world.act(now)
        time.sleep(0.05)
    return time.monotonic() - began


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _at_bank(port: int) -> float | None:
    found = samples(http_get(port, "/metrics")[1].decode())
    return found.get(("toekgw_items", (("kind", "g68-delivery"), ("state", "at-bank"))))


def test_sigkill_through_a_month_loses_and_doubles_nothing(tmp_path: Path) -> None:
    world = World(tmp_path)
    port = _free_port()
    world.write_config(SCHEDULE.format(port=port))
    rng = random.Random(16)
    names = [
        world.plan(START + dt.timedelta(days=day, hours=6), n, count=25, straks=n % 3 == 0)
        for n, day in enumerate(range(0, DAYS - 4, 3), 1)
    ]
    at, kills, crash_points = START, 0, 0
    end = START + dt.timedelta(days=DAYS)
    while at < end:
        # The first life always ends at a crash point (the first delivery's receive, at once):
        # on a loaded machine the random lives may all be over before a flow reaches one.
        first = kills == 0
        crash_at = "inbound.after_commit" if first else None
        if not first and rng.random() < 0.5:
            crash_at = rng.choice(POINTS)
        proc = _start(world, at, crash_at)
        spent = _live(world, at, proc, 5.0 if first else rng.uniform(0.3, 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        else:
            crash_points += 1
        rc = proc.wait(10)
        assert rc == -signal.SIGKILL, f"the service ended by itself with {rc}"
        kills += 1
        at += dt.timedelta(seconds=spent * SPEED)

    # A last life, not killed: everything settles, then SIGTERM stops it cleanly.
    sent = {key: n for name in names for key, n in world.sent_by_ksd(name).items()}
    proc = _start(world, at, None)
    for _ in range(30):
        at += dt.timedelta(seconds=_live(world, at, proc, 1.0) * SPEED)
        states = world.payment_states()
        if set(world.nemkonto_payments()) >= set(sent) and set(states) <= FINAL:
            break
    # The running service answers its health check and shows the journal's figures.
    code, health = http_get(port, "/healthz")
    assert code == 200 and json.loads(health)["status"] == "ok", health
    deadline = time.monotonic() + 10
    while _at_bank(port) != world.payment_states()["at-bank"]:
        assert time.monotonic() < deadline, (_at_bank(port), world.payment_states())
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == EXIT_OK

    print(f"{kills} kills ({crash_points} at a crash point), {len(sent)} payments")
    assert kills >= 6 and crash_points >= 1, (kills, crash_points)
    at_nemkonto = world.nemkonto_payments()
    lost = [key for key in sent if at_nemkonto[key] == 0]
    doubled = [key for key, n in at_nemkonto.items() if n > 1 or key not in sent]
    assert not lost and not doubled, (lost[:5], doubled[:5])
    states = world.payment_states()
    assert set(states) <= FINAL, states
    assert not [p.name for p in (world.platform.party_dir("toek") / "IN").iterdir()]
    assert world.delivered.keys() == set(names)
    # The service's log: one JSON object per line, each job's lines carry its name.
    lines = [json.loads(line) for line in (world.base / "service.log").read_text().splitlines()]
    jobs = Counter(line["job"] for line in lines if "job" in line)
    assert jobs["receive-g68"] > 0 and jobs["nemkonto-send"] > 0
