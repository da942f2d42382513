"""``deploy/``: the systemd unit passes ``systemd-analyze verify`` without a warning; every
metric an alert rule names is in the service's real /metrics output (promtool is not
installed here); the Dockerfile runs the gateway as a non-root user with the journal and
staging on volumes (its build needs a Docker daemon, which this machine does not have)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fakeclock import FakeClock
from tests.httpcheck import http_get
from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.test_nemkonto_flow_cli import CONFIG
from toekgw.adapters.config import load_settings
from toekgw.adapters.figures import journal_figures
from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.journal import open_journal
from toekgw.gateway.metrics import Figures, ServiceCollector, start_server
from toekgw.gateway.scheduler import Job, JobReport, Scheduler

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
START = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)


def test_the_systemd_unit_verifies_without_a_warning(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        if os.environ.get("TOEKGW_REQUIRE_SYSTEMD_ANALYZE"):
            pytest.fail("systemd-analyze is missing (TOEKGW_REQUIRE_SYSTEMD_ANALYZE is set)")
        pytest.skip("no systemd-analyze (.ci/run installs it)")
    toekgw = Path(sys.executable).with_name("toekgw")
    unit = (DEPLOY / "toekgw.service").read_text()
    assert "ExecStart=/opt/toekgw/bin/toekgw --log-format json run" in unit
    # The unit names the installed path; here the virtual environment's stands in for it.
    (tmp_path / "toekgw.service").write_text(unit.replace("/opt/toekgw/bin/toekgw", str(toekgw)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "toekgw.service")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"},
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "toekgw.service" in line]
    assert warnings == [], warnings


def _scrape(tmp_path: Path) -> str:
    """/metrics of a service over a journal with payments sent and an error-list entry."""
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    tx = journal_delivery(journal, [instruction(n) for n in range(1, 4)])
    finding = Finding("g68.x", Severity.ERROR, "bad", line=1)
    journal.add_error(counterpart="ksd", subject="record", findings=[finding], transmission_id=tx)
    journal.close()
    figures = Figures()
    figures.replace(START, journal_figures(load_settings(config), START))
    clock = FakeClock(START)
    scheduler = Scheduler([Job("nemkonto-send", lambda now: JobReport("ok"), 300, 60)], clock)
    scheduler.run_due()
    collector = ServiceCollector(scheduler.status, figures, clock.now, overdue_after=3)
    server = start_server("127.0.0.1", 0, collector)
    try:
        code, body = http_get(server.server_address[1], "/metrics")
    finally:
        server.shutdown()
    assert code == 200
    return body.decode()


def test_every_alert_rule_names_metrics_the_service_exports(tmp_path: Path) -> None:
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    scrape = _scrape(tmp_path)
    exported = set(re.findall(r"^(toekgw_\w+)[{ ]", scrape, re.MULTILINE))
    assert 'toekgw_items{kind="g68-delivery",state="pending"} 3.0' in scrape
    checked = 0
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "labels", "annotations"} <= rule.keys(), rule
            assert rule["labels"]["severity"] in ("warning", "critical")
            for name in re.findall(r"\b(toekgw_\w+)\b", rule["expr"]):
                assert name in exported, f"{rule['alert']}: {name} is not in /metrics"
                checked += 1
    assert checked >= 8
    for name in ("toekgw_category3_differences", "toekgw_overdue_items", "toekgw_queue_depth",
                 "toekgw_error_list_entries"):  # fmt: skip
        assert name in exported


def test_the_container_runs_as_a_user_with_volumes_for_journal_and_staging() -> None:
    lines = [
        line.strip()
        for line in (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    final = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")) :]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    volumes = " ".join(line for line in final if line.startswith("VOLUME "))
    assert "/var/lib/toekgw/journal" in volumes and "/var/lib/toekgw/staging" in volumes
    assert any(line.startswith("ENTRYPOINT") and '"toekgw"' in line for line in final)
    assert any(line.startswith("HEALTHCHECK") and "/healthz" in line for line in lines)
    # Nothing in the image is written at run time but the volumes: docker run --read-only.
    assert "--read-only" in (DEPLOY / "Dockerfile").read_text()
