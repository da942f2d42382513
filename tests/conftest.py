"""Fixtures shared by the transport, inbound and crash tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.crashkit import Rig
from tests.servers import RabbitNode, start_rabbitmq
from toekgw.gateway.transport.amqp import MessageBroker
from toekgw.gateway.transport.amqp_pika import PikaBroker
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker

Opener = Callable[..., MessageBroker]  # opener(prefetch=1): a new session

# How fast Hypothesis generates inputs is not under test, and a loaded CI machine (or one
# running other suites) makes the too_slow health check fail at random: every property test
# keeps its own examples and deadlines, without that check.
settings.register_profile("toekgw", suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("toekgw")


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


@pytest.fixture(params=["sqlite", "rabbitmq"])
def open_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens sessions on one broker; all are closed after the test."""
    sessions: list[MessageBroker] = []
    if request.param == "sqlite":

        def opener(prefetch: int = 1) -> MessageBroker:
            sessions.append(SqliteBroker(tmp_path / "broker.sqlite", prefetch=prefetch))
            return sessions[-1]

    else:
        node = request.getfixturevalue("rabbitmq")

        def opener(prefetch: int = 1) -> MessageBroker:
            sessions.append(PikaBroker(node.settings, prefetch=prefetch))
            return sessions[-1]

    yield opener
    for session in sessions:
        session.close()
