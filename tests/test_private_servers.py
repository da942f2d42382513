"""The test servers' private RabbitMQ node and PostgreSQL server start again on new ports
when the port they were given is taken before they bind it (several suites starting servers at
once race for free ports), and are stopped when the test process is killed."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import servers


@contextlib.contextmanager
def first_port_taken(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """:func:`servers.free_port` hands out a port another socket listens on, then free ones."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = int(taken.getsockname()[1])
        ports = iter([busy])
        real = servers.free_port
        monkeypatch.setattr(servers, "free_port", lambda: next(ports, None) or real())
        yield busy


def test_a_node_whose_port_was_taken_starts_again_on_new_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers.require_rabbitmq()
    with first_port_taken(monkeypatch) as busy, servers.start_rabbitmq(tmp_path / "n") as node:
        assert node.port != busy
        assert servers._answers(node.port)


def test_a_postgresql_whose_port_was_taken_starts_again_on_a_new_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    servers.require_postgresql()
    with first_port_taken(monkeypatch) as busy, servers.start_postgresql() as server:
        assert server.port != busy
        server.admin("SELECT 1")


HOLDERS = {
    "postgresql": """
import sys, time
from tests import servers
with servers.start_postgresql() as server:
    print(server.base, server.port, flush=True)
    time.sleep(300)
""",
    "rabbitmq": """
import sys, time
from pathlib import Path
from tests import servers
with servers.start_rabbitmq(Path(sys.argv[1])) as node:
    print(node.base, node.port, flush=True)
    time.sleep(300)
""",
}


@pytest.mark.parametrize("kind", sorted(HOLDERS))
def test_a_server_whose_test_process_is_killed_is_stopped(tmp_path: Path, kind: str) -> None:
    """(and a PostgreSQL's directory removed)"""
    (servers.require_postgresql if kind == "postgresql" else servers.require_rabbitmq)()
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-c", HOLDERS[kind], str(tmp_path)]
    holder = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        base, port = holder.stdout.readline().split()
        assert _listens(int(port))
        holder.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 60
        while _listens(int(port)) or (kind == "postgresql" and Path(base).exists()):
            assert time.monotonic() < deadline, f"the killed test's {kind} still runs"
            time.sleep(0.2)
    finally:
        holder.kill()
        holder.wait(timeout=10)


def _listens(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
