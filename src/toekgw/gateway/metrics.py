"""``/healthz`` and ``/metrics`` for the service: what a monitoring system polls.

``/metrics`` is Prometheus' text format (``prometheus-client``), built on each scrape from the
scheduler's job records and the latest journal figures:

- per job: ``toekgw_job_last_success_timestamp_seconds``, ``toekgw_job_last_duration_seconds``,
  ``toekgw_job_runs_total``, ``toekgw_job_failures_total``, ``toekgw_job_timeouts_total``,
  ``toekgw_job_consecutive_failures``, ``toekgw_job_overdue`` (1: no success for
  ``overdue_after`` intervals);
- the figures the ``journal-figures`` job reads from the journal (items per state, overdue
  items, error-list size, queue depths ...), each a gauge with its labels
  (:class:`Figure`), and ``toekgw_figures_timestamp_seconds`` (when they were read);
- the live figures a flow registers (:meth:`Figures.add_live`), read at each scrape: the
  remaining lifetime of the cached KOMBIT tokens (``toekgw_kombit_token_remaining_seconds``).

``/healthz`` answers 200 with a JSON summary while every job has succeeded within
``overdue_after`` of its intervals, else 503 naming the overdue jobs: a load balancer or
systemd watchdog needs nothing more. The server listens on the configured local address only.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from toekgw.gateway.scheduler import JobStatus

__all__ = ["Figure", "Figures", "ServiceCollector", "health", "start_server"]

PREFIX = "toekgw_"


@dataclass(frozen=True)
class Figure:
    """One gauge value read from the journal: ``toekgw_<name>{labels} value``."""

    name: str
    help: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Figures:
    """The latest journal figures, replaced as a whole by the job that reads them."""

    at: dt.datetime | None = None
    values: list[Figure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    live: list[Callable[[], Iterable[Figure]]] = field(default_factory=list)

    def add_live(self, source: Callable[[], Iterable[Figure]]) -> None:
        """A source read at each scrape (figures a flow keeps in memory, not the journal)."""
        with self.lock:
            self.live.append(source)

    def replace(self, at: dt.datetime, values: Iterable[Figure]) -> None:
        fresh = list(values)
        with self.lock:
            self.at, self.values = at, fresh

    def snapshot(self) -> tuple[dt.datetime | None, list[Figure]]:
        with self.lock:
            return self.at, list(self.values)

    def live_values(self) -> list[Figure]:
        with self.lock:
            sources = list(self.live)
        return [figure for source in sources for figure in source()]


class ServiceCollector(Collector):
    """Yields the metrics on each scrape (registered in a registry of the service's own)."""

    def __init__(
        self,
        status: Mapping[str, JobStatus],
        figures: Figures,
        now: Callable[[], dt.datetime],
        overdue_after: int,
    ) -> None:
        self.status, self.figures, self.now = status, figures, now
        self.overdue_after = overdue_after

    def collect(self) -> Iterator[Metric]:
        yield from self._jobs()
        yield from self._figures()
        yield from _families(self.figures.live_values())

    def _jobs(self) -> Iterator[Metric]:
        def gauge(name: str, text: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(PREFIX + name, text, labels=["job"])

        def counter(name: str, text: str) -> CounterMetricFamily:
            return CounterMetricFamily(PREFIX + name, text, labels=["job"])

        success = gauge("job_last_success_timestamp_seconds", "When the job last succeeded.")
        duration = gauge("job_last_duration_seconds", "How long its last run took.")
        streak = gauge("job_consecutive_failures", "Failures since its last success.")
        overdue = gauge("job_overdue", "1 when it has not succeeded for overdue_after intervals.")
        runs = counter("job_runs", "Runs started.")
        failures = counter("job_failures", "Runs that failed (including timeouts).")
        timeouts = counter("job_timeouts", "Runs abandoned past their timeout.")
        now = self.now()
        for name, s in self.status.items():
            if s.last_success is not None:
                success.add_metric([name], s.last_success.timestamp())
            if s.last_duration is not None:
                duration.add_metric([name], s.last_duration)
            streak.add_metric([name], s.consecutive_failures)
            overdue.add_metric([name], float(s.overdue(now, self.overdue_after)))
            runs.add_metric([name], s.runs)
            failures.add_metric([name], s.failures)
            timeouts.add_metric([name], s.timeouts)
        yield from (success, duration, streak, overdue, runs, failures, timeouts)

    def _figures(self) -> Iterator[Metric]:
        at, values = self.figures.snapshot()
        if at is None:
            return
        stamp = GaugeMetricFamily(
            PREFIX + "figures_timestamp_seconds", "When the journal figures were read."
        )
        stamp.add_metric([], at.timestamp())
        yield stamp
        yield from _families(values)


def _families(values: Iterable[Figure]) -> Iterator[GaugeMetricFamily]:
    families: dict[str, GaugeMetricFamily] = {}
    for figure in values:
        family = families.get(figure.name)
        if family is None:
            family = families[figure.name] = GaugeMetricFamily(
                PREFIX + figure.name, figure.help, labels=sorted(figure.labels)
            )
        family.add_metric([figure.labels[k] for k in sorted(figure.labels)], figure.value)
    yield from families.values()


def health(
    status: Mapping[str, JobStatus], now: dt.datetime, overdue_after: int
) -> tuple[bool, dict[str, object]]:
    """Whether the service is healthy, and the JSON body that says why."""
    late = sorted(name for name, s in status.items() if s.overdue(now, overdue_after))
    jobs = {
        name: {
            "last_success": s.last_success.isoformat() if s.last_success else None,
            "consecutive_failures": s.consecutive_failures,
            "last_error": s.last_error,
        }
        for name, s in status.items()
    }
    body: dict[str, object] = {"status": "overdue" if late else "ok", "overdue": late}
    body["jobs"] = jobs
    return not late, body


def start_server(
    host: str,
    port: int,
    collector: ServiceCollector,
) -> ThreadingHTTPServer:
    """Serve ``/metrics`` and ``/healthz`` on ``host:port`` from a daemon thread (port 0: any
    free port; read it from ``server.server_address``)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/metrics":
                self._send(200, "text/plain; version=0.0.4", generate_latest(registry))
            elif self.path.split("?")[0] == "/healthz":
                ok, body = health(collector.status, collector.now(), collector.overdue_after)
                self._send(200 if ok else 503, "application/json", json.dumps(body).encode())
            else:
                self._send(404, "text/plain", b"not found: try /metrics or /healthz\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # scrapes are not worth a log line each

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
