"""``toekgw run``'s jobs over a simulated month on a controllable clock: every flow on its
schedule with no command typed, a straks delivery at NemKonto within one poll interval, and
NemKonto down for an hour delaying only its own flows."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from tests.fakeclock import FakeClock
from tests.httpcheck import Samples, samples
from tests.service_world import World
from toekgw.adapters.config import load_settings
from toekgw.adapters.eindkomst import COUNTERPART, DELIVERY
from toekgw.adapters.eindkomst.kinds import order_lookup
from toekgw.adapters.g68 import PaymentInstruction
from toekgw.adapters.service import build_jobs, run_settings
from toekgw.gateway.config import ConfigError
from toekgw.gateway.journal import Journal, open_journal
from toekgw.gateway.metrics import Figures, ServiceCollector
from toekgw.gateway.scheduler import Job, Scheduler

START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)  # a Monday
END = START + dt.timedelta(days=30)
POLL = 7200  # receive-g68 every two hours
SCHEDULE = f"""
[run]
backoff_base = 60
backoff_max = 900

[run.jobs.receive-g68]
interval = {POLL}

[run.jobs.nemkonto-release]
interval = 21600

[run.jobs.nemkonto-send]
interval = 3600

[run.jobs.nemkonto-answers]
interval = 3600

[run.jobs.eindkomst-receive]
interval = 21600

[run.jobs.journal-figures]
interval = 21600

[run.jobs.eindkomst-orders]
interval = 21600
"""


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return START + dt.timedelta(days=day, hours=hour, minutes=minute)


@pytest.fixture
def fast_path(tmp_path: Path) -> Iterator[Path]:
    """A directory in memory where there is one: the month's ~2,000 job runs each commit to
    SQLite, and on this machine's disk the fsyncs, not the gateway, would take the time (the
    crash tests run on disk)."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="toekgw-month-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_a_month_runs_itself(fast_path: Path) -> None:
    world = World(fast_path)
    settings = load_settings(world.write_config(SCHEDULE))
    deliveries = [
        world.plan(_at(0, 6), 1, count=60),
        world.plan(_at(7, 6), 2, count=60),
        world.plan(_at(11, 6), 3, count=40),
    ]
    straks = world.plan(_at(9, 14, 7), 4, count=5, straks=True)
    outage = (_at(14, 9), _at(14, 10))
    stop = threading.Event()
    mq = world.var / "mq"
    during: Samples = {}

    def on_advance(now: dt.datetime) -> None:
        down = outage[0] <= now < outage[1]
        if down and not world.nemkonto_down:  # the queue manager goes away
            mq.rename(world.var / "mq.down")
            mq.write_text("not a directory")
        elif not down and world.nemkonto_down:
            mq.unlink()
            (world.var / "mq.down").rename(mq)
        world.nemkonto_down = down
        world.arrive(now)
        if down and now >= outage[0] + dt.timedelta(minutes=30) and not during:
            during.update(samples(generate_latest(registry).decode()))

    clock = FakeClock(START, until=END, stop=stop, on_advance=on_advance, on_wait=world.act)
    run = run_settings(settings)
    figures = Figures()
    jobs = build_jobs(settings, figures)
    assert [j.name for j in jobs] == [
        "receive-g68",
        "nemkonto-release",
        "nemkonto-send",
        "nemkonto-answers",
        "eindkomst-receive",
        "eindkomst-send",
        "eindkomst-close-month",
        "eindkomst-report",
        "eindkomst-orders",
        "journal-figures",
    ]
    scheduler = Scheduler(jobs, clock, backoff_base=run.backoff_base, backoff_max=run.backoff_max)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(scheduler.status, figures, clock.now, run.overdue_after))
    world.arrive(START)
    scheduler.run(stop)
    world.act(clock.now())

    status = scheduler.status
    # Every flow on its schedule (the outage's retries come on top for NemKonto's).
    assert status["receive-g68"].successes == 30 * 12
    assert status["nemkonto-release"].successes >= 30 * 4
    assert status["eindkomst-receive"].successes == 30 * 4
    assert status["eindkomst-send"].successes == 30
    assert status["eindkomst-close-month"].successes == 30
    assert status["eindkomst-report"].successes == 30
    # Every six hours (and at once after a delivery came in: see _check_eindkomst).
    assert status["eindkomst-orders"].successes >= 30 * 4
    assert status["receive-g68"].counts["received"] == 4

    # Every valid payment KSD sent is at NemKonto, once.
    at_nemkonto = world.nemkonto_payments()
    for name in [*deliveries, straks]:
        sent = world.sent_by_ksd(name)
        assert sent and all(at_nemkonto[key] == 1 for key in sent), name
    assert max(at_nemkonto.values()) == 1

    # The straks delivery is at NemKonto within one poll interval of its arrival.
    arrived = world.delivered[straks]
    first = min(world.at_nemkonto[key] for key in world.sent_by_ksd(straks))
    assert dt.timedelta(0) <= first - arrived <= dt.timedelta(seconds=POLL)

    # The hour NemKonto was down: its flows failed and backed off, the others did not.
    for name in ("nemkonto-send", "nemkonto-answers"):
        assert status[name].failures >= 1 and status[name].consecutive_failures == 0
    for name in ("receive-g68", "nemkonto-release", "eindkomst-close-month"):
        assert status[name].failures == 0, status[name].last_error
    # ... and the metrics showed it while it lasted.
    failing = "toekgw_job_consecutive_failures"
    assert during[(failing, (("job", "nemkonto-send"),))] >= 1
    assert during[(failing, (("job", "receive-g68"),))] == 0
    after = samples(generate_latest(registry).decode())
    assert after[(failing, (("job", "nemkonto-send"),))] == 0
    for state, count in world.payment_states().items():
        assert after[("toekgw_items", (("kind", "g68-delivery"), ("state", state)))] == count
    assert world.payment_states()["at-bank"] > 100
    _check_eindkomst(world, straks, {j.name: j for j in jobs}["eindkomst-report"])
    assert after[("toekgw_queue_depth", (("queue", "NKS.PAYMENT.REQUEST"),))] == 0


