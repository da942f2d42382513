"""The service's scheduler: every flow as a job with its own interval, backoff and timeout.

``toekgw run`` is one long-running process that runs the flows an operator would otherwise
type, each on its schedule. The scheduler knows jobs only by name and action; which jobs exist
(receive G68, release, send, answers, eIndkomst …) is decided above the core, from the
configuration.

- **Single flight.** A job's action takes the same flow lock as the command (``flow_lock``), so
  a job never overlaps an operator's run of the same flow, nor itself: a job whose previous run
  is still going (past its timeout) is skipped, not started twice.
- **Backoff.** A job that fails (a counterpart down, a disk full, a bug) is retried after
  ``backoff_base`` seconds, doubling per failure up to ``backoff_max``; the other jobs go on as
  scheduled. One success resets it.
- **Timeout.** A step that runs longer than its job's ``timeout`` is abandoned: the scheduler
  stops waiting for it, counts a failure and goes on. The step's thread keeps its flow lock
  until it ends, so no second run of that flow starts meanwhile; at exit it dies with the
  process, which the crash safety of every flow makes harmless (a SIGKILL at any step loses and
  doubles nothing).
- **Triggers.** A job's report may say that something arrived (a straks delivery): the jobs
  named in its ``then`` run at once, before anything else, instead of at their next interval.
- **Stopping.** :meth:`Scheduler.run` returns when its ``stop`` event is set (SIGTERM): the
  step that is running is finished (up to its timeout), no new one starts.

The clock is injected (:class:`Clock`): the schedule reads ``now()`` and waits with
``wait()``, so a test drives a whole month in seconds. Durations are measured in real time.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.errors import is_environmental
from toekgw.gateway.flowlock import FlowBusy
from toekgw.gateway.jsonlog import JOB_FIELD

__all__ = [
    "Clock",
    "Job",
    "JobReport",
    "JobStatus",
    "ScaledClock",
    "Scheduler",
    "SystemClock",
    "backoff_delay",
    "parse_clock",
]

log = logging.getLogger("toekgw.run")


class Clock(Protocol):
    """What the scheduler reads the time from and waits on."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware."""
        ...

    def wait(self, seconds: float, wake: threading.Event) -> None:
        """Wait ``seconds`` or until ``wake`` is set, whichever comes first."""
        ...


class SystemClock:
    """The real clock (UTC)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def wait(self, seconds: float, wake: threading.Event) -> None:
        wake.wait(max(0.0, seconds))


class ScaledClock:
    """A clock that starts at ``start`` and runs ``speed`` times faster than the real one: a
    simulated month in minutes, for rehearsals and the crash tests (``toekgw run --clock``)."""

    def __init__(self, start: dt.datetime, speed: float = 1.0) -> None:
        if start.tzinfo is None or speed <= 0:
            raise ValueError("a clock needs a timezone-aware start and a speed > 0")
        self.start, self.speed = start, speed
        self._origin = time.monotonic()

    def now(self) -> dt.datetime:
        elapsed = (time.monotonic() - self._origin) * self.speed
        return self.start + dt.timedelta(seconds=elapsed)

    def wait(self, seconds: float, wake: threading.Event) -> None:
        wake.wait(max(0.0, seconds) / self.speed)


def parse_clock(text: str) -> ScaledClock:
    """``2026-11-02T00:00:00+00:00`` or ``...@86400`` (the speed) -> a :class:`ScaledClock`."""
    when, _, speed = text.partition("@")
    try:
        start = dt.datetime.fromisoformat(when)
        return ScaledClock(start, float(speed or 1))
    except ValueError as exc:
        raise ValueError(
            f"{text!r}: expected an ISO time with its offset, optionally @SPEED ({exc})"
        ) from None


@dataclass(frozen=True)
class JobReport:
    """What one run of a job did: a line for the log, counts for the metrics, and whether it
    triggers the job's ``then`` jobs (something arrived that must go on at once)."""

    summary: str
    counts: Mapping[str, int] = field(default_factory=dict)
    trigger: bool = False


#: A job's action: one run of its flow as of ``now``.
Action = Callable[[dt.datetime], JobReport]


@dataclass(frozen=True)
class Job:
    name: str
    action: Action
    interval: float
    timeout: float
    then: tuple[str, ...] = ()


