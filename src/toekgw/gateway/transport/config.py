"""Reading a transport's settings from an adapter's configuration table, and opening it.

The transports are the core's; which one a counterpart uses is the adapter's table:
``[<counterpart>.mq]`` for a queue manager, ``[<counterpart>.amqp]`` for a message broker,
``[<counterpart>.sftp]`` or ``[<counterpart>.localdir]`` for a file transport.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from toekgw.gateway.config import REQUIRED, ConfigError, Table
from toekgw.gateway.transport.amqp import MessageBroker
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker
from toekgw.gateway.transport.files import FileTransport
from toekgw.gateway.transport.localdir import LocalDirTransport
from toekgw.gateway.transport.mq import DEFAULT_BACKOUT_THRESHOLD, MessageQueue, SqliteQueue
from toekgw.gateway.transport.sftp import SftpSettings, SftpTransport

__all__ = [
    "AmqpSettings",
    "MqSettings",
    "open_broker",
    "open_file_transport",
    "open_queue",
    "parse_amqp",
    "parse_localdir",
    "parse_mq",
    "parse_sftp",
]


@dataclass(frozen=True, slots=True)
class MqSettings:
    """How to reach a queue manager: the embedded SQLite queue or IBM MQ (pymqi)."""

    transport: Literal["sqlite", "pymqi"]
    queue_db: Path | None
    queue_manager: str | None = None
    channel: str | None = None
    conn_name: str | None = None
    user: str | None = None
    password_env: str | None = None
    backout_threshold: int = DEFAULT_BACKOUT_THRESHOLD


def parse_mq(t: Table) -> MqSettings:
    """``[<counterpart>.mq]``: the embedded SQLite queue or IBM MQ (pymqi)."""
    transport = t.choice("transport", ("sqlite", "pymqi"), "sqlite")
    mq = MqSettings(
        transport=transport,
        queue_db=t.path("queue_db", REQUIRED if transport == "sqlite" else None),
        queue_manager=t.text("queue_manager", REQUIRED if transport == "pymqi" else None),
        channel=t.text("channel", REQUIRED if transport == "pymqi" else None),
        conn_name=t.text("conn_name", REQUIRED if transport == "pymqi" else None),
        user=t.text("user"),
        password_env=t.text("password_env"),
        backout_threshold=t.integer("backout_threshold", DEFAULT_BACKOUT_THRESHOLD, 1, 99),
    )
    t.finish()
    return mq


@dataclass(frozen=True, slots=True)
class AmqpSettings:
    """How to reach a message broker: the embedded SQLite twin or RabbitMQ (pika).
    ``prefetch``: deliveries a consuming session holds unsettled (a consumer that journals
    several per commit takes up to that many at once)."""

    transport: Literal["sqlite", "rabbitmq"]
    queue_db: Path | None
    host: str = "127.0.0.1"
    port: int = 5672
    virtual_host: str = "/"
    username: str = "guest"
    password_env: str | None = None
    tls: bool = False
    ca_file: Path | None = None
    prefetch: int = 50


def parse_amqp(t: Table) -> AmqpSettings:
    """``[<counterpart>.amqp]``: the embedded broker (``queue_db``) or RabbitMQ."""
    transport = t.choice("transport", ("sqlite", "rabbitmq"), "sqlite")
    tls = t.flag("tls", False)
    amqp = AmqpSettings(
        transport=transport,
        queue_db=t.path("queue_db", REQUIRED if transport == "sqlite" else None),
        host=t.text("host", "127.0.0.1"),
        port=t.integer("port", 5671 if tls else 5672, 1, 65535),
        virtual_host=t.text("virtual_host", "/"),
        username=t.text("username", "guest"),
        password_env=t.text("password_env"),
        tls=tls,
        ca_file=t.path("ca_file"),
        prefetch=t.integer("prefetch", 50, 1, 1000),
    )
    t.finish()
    return amqp


def open_broker(settings: AmqpSettings) -> MessageBroker:
    """A session with the configured broker (the caller closes it)."""
    if settings.transport == "sqlite":
        assert settings.queue_db is not None
        return SqliteBroker(settings.queue_db, prefetch=settings.prefetch)
    from toekgw.gateway.transport.amqp_pika import BrokerSettings, PikaBroker

    tls = None
    if settings.tls:
        tls = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    return PikaBroker(
        BrokerSettings(
            host=settings.host,
            port=settings.port,
            virtual_host=settings.virtual_host,
            username=settings.username,
            password=_password(settings.password_env) or "guest",
            tls=tls,
        ),
        prefetch=settings.prefetch,
    )


def _password(variable: str | None) -> str | None:
    if not variable:
        return None
    password = os.environ.get(variable)
    if password is None:
        raise ConfigError(f"the environment variable {variable} (password_env) is not set")
    return password


def parse_sftp(t: Table) -> SftpSettings:
    """``[<counterpart>.sftp]``: host, port, user, key, known_hosts, timeouts, retries."""
    sftp = SftpSettings(
        host=t.text("host", REQUIRED),
        port=t.integer("port", 22, 1, 65535),
        user=t.text("user", REQUIRED),
        key=t.required_path("key"),
        known_hosts=t.required_path("known_hosts"),
        connect_timeout=t.seconds("connect_timeout", 30),
        timeout=t.seconds("timeout", 60),
        retries=t.integer("retries", 3, 0, 20),
    )
    t.finish()
    return sftp


def parse_localdir(t: Table) -> Path:
    """``[<counterpart>.localdir]``: a plain directory standing in for the SFTP server."""
    root = t.required_path("root")
    t.finish()
    return root


def open_file_transport(
    kind: Literal["sftp", "localdir"], sftp: SftpSettings | None, localdir: Path | None
) -> FileTransport:
    """The configured file transport (not yet connected: SFTP connects on first use)."""
    if kind == "sftp":
        assert sftp is not None
        return SftpTransport(sftp)
    assert localdir is not None
    return LocalDirTransport(localdir)


def open_queue(settings: MqSettings) -> MessageQueue:
    """A session with the configured queue manager (the caller closes it)."""
    if settings.transport == "sqlite":
        assert settings.queue_db is not None
        return SqliteQueue(settings.queue_db, backout_threshold=settings.backout_threshold)
    from toekgw.gateway.transport.pymqi_queue import PymqiQueue

    password = _password(settings.password_env)
    assert settings.queue_manager and settings.channel and settings.conn_name
    return PymqiQueue(
        settings.queue_manager,
        settings.channel,
        settings.conn_name,
        user=settings.user,
        password=password,
        backout_threshold=settings.backout_threshold,
    )
