"""``--log-format json``: one JSON object per line on stderr, CPR masked, the correlation id
kept; the text format stays the default."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from toekgw.gateway.jsonlog import JsonFormatter

CPR = "0101701234"

EMIT = f"""
import logging
from toekgw.cli.main import cli

@cli.command("emit")
def emit() -> None:
    log = logging.getLogger("toekgw.test")
    log.warning("payment to %s refused", "{CPR}", extra={{"correlation_id": "tx-17"}})
    try:
        raise ValueError("bad CPR {CPR}")
    except ValueError:
        log.exception("step failed")

cli(prog_name="toekgw")
"""


def _emit(*options: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", EMIT, *options, "emit"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stderr


def test_json_lines_mask_the_cpr_and_keep_the_correlation_id() -> None:
    stderr = _emit("--log-format", "json")
    assert CPR not in stderr
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert [(e["level"], e["logger"]) for e in lines] == [
        ("WARNING", "toekgw.test"),
        ("ERROR", "toekgw.test"),
    ]
    first, second = lines
    assert first["message"] == "payment to 010170-**** refused"
    assert first["correlation_id"] == "tx-17"
    assert first["ts"].endswith("+00:00")
    assert "ValueError: bad CPR 010170-****" in second["exc"]
    assert "correlation_id" not in second


def test_text_stays_the_default() -> None:
    stderr = _emit()
    assert CPR not in stderr
    assert "WARNING toekgw.test: [tx-17] payment to 010170-**** refused" in stderr
    assert not stderr.lstrip().startswith("{")


def test_formatter_masks_whatever_the_handler_filters() -> None:
    record = logging.LogRecord("toekgw.x", logging.INFO, __file__, 1, "cpr %s", (CPR,), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "cpr 010170-****"
    assert entry["level"] == "INFO"
