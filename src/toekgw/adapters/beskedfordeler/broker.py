"""Opening the broker ``[beskedfordeler]`` names: the embedded one or RabbitMQ."""

from __future__ import annotations

import os
import ssl

from toekgw.adapters.beskedfordeler.settings import BeskedfordelerSettings, RabbitSettings
from toekgw.adapters.kombit.settings import KombitSettings, load_credentials
from toekgw.adapters.kombit.tokens import TokenClient
from toekgw.gateway.config import ConfigError
from toekgw.gateway.transport.amqp import MessageBroker
from toekgw.gateway.transport.amqp_pika import BrokerSettings, PikaBroker
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker

__all__ = ["open_broker"]


def open_broker(
    settings: BeskedfordelerSettings, *, kombit: KombitSettings | None = None
) -> MessageBroker:
    """A session with the configured broker (a token is fetched for a token login)."""
    if settings.transport == "sqlite":
        assert settings.queue_db is not None
        return SqliteBroker(settings.queue_db)
    assert settings.rabbitmq is not None
    return PikaBroker(_rabbit(settings.rabbitmq, kombit))


def _rabbit(rabbit: RabbitSettings, kombit: KombitSettings | None) -> BrokerSettings:
    tls = None
    if rabbit.tls:
        tls = ssl.create_default_context(cafile=str(rabbit.ca_file) if rabbit.ca_file else None)
    external: bytes | None = None
    password = ""
    if rabbit.login == "token":
        if kombit is None:
            raise ConfigError("[beskedfordeler.rabbitmq] login = 'token' needs a [kombit] table")
        assert rabbit.cvr is not None
        client = TokenClient(kombit, load_credentials(kombit))
        external = client.saml_token(rabbit.token_service, rabbit.cvr).value
        if tls is not None and kombit.certificate and kombit.key:
            tls.load_cert_chain(str(kombit.certificate), str(kombit.key))  # mutual TLS
    elif rabbit.password_env:
        password = os.environ.get(rabbit.password_env, "")
    return BrokerSettings(
        host=rabbit.host,
        port=rabbit.port,
        virtual_host=rabbit.virtual_host,
        username=rabbit.username,
        password=password,
        external_response=external,
        tls=tls,
    )
