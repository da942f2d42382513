"""A correlation id per transmission in the log lines: the service logs every committed
transmission event with the transmission's id (a received file's transfer id, a bundle's
ref), as a JSON field or, in the text format, a short prefix; a line logged while a flow works
on a transmission carries its id too."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.crashkit import child_env
from tests.service_world import World
from toekgw.gateway.jsonlog import CORRELATION_FIELD, JsonFormatter, correlation
from toekgw.gateway.logsafe import MaskingFormatter, install

ROOT = Path(__file__).resolve().parent.parent


def test_the_service_logs_each_transmission_with_its_id(tmp_path: Path) -> None:
    world = World(tmp_path)
    config = world.write_config("\n[run]\nmetrics_port = 0\n")
    now = dt.datetime.now(dt.UTC)
    world.plan(now, 1, count=5, straks=True)
    world.arrive(now)
    done = subprocess.run(
        [sys.executable, "-m", "toekgw", "--log-format", "json", "run", "--once",
         "--config", str(config)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env=child_env(None),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    told = [line for line in lines if line["logger"] == "toekgw.journal"]
    assert told, done.stderr[-2000:]
    assert all(line.get(CORRELATION_FIELD) for line in told)
    db = sqlite3.connect(world.var / "journal.sqlite")
    ids = {
        kind: transfer or ref
        for kind, ref, transfer in db.execute("SELECT kind, ref, transfer_id FROM transmissions")
    }
    db.close()
    delivery = [line for line in told if line["message"].startswith("g68-delivery ")]
    bundle = [line for line in told if line["message"].startswith("nemkonto-bundle ")]
    assert {line[CORRELATION_FIELD] for line in delivery} == {ids["g68-delivery"]}
    assert {line[CORRELATION_FIELD] for line in bundle} == {ids["nemkonto-bundle"]}
    assert any("-> sent: put on" in line["message"] for line in bundle), bundle


def _logged(formatter: logging.Formatter) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    log = logging.getLogger("toekgw.test.correlation")
    log.addHandler(handler)
    log.propagate = False
    install(log)
    try:
        with correlation("6c0b766e-99f3-5acb-bb88-e613667c6293"):
            log.warning("the queue manager is slow for 0101701234")
        log.warning("outside any transmission")
    finally:
        log.removeHandler(handler)
    return stream.getvalue()


def test_a_line_inside_a_flow_carries_its_id_in_both_formats() -> None:
    first, second = (json.loads(x) for x in _logged(JsonFormatter()).splitlines())
    assert first[CORRELATION_FIELD] == "6c0b766e-99f3-5acb-bb88-e613667c6293"
    assert "0101701234" not in first["message"] and CORRELATION_FIELD not in second
    text = _logged(MaskingFormatter("%(levelname)s %(name)s: %(message)s")).splitlines()
    assert text == [
        "WARNING toekgw.test.correlation: [6c0b766e] the queue manager is slow for 010170-****",
        "WARNING toekgw.test.correlation: outside any transmission",
    ]
