"""Fixtures shared by the transport, inbound and crash tests."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.crashkit import Rig
from tests.servers import PostgresServer, RabbitNode, start_postgresql, start_rabbitmq
from toekgw.gateway.journal import JournalLocation, JournalUrl
from toekgw.gateway.transport.amqp import MessageBroker
from toekgw.gateway.transport.amqp_pika import PikaBroker
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker
from toekgw.gateway.transport.mq import MessageQueue, SqliteQueue, backout_queue_name

Opener = Callable[..., MessageBroker]  # opener(prefetch=1): a new session
# queue_opener(backout_threshold=3, backout_queues=None): a new session
QueueOpener = Callable[..., MessageQueue]
# The queues the MQ contract (tests/test_mq_contract.py) uses; each has its <name>.BACKOUT.
MQ_CONTRACT_QUEUES = ("NKS.REQUEST", "NKS.REPLY", "NKS.DEAD")

# How fast Hypothesis generates inputs is not under test, and a loaded CI machine (or one
# running other suites) makes the too_slow health check fail at random: every property test
# keeps its own examples and deadlines, without that check. `make test` draws the same
# examples every run (derandomize: a commit that passed stays passed, and a failure is the
# change's); `make chaos` runs the fuzz tests with fresh random examples (profile "fuzz"),
# where a new finding is a new defect to keep as an @example.
settings.register_profile("toekgw", suppress_health_check=[HealthCheck.too_slow], derandomize=True)
settings.register_profile("fuzz", suppress_health_check=[HealthCheck.too_slow], derandomize=False)
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


@pytest.fixture(params=["sqlite", "pymqi"])
def open_queue(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[QueueOpener]:
    """Opens sessions on one queue manager: ``SqliteQueue`` on one file, or ``PymqiQueue`` on
    the stand-in pymqi's queue manager (tests/fakes/pymqi.py) with :data:`MQ_CONTRACT_QUEUES`
    and their backout queues defined. Keyword arguments go to the session's constructor
    (``backout_threshold``, ``backout_queues``); all sessions are closed after the test."""
    sessions: list[MessageQueue] = []
    if request.param == "sqlite":

        def opener(**kw: object) -> MessageQueue:
            sessions.append(SqliteQueue(tmp_path / "queues.sqlite", **kw))  # type: ignore[arg-type]
            return sessions[-1]

    else:
        from tests.fakes import pymqi as fake
        from toekgw.gateway.transport.pymqi_queue import PymqiQueue

        monkeypatch.setitem(sys.modules, "pymqi", fake)
        broker = fake.reset()
        for name in MQ_CONTRACT_QUEUES:
            broker.define(name)
            broker.define(backout_queue_name(name))

        def opener(**kw: object) -> MessageQueue:
            args: dict[str, object] = {"user": "app", "password": "secret", "reconnect_delay": 0}
            sessions.append(
                PymqiQueue("QM1", "DEV.APP.SVRCONN", "127.0.0.1(1414)", **{**args, **kw})  # type: ignore[arg-type]
            )
            return sessions[-1]

    yield opener
    for session in sessions:
        session.close()


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the whole session (tests/servers.py), skipped where
    PostgreSQL is not installed unless TOEKGW_REQUIRE_POSTGRESQL=1."""
    with start_postgresql() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_at(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JournalLocation]:
    """Where a test's own journal is, once per back end: a new SQLite file, or a new
    PostgreSQL database with the journal's schema (dropped after the test)."""
    if request.param == "sqlite":
        yield tmp_path / "journal.sqlite"
        return
    server: PostgresServer = request.getfixturevalue("postgresql")
    url = server.fresh()
    yield JournalUrl(url)
    server.drop(url)
