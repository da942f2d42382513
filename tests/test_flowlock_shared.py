"""Single flight per flow across machines that share a PostgreSQL journal: the flow's lock
is taken in the database as well as in the (per-machine) lock file, and a killed holder's lock
is free again."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import PostgresServer
from toekgw.gateway.flowlock import FlowBusy, flow_lock
from toekgw.gateway.journal import JournalUrl

HOLDER = """
import sys, time
from pathlib import Path
from toekgw.gateway.flowlock import flow_lock
from toekgw.gateway.journal import JournalUrl
with flow_lock(Path(sys.argv[1]), "nemkonto send", journal=JournalUrl(sys.argv[2])):
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_flow_runs_once_across_machines_and_a_killed_holder_frees_it(
    tmp_path: Path, postgresql: PostgresServer
) -> None:
    url = postgresql.fresh()
    journal = JournalUrl(url)
    # Two machines: each its own staging (its own lock file), one journal.
    here, there = tmp_path / "a" / "nemkonto-send.lock", tmp_path / "b" / "nemkonto-send.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(there), url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(FlowBusy, match="on a machine that shares the journal"),
            flow_lock(here, "nemkonto send", journal=journal),
        ):
            pass
        with flow_lock(here.with_name("nemkonto-release.lock"), "release", journal=journal):
            pass  # another flow is not held up
        with flow_lock(here, "nemkonto send"):
            pass  # without the journal: the file lock alone, which is this machine's
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        deadline = time.monotonic() + 10
        while True:
            try:
                with flow_lock(here, "nemkonto send", journal=journal):
                    break
            except FlowBusy:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        holder.kill()
        holder.wait(timeout=10)
        postgresql.drop(url)
