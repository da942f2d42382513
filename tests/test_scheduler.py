"""The service's scheduler on a controllable clock: intervals, backoff, timeouts, triggers,
single flight and stopping."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fakeclock import FakeClock
from tests.test_nemkonto_flow_cli import CONFIG as NEMKONTO_CONFIG
from toekgw.cli.main import cli
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.flowlock import flow_lock, lock_path
from toekgw.gateway.scheduler import Job, JobReport, Scheduler, backoff_delay

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
HOUR = 3600.0


def _clock(hours: float, stop: threading.Event) -> FakeClock:
    return FakeClock(START, until=START + dt.timedelta(hours=hours), stop=stop)


def _recorder(clock: FakeClock, seen: list[dt.datetime]) -> Job:
    def action(now: dt.datetime) -> JobReport:
        seen.append(now)
        return JobReport("ok", counts={"items": 1})

    return Job("tick", action, interval=HOUR, timeout=5)


def test_jobs_run_on_their_intervals() -> None:
    stop = threading.Event()
    clock = _clock(24, stop)
    hourly: list[dt.datetime] = []
    daily: list[dt.datetime] = []
    jobs = [
        _recorder(clock, hourly),
        Job("daily", lambda now: daily.append(now) or JobReport("ok"), 24 * HOUR, 5),
    ]
    scheduler = Scheduler(jobs, clock)
    scheduler.run(stop)
    assert hourly == [START + dt.timedelta(hours=h) for h in range(24)]
    assert daily == [START]
    status = scheduler.status["tick"]
    assert status.successes == 24 and status.counts == {"items": 24}
    assert status.last_success == START + dt.timedelta(hours=23)


def test_a_failing_job_backs_off_and_stops_no_other() -> None:
    stop = threading.Event()
    clock = _clock(6, stop)
    down_until = START + dt.timedelta(hours=1)
    tried: list[dt.datetime] = []
    hourly: list[dt.datetime] = []

    def flaky(now: dt.datetime) -> JobReport:
        tried.append(now)
        if now < down_until:
            raise GatewayError("cannot connect to 127.0.0.1:1: connection refused")
        return JobReport("sent")

    jobs = [Job("send", flaky, interval=HOUR, timeout=5), _recorder(clock, hourly)]
    scheduler = Scheduler(jobs, clock, backoff_base=60, backoff_max=1200)
    scheduler.run(stop)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(tried)]
    assert gaps[:5] == [60, 120, 240, 480, 960]  # doubling
    assert gaps[5:7] == [1200, 1200]  # capped
    assert tried[6] < down_until <= tried[7]
    assert scheduler.status["send"].failures == 7
    assert scheduler.status["send"].consecutive_failures == 0
    assert len(hourly) == 6  # the other job kept its hours
    assert backoff_delay(10, 60, 1200) == 1200


def test_a_trigger_runs_the_followers_at_once() -> None:
    stop = threading.Event()
    clock = _clock(2, stop)
    order: list[str] = []

    def receive(now: dt.datetime) -> JobReport:
        order.append("receive")
        return JobReport("1 straks delivery", trigger=len(order) == 4)

    def follower(name: str) -> Job:
        return Job(name, lambda now: order.append(name) or JobReport("ok"), 10 * HOUR, 5)

    jobs = [
        Job("receive", receive, HOUR, 5, then=("release", "send")),
        follower("release"),
        follower("send"),
    ]
    Scheduler(jobs, clock).run(stop)
    # The three due at start; an hour later the receive's trigger runs release and send at
    # once, nine hours before their interval would.
    assert order == ["receive", "release", "send", "receive", "release", "send"]


def test_unknown_follower_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown job"):
        Scheduler([Job("a", lambda now: JobReport("x"), 1, 1, then=("b",))], FakeClock(START))


def test_a_step_past_its_timeout_is_abandoned_and_not_started_twice() -> None:
    stop = threading.Event()
    clock = _clock(3, stop)
    release = threading.Event()
    starts: list[dt.datetime] = []
    hourly: list[dt.datetime] = []

    def hang(now: dt.datetime) -> JobReport:
        starts.append(now)
        release.wait(10)
        return JobReport("late")

    jobs = [Job("hang", hang, HOUR, timeout=0.2), _recorder(clock, hourly)]
    scheduler = Scheduler(jobs, clock, backoff_base=HOUR)
    scheduler.run(stop)
    status = scheduler.status["hang"]
    assert len(starts) == 1 and status.timeouts == 1 and status.busy >= 1
    assert "timed out after 0.2 s" in (status.last_error or "")
    assert status.last_error_environmental  # run --once exits 2 for it
    assert len(hourly) == 3
    release.set()
    scheduler.close(grace=5)
    assert scheduler.run_due() == ["hang", "tick"]  # ended: it runs again when due
    assert len(starts) == 2 and status.consecutive_failures == 0


def test_a_flow_held_elsewhere_is_busy_not_failed(tmp_path: Path) -> None:
    clock = FakeClock(START)
    lock = tmp_path / "locks" / "send.lock"

    def send(now: dt.datetime) -> JobReport:
        with flow_lock(lock, "send"):
            return JobReport("sent")

    scheduler = Scheduler([Job("send", send, HOUR, 5)], clock, backoff_base=30)
    with flow_lock(lock, "send"):  # an operator's `toekgw nemkonto send`
        scheduler.run_due()
    status = scheduler.status["send"]
    assert status.busy == 1 and status.failures == 0
    assert status.next_due == START + dt.timedelta(seconds=30)
    clock.advance(30)
    assert scheduler.run_due() == ["send"] and status.successes == 1


def test_run_once_says_which_job_was_skipped_and_why(tmp_path: Path) -> None:
    """``run --once`` printed "nemkonto-send: None" for a job whose flow an operator's
    command held: nothing said it had not run."""
    config = tmp_path / "toekgw.toml"
    config.write_text(NEMKONTO_CONFIG, encoding="utf-8")
    held = lock_path(tmp_path / "var" / "staging", "nemkonto-send")
    with flow_lock(held, "nemkonto send"):  # an operator's `toekgw nemkonto send`
        result = CliRunner().invoke(cli, ["run", "--once", "--config", str(config)])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["nemkonto-send"].startswith("skipped: another nemkonto send is running")
    assert "None" not in result.stdout


def test_stop_finishes_the_step_and_starts_no_other() -> None:
    stop = threading.Event()
    clock = FakeClock(START)
    ran: list[str] = []

    def first(now: dt.datetime) -> JobReport:
        ran.append("first")
        stop.set()  # SIGTERM arrives during the step
        return JobReport("finished")

    jobs = [
        Job("first", first, HOUR, 5),
        Job("second", lambda now: ran.append("second") or JobReport("x"), HOUR, 5),
    ]
    scheduler = Scheduler(jobs, clock)
    scheduler.run(stop)
    assert ran == ["first"] and scheduler.status["first"].successes == 1


def test_a_bug_is_named_and_overdue_is_seen() -> None:
    clock = FakeClock(START)

    def broken(now: dt.datetime) -> JobReport:
        raise KeyError("bundle")

    scheduler = Scheduler([Job("broken", broken, 60, 5)], clock)
    scheduler.run_due()
    status = scheduler.status["broken"]
    assert status.last_error == "KeyError: 'bundle'"
    assert not status.last_error_environmental  # run --once exits 1 for it
    clock.advance(600)
    assert status.overdue(clock.now(), grace=3)


def test_a_counterpart_out_of_reach_is_the_environments_failure() -> None:
    def unreachable(now: dt.datetime) -> JobReport:
        raise ConnectionRefusedError(111, "Connection refused")

    scheduler = Scheduler([Job("poll", unreachable, 60, 5)], FakeClock(START))
    scheduler.run_due()
    status = scheduler.status["poll"]
    assert status.last_error_environmental and "Connection refused" in (status.last_error or "")