def _check_eindkomst(world: World, straks: str, report: Job) -> None:
    """The report windows carried the payments at the bank, each once (one window more
    carries the rest); every citizen paid has a tax-card order, the straks delivery's within
    one poll interval of its arrival."""
    journal = open_journal(world.var / "journal.sqlite")
    try:
        during_month = _reported(journal)
        assert len(during_month) >= 100
        final = report.action(END)
        at_bank = [  # paid to a person (CPR): income to report
            i
            for i in journal.items_of_kind("g68-delivery", "at-bank")
            if i.data is not None and PaymentInstruction.from_data(i.data).ident_code == "02"
        ]
        marks = journal.existing_items(COUNTERPART, [f"paid:{i.id}" for i in at_bank])
        assert len(marks) == len(at_bank), final.summary
        reported = _reported(journal)
        assert len(reported) == len(set(reported)) == len(at_bank)  # each once
        cprs = {
            PaymentInstruction.from_data(i.data).beneficiary[-10:]
            for state in ("at-bank", "sent", "pending")
            for i in journal.items_of_kind("g68-delivery", state)
            if i.data is not None and PaymentInstruction.from_data(i.data).ident_code == "02"
        }
        ordered = journal.items_by_lookups(COUNTERPART, [order_lookup(c) for c in cprs])
        assert all(ordered.get(order_lookup(c)) for c in cprs)
        arrived = world.delivered[straks]
        straks_cprs = {c for c in cprs if c in _straks_cprs(journal, straks)}
        assert straks_cprs
        for c in straks_cprs:
            first = journal.items_by_lookup(COUNTERPART, order_lookup(c))[0]
            tx = journal.get_transmission(first.transmission_id)
            assert dt.datetime.fromisoformat(str(tx.meta["sent_at"])) - arrived <= dt.timedelta(
                seconds=POLL
            )
    finally:
        journal.close()


def _reported(journal: Journal) -> list[str]:
    """The payments the eIndkomst deliveries say they reported (their marks)."""
    return [
        i.business_key
        for t in journal.transmissions(counterpart=COUNTERPART, kind=DELIVERY.name)
        for i in journal.items(t.id)
        if (i.data or {}).get("type") == "paid"
    ]


def _straks_cprs(journal: Journal, name: str) -> set[str]:
    return {
        PaymentInstruction.from_data(i.data).beneficiary[-10:]
        for t in journal.transmissions(kind="g68-delivery")
        if t.file_name == name
        for i in journal.items(t.id)
        if i.data is not None and PaymentInstruction.from_data(i.data).ident_code == "02"
    }


def test_a_job_table_that_is_no_job_is_refused(tmp_path: Path) -> None:
    world = World(tmp_path)
    settings = load_settings(world.write_config("\n[run.jobs.nemkonto-sned]\ninterval = 60\n"))
    with pytest.raises(ConfigError, match=r"\[run.jobs.nemkonto-sned\]: no such job"):
        build_jobs(settings)


def test_a_disabled_job_is_not_run_nor_triggered(tmp_path: Path) -> None:
    world = World(tmp_path)
    extra = "\n[run.jobs.nemkonto-send]\nenabled = false\n"
    jobs = {job.name: job for job in build_jobs(load_settings(world.write_config(extra)))}
    assert "nemkonto-send" not in jobs
    assert jobs["receive-g68"].then == ("nemkonto-release", "eindkomst-orders")
    assert jobs["nemkonto-release"].then == ()
