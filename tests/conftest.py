"""Fixtures shared by the transport, inbound and crash tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crashkit import Rig
from tests.servers import RabbitNode, start_rabbitmq


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """A Serviceplatformen simulator on 127.0.0.1 and a configuration for us (party toek)."""
    started = Rig(tmp_path).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def rabbitmq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitNode]:
    """A private RabbitMQ node for the whole session (tests/servers.py), skipped where
    rabbitmq-server is not installed unless TOEKGW_REQUIRE_RABBITMQ=1."""
    with start_rabbitmq(tmp_path_factory.mktemp("rabbitmq")) as node:
        yield node
