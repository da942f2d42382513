"""The gateway's uvicorn server: ``run(max_seconds)`` stops it after that time, and a server
stopped sooner (an operator's Ctrl-C) leaves no timer behind to hold the process open."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette

from tests.pki import identity
from toekgw.cli.main import cli
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.httpserver import AsgiServer


def test_run_stops_after_max_seconds() -> None:
    server = AsgiServer(Starlette())
    began = time.monotonic()
    server.run(max_seconds=0.5)
    assert 0.4 < time.monotonic() - began < 10


def test_a_server_stopped_sooner_leaves_no_timer_running() -> None:
    server = AsgiServer(Starlette())
    runner = threading.Thread(target=server.run, kwargs={"max_seconds": 600})
    runner.start()
    while not server.server.started:
        time.sleep(0.01)
    before = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    server.server.should_exit = True
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert len(before) == 1
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 another server listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_a_port_in_use_is_refused_before_uvicorn_is_handed_it(busy_port: int) -> None:
    with pytest.raises(GatewayError) as caught:
        AsgiServer(Starlette(), port=busy_port).run(max_seconds=5)
    assert str(caught.value) == (
        f"cannot listen on 127.0.0.1:{busy_port}: port {busy_port} is in use "
        "(by another server, or another instance of this one)"
    )
    with pytest.raises(GatewayError, match="is in use"):
        AsgiServer(Starlette(), port=busy_port).start()


def _simulator_args(kind: str, tmp_path: Path) -> list[str]:
    sts_cert, _ = identity("sts-simulator").write_pem(tmp_path, "sts")
    return {
        "debitor": ["--dir", str(tmp_path / "debitor")],
        "sts": ["--dir", str(tmp_path / "sts"), "--trust", str(sts_cert), "--cvr", "29189846"],
        "ydelsesindeks": ["--dir", str(tmp_path / "index"), "--trust-sts", str(sts_cert)],
    }[kind]


@pytest.mark.parametrize("kind", ["debitor", "sts", "ydelsesindeks"])
def test_the_http_simulators_refuse_a_port_out_of_range_or_in_use(
    tmp_path: Path, busy_port: int, kind: str
) -> None:
    args = ["simulate", kind, *_simulator_args(kind, tmp_path), "--max-seconds", "1"]
    for port in ("70000", "-5"):
        result = CliRunner().invoke(cli, [*args, "--port", port])
        assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
        assert f"Invalid value for '--port': {port} is not in the range 0<=x<=65535" in (
            result.stderr
        )
    result = CliRunner().invoke(cli, [*args, "--port", str(busy_port)])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"toekgw: error: cannot listen on 127.0.0.1:{busy_port}: port {busy_port} is in use "
        "(by another server, or another instance of this one)"
    )
