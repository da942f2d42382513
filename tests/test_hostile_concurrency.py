"""Two runs of a sending flow at once never put the same bundle twice (issue 11, case 8).

The first ``nemkonto send`` is held (SIGSTOP) right after its put, before its commit; a second
one starts meanwhile. Before the fix both put every bundle; now the second is refused with one
line while the first holds the flow's lock, and the queue holds each bundle once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.test_nemkonto_flow_cli import CONFIG
from toekgw.adapters.nemkonto.settings import DEFAULT_REQUEST_QUEUE
from toekgw.cli.main import cli
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.mq import SqliteQueue


def _toekgw(config: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "toekgw", *args, "--config", str(config)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_stopped(process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = Path(f"/proc/{process.pid}/stat").read_text().split(") ")[1][0]
        if state == "T":
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("the first send never reached its put")


def test_a_second_send_while_the_first_is_mid_put_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    journal_delivery(journal, [instruction(n) for n in range(1, 5)])
    journal.close()
    released = CliRunner().invoke(
        cli, ["nemkonto", "release", "--today", "2026-11-23", "--config", str(config)]
    )
    assert released.exit_code == 0, released.output

    first = _toekgw(config, "nemkonto", "send", TOEKGW_PAUSE_AT="nemkonto.send.after_put")
    _wait_stopped(first)
    second = _toekgw(config, "nemkonto", "send")
    out, err = second.communicate(timeout=60)
    os.kill(first.pid, signal.SIGCONT)
    first_out, first_err = first.communicate(timeout=60)

    assert second.returncode == 2, out + err
    assert "another nemkonto send is running" in err and "Traceback" not in err
    assert first.returncode == 0, first_out + first_err
    with SqliteQueue(tmp_path / "var" / "queues.sqlite") as queue:
        bodies = [m.body for m in queue.browse(DEFAULT_REQUEST_QUEUE)]
    assert len(bodies) == 1 and len(set(bodies)) == 1
    again = _toekgw(config, "nemkonto", "send")
    assert again.communicate(timeout=60) and again.returncode == 0
    with SqliteQueue(tmp_path / "var" / "queues.sqlite") as queue:
        assert queue.depth(DEFAULT_REQUEST_QUEUE) == 1
