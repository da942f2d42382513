"""``toekgw run``: the gateway as a service - every flow on its schedule, until SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import FrameType

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.service import build_jobs, run_settings
from toekgw.cli.options import config_option
from toekgw.gateway.errors import UsageError
from toekgw.gateway.flowlock import service_lock
from toekgw.gateway.identity import USER_ENV
from toekgw.gateway.metrics import Figures, ServiceCollector, start_server
from toekgw.gateway.scheduler import Clock, JobStatus, Scheduler, SystemClock, parse_clock
from toekgw.gateway.service_config import RunSettings

log = logging.getLogger("toekgw.run")


@click.command("run")
@click.option("--once", is_flag=True, help="Run every job once, then exit (a smoke test).")
@click.option(
    "--clock",
    "clock_spec",
    default=None,
    metavar="START[@SPEED]",
    envvar="TOEKGW_CLOCK",
    help="Rehearse on a simulated clock: start at START (ISO time with offset), SPEED times "
    "faster than real time (e.g. 2026-11-02T00:00:00+00:00@3600; default: $TOEKGW_CLOCK, as "
    "every command reads it). Not for production.",
)
@config_option
def run(once: bool, clock_spec: str | None, config_path: Path | None) -> None:
    """Run the gateway as a service: poll, receive, release, send and take answers on the
    schedules in [run.jobs.*] (see docs/operations.md), with no command typed.

    Each job takes the same lock as its command, backs off when its counterpart fails (the
    other jobs go on) and is abandoned past its timeout. A delivery that arrives triggers
    release and send at once. SIGTERM or Ctrl-C: the running step finishes, exit 0. With
    --once: exit 2 when a job could not reach its counterpart (or timed out), else 1 when
    a job failed.
    Logs go to stderr (--log-format json for central logging).
    """
    settings = load_settings(config_path)
    figures = Figures()
    jobs = build_jobs(settings, figures)
    if len(jobs) == 1:
        raise UsageError(
            f"{settings.path}: no flow to run (no [receive.g68], [nemkonto], [eindkomst], "
            "[oir], [tok] or [ydelsesindeks] table, or every job disabled in [run.jobs])"
        )
    service = run_settings(settings)
    if service.identity:
        # Every journal event of this process names the service (gateway.identity).
        os.environ[USER_ENV] = service.identity
    clock: Clock = SystemClock()
    if clock_spec:
        try:
            clock = parse_clock(clock_spec)
        except ValueError as exc:
            raise UsageError(f"--clock {exc}") from None
    scheduler = Scheduler(
        jobs, clock, backoff_base=service.backoff_base, backoff_max=service.backoff_max
    )
    logging.getLogger("toekgw").setLevel(logging.INFO)
    with service_lock(settings.staging):  # no restore under a running service
        _serve_jobs(scheduler, clock, figures, service, once=once)
    failed = [s for s in scheduler.status.values() if s.consecutive_failures]
    if once:
        for status in scheduler.status.values():
            click.echo(f"{status.name}: {_outcome(status)}")
        if any(s.last_error_environmental for s in failed):
            raise SystemExit(2)  # a counterpart out of reach, as every command exits for it
        if failed:
            raise SystemExit(1)


def _serve_jobs(
    scheduler: Scheduler, clock: Clock, figures: Figures, service: RunSettings, *, once: bool
) -> None:
    """The jobs run (once, or until SIGTERM), with the metrics served while they do."""
    if service.metrics_port and not once:
        collector = ServiceCollector(scheduler.status, figures, clock.now, service.overdue_after)
        server = _serve(service.metrics_host, service.metrics_port, collector)
        host, port = server.server_address[:2]
        log.info("metrics on http://%s:%s/metrics, health on /healthz", host, port)
    stop = threading.Event()
    if once:
        scheduler.run_due(stop)
    else:
        _on_signals(stop, scheduler.wake)
        scheduler.run(stop)
    scheduler.close(service.stop_grace)


def _outcome(status: JobStatus) -> str:
    """A job's one run under --once: its error, why it was skipped, or its summary."""
    if status.last_error:
        return status.last_error
    if status.last_skipped:
        return f"skipped: {status.last_skipped}"
    return status.last_summary or "not run"


def _serve(host: str, port: int, collector: ServiceCollector) -> ThreadingHTTPServer:
    try:
        return start_server(host, port, collector)
    except OSError as exc:
        raise UsageError(
            f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}",
            hint="another process has the port? set [run] metrics_port (0: no metrics)",
        ) from exc


def _on_signals(stop: threading.Event, wake: threading.Event) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the running step", signal.Signals(signum).name)
        stop.set()
        wake.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
