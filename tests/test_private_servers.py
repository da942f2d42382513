"""The test servers' private RabbitMQ node and PostgreSQL server start again on new ports
when the port they were given is taken before they bind it (several suites starting servers at
once race for free ports)."""

from __future__ import annotations

import contextlib
import socket
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