@dataclass
class JobStatus:
    """A job's record, read by ``/healthz`` and ``/metrics``."""

    name: str
    interval: float
    next_due: dt.datetime
    runs: int = 0
    successes: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    timeouts: int = 0
    busy: int = 0
    last_start: dt.datetime | None = None
    last_success: dt.datetime | None = None
    last_duration: float | None = None
    last_error: str | None = None
    # The last failure was the environment's (a counterpart out of reach, a timeout), not
    # the job's: what `toekgw run --once` exits 2 for.
    last_error_environmental: bool = False
    last_summary: str | None = None
    # Why the last run was skipped (the flow held elsewhere, the last run still going), until
    # a run succeeds or fails.
    last_skipped: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def overdue(self, now: dt.datetime, grace: float) -> bool:
        """No success for ``grace`` intervals (or ever, once that long has passed)."""
        since = self.last_success or self.last_start
        return since is not None and (now - since).total_seconds() > grace * self.interval


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: base, 2·base, 4·base … cap."""
    return float(min(cap, base * 2 ** max(0, failures - 1)))


class _Step:
    """One run of an action in its own thread, so that the scheduler can stop waiting."""

    def __init__(self, job: Job, now: dt.datetime) -> None:
        self.report: JobReport | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(
            target=self._body, args=(job.action, now), name=f"job-{job.name}", daemon=True
        )

    def _body(self, action: Action, now: dt.datetime) -> None:
        try:
            self.report = action(now)
        except BaseException as exc:  # reported by the scheduler, which goes on
            self.error = exc


class Scheduler:
    """Runs ``jobs`` on ``clock``; see the module docstring."""

    def __init__(
        self,
        jobs: Iterable[Job],
        clock: Clock,
        *,
        backoff_base: float = 30.0,
        backoff_max: float = 3600.0,
    ) -> None:
        self.jobs = {job.name: job for job in jobs}
        for job in self.jobs.values():
            unknown = [name for name in job.then if name not in self.jobs]
            if unknown:
                raise ValueError(f"job {job.name}: unknown job(s) in then: {unknown}")
        self.clock = clock
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        now = clock.now()
        self.status = {name: JobStatus(name, job.interval, now) for name, job in self.jobs.items()}
        self.wake = threading.Event()
        self._urgent: list[str] = []
        self._abandoned: dict[str, _Step] = {}
        self._lock = threading.Lock()

    # -- control ------------------------------------------------------------------------

    def trigger(self, name: str) -> None:
        """Run ``name`` at once (thread-safe)."""
        with self._lock:
            if name not in self._urgent:
                self._urgent.append(name)
        self.wake.set()

    def run(self, stop: threading.Event) -> None:
        """Run due jobs until ``stop`` is set."""
        log.info("service started: jobs %s", ", ".join(self.jobs))
        while not stop.is_set():
            self.run_due(stop)
            if stop.is_set():
                break
            self.wake.clear()
            with self._lock:
                pending = bool(self._urgent)
            if not pending:
                self.clock.wait(self.seconds_to_next(), self.wake)
        log.info("service stopped")

    def seconds_to_next(self) -> float:
        soonest = min(s.next_due for s in self.status.values())
        return max(0.0, (soonest - self.clock.now()).total_seconds())

    def run_due(self, stop: threading.Event | None = None) -> list[str]:
        """Run every triggered job, then every job that is due, earliest first; the names run."""
        ran: list[str] = []
        while stop is None or not stop.is_set():
            name = self._next_name()
            if name is None:
                break
            ran.append(name)
            report = self._run_one(self.jobs[name])
            if report is not None and report.trigger:
                for follower in self.jobs[name].then:
                    self.trigger(follower)
        return ran

    def _next_name(self) -> str | None:
        with self._lock:
            if self._urgent:
                return self._urgent.pop(0)
        now = self.clock.now()
        due = [(s.next_due, name) for name, s in self.status.items() if s.next_due <= now]
        return heapq.nsmallest(1, due)[0][1] if due else None

    # -- one run ------------------------------------------------------------------------

    def _run_one(self, job: Job) -> JobReport | None:
        status = self.status[job.name]
        now = self.clock.now()
        left = self._abandoned.get(job.name)
        if left is not None and left.thread.is_alive():
            status.busy += 1
            status.last_skipped = "its last run is still going (past its timeout)"
            status.next_due = now + dt.timedelta(seconds=job.interval)
            log.warning(
                "job %s: its last run is still going (past its timeout); skipped",
                job.name,
                extra={JOB_FIELD: job.name},
            )
            return None
        self._abandoned.pop(job.name, None)
        status.runs += 1
        status.last_start = now
        step = _Step(job, now)
        started = time.monotonic()
        step.thread.start()
        step.thread.join(job.timeout)
        status.last_duration = time.monotonic() - started
        status.last_skipped = None
        if step.thread.is_alive():
            self._abandoned[job.name] = step
            status.timeouts += 1
            self._failed(
                job, status, f"timed out after {job.timeout:g} s (abandoned)", environmental=True
            )
            return None
        if isinstance(step.error, FlowBusy):
            status.busy += 1
            status.last_skipped = mask_cpr_in_text(str(step.error))
            status.next_due = now + dt.timedelta(seconds=min(job.interval, self.backoff_base))
            log.info("job %s: %s", job.name, step.error, extra={JOB_FIELD: job.name})
            return None
        if step.error is not None:
            environmental = is_environmental(step.error)
            kind = "" if environmental else f"{type(step.error).__name__}: "
            self._failed(job, status, f"{kind}{step.error}", environmental=environmental)
            return None
        report = step.report or JobReport("done")
        status.successes += 1
        status.consecutive_failures = 0
        status.last_success = now
        status.last_error = None
        status.last_summary = mask_cpr_in_text(report.summary)
        for key, value in report.counts.items():
            status.counts[key] = status.counts.get(key, 0) + value
        status.next_due = now + dt.timedelta(seconds=job.interval)
        log.info(
            "job %s: %s (%.2f s)",
            job.name,
            report.summary,
            status.last_duration,
            extra={JOB_FIELD: job.name},
        )
        return report

    def _failed(self, job: Job, status: JobStatus, message: str, *, environmental: bool) -> None:
        status.failures += 1
        status.consecutive_failures += 1
        # What an exception said (an OSError quotes its path) or a job's summary (a file's
        # name) is shown by run --once and /healthz: masked, as the log line is.
        status.last_error = mask_cpr_in_text(message)
        status.last_error_environmental = environmental
        delay = backoff_delay(status.consecutive_failures, self.backoff_base, self.backoff_max)
        status.next_due = self.clock.now() + dt.timedelta(seconds=delay)
        log.error(
            "job %s failed (%d in a row): %s; next try in %g s",
            job.name,
            status.consecutive_failures,
            message,
            delay,
            extra={JOB_FIELD: job.name},
        )

    def close(self, grace: float) -> None:
        """Wait up to ``grace`` seconds for abandoned steps to end."""
        deadline = time.monotonic() + grace
        for step in self._abandoned.values():
            step.thread.join(max(0.0, deadline - time.monotonic()))
