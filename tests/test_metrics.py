"""``/healthz`` and ``/metrics`` over real HTTP: the job records, the journal figures, and a
503 naming the job that has not succeeded for ``overdue_after`` intervals."""

from __future__ import annotations

import datetime as dt
import json

from tests.fakeclock import FakeClock
from tests.httpcheck import http_get, samples
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.metrics import Figure, Figures, ServiceCollector, start_server
from toekgw.gateway.scheduler import Job, JobReport, Scheduler

START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def test_health_and_metrics_over_http() -> None:
    clock = FakeClock(START)
    up = {"nemkonto": True}

    def send(now: dt.datetime) -> JobReport:
        if not up["nemkonto"]:
            raise GatewayError("cannot connect to the queue manager")
        return JobReport("sent 1 bundles")

    jobs = [
        Job("nemkonto-send", send, 300, 60),
        Job("receive-g68", lambda now: JobReport("nothing waiting"), 60, 60),
    ]
    scheduler = Scheduler(jobs, clock, backoff_base=60, backoff_max=300)
    figures = Figures()
    figures.replace(START, [Figure("items", "Items.", 7, {"kind": "g68", "state": "at-bank"})])
    collector = ServiceCollector(scheduler.status, figures, clock.now, overdue_after=3)
    server = start_server("127.0.0.1", 0, collector)
    port = server.server_address[1]
    try:
        scheduler.run_due()
        code, body = http_get(port, "/healthz")
        assert code == 200 and json.loads(body)["status"] == "ok"

        up["nemkonto"] = False
        for _ in range(10):  # 16 minutes of failures at 5-minute backoff
            clock.advance(100)
            scheduler.run_due()
        code, body = http_get(port, "/healthz")
        health = json.loads(body)
        assert code == 503 and health["overdue"] == ["nemkonto-send"]
        assert "queue manager" in health["jobs"]["nemkonto-send"]["last_error"]

        code, text = http_get(port, "/metrics")
        assert code == 200
        found = samples(text.decode())
        send_job = (("job", "nemkonto-send"),)
        assert found[("toekgw_job_overdue", send_job)] == 1
        assert found[("toekgw_job_overdue", (("job", "receive-g68"),))] == 0
        assert found[("toekgw_job_consecutive_failures", send_job)] >= 3
        assert found[("toekgw_job_failures_total", send_job)] >= 3
        assert found[("toekgw_job_last_success_timestamp_seconds", send_job)] == (START.timestamp())
        assert found[("toekgw_items", (("kind", "g68"), ("state", "at-bank")))] == 7
        assert found[("toekgw_figures_timestamp_seconds", ())] == START.timestamp()
        assert http_get(port, "/nothing")[0] == 404
    finally:
        server.shutdown()
        server.server_close()
