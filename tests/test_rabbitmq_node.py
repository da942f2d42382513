"""The private RabbitMQ node of the test servers starts again on new ports when the port it
was given is taken before it binds (several suites starting nodes at once race for ports)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import servers


def test_a_node_whose_port_was_taken_starts_again_on_new_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers.require_rabbitmq()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = int(taken.getsockname()[1])
        ports: Iterator[int] = iter([busy])
        real = servers.free_port
        monkeypatch.setattr(servers, "free_port", lambda: next(ports, None) or real())
        with servers.start_rabbitmq(tmp_path / "node") as node:
            assert node.port != busy
            assert servers._answers(node.port)
