"""A server that speaks no SSH: one line from toekgw, no library tracebacks (issue 11, case 7).

paramiko logs a failed handshake from its transport thread with full tracebacks; without a
handler of ours they reached the operator's terminal (45 lines on stderr for one attempt).
Third-party loggers are quiet now unless ``--debug``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from toekgw.simulators.serviceplatform.server import ensure_key


@pytest.fixture
def not_ssh() -> Iterator[int]:
    """A loopback server that answers every connection in HTTP and hangs up."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def _config(tmp_path: Path, port: int) -> Path:
    key = tmp_path / "keys" / "id_ed25519"
    ensure_key(key)
    (tmp_path / "keys" / "known_hosts").write_text("")
    config = tmp_path / "toekgw.toml"
    config.write_text(
        f"""
[journal]
path = "var/journal.sqlite"

[staging]
dir = "var/staging"

[serviceplatform]
party = "toek"
transport = "sftp"

[serviceplatform.sftp]
host = "127.0.0.1"
port = {port}
user = "toek"
key = "keys/id_ed25519"
known_hosts = "keys/known_hosts"
connect_timeout = 5
timeout = 5
retries = 1
""",
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize("command", [["doctor"], ["send", "FILE", "--to", "erp"]])
def test_no_traceback_when_the_server_speaks_no_ssh(
    tmp_path: Path, not_ssh: int, command: list[str]
) -> None:
    config = _config(tmp_path, not_ssh)
    payload = tmp_path / "payload.txt"
    payload.write_text("hello\n")
    args = [str(payload) if a == "FILE" else a for a in command]
    env = {k: v for k, v in os.environ.items() if k != "TOEKGW_DEBUG"}
    done = subprocess.run(
        [sys.executable, "-m", "toekgw", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    # Our own retry warnings may show; nothing of paramiko's, and one error line at the end.
    assert not [line for line in lines if "paramiko" in line or "asyncssh" in line], lines
    assert sum(line.startswith("toekgw: ") for line in lines) <= 1
    assert "internal error" not in done.stderr
    assert "127.0.0.1" in done.stdout + done.stderr
