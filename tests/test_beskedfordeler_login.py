"""The Beskedfordeler consumer's token login against a RabbitMQ node that requires it.

KOMBIT's broker takes TØK over AMQP 0-9-1 with TLS and SASL ``EXTERNAL`` whose response is the
SF1514 assertion for ``bfo_modtag`` (docs/kombit.md). The private node here is configured the
way a stock RabbitMQ can require that login: a TLS listener that demands a client certificate
signed by its CA, ``auth_mechanisms`` = ``EXTERNAL`` only (``rabbitmq_auth_mechanism_ssl``),
the user being the certificate's common name. What a stock broker cannot do is check the
assertion sent as the EXTERNAL response (KOMBIT's own authentication backend does): that the
response *is* the assertion is checked on the client's side below, not by the broker.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from tests.configs import write_config
from tests.pki import Identity, authority, identity, issued
from tests.servers import ExternalLogin, RabbitNode, start_rabbitmq
from toekgw.adapters.beskedfordeler.broker import open_broker
from toekgw.adapters.beskedfordeler.settings import BESKEDFORDELER_SECTION, BFO_MODTAG
from toekgw.adapters.config import load_settings
from toekgw.adapters.debitor.debitorkonti import is_deleted
from toekgw.adapters.kombit.settings import KOMBIT_SECTION
from toekgw.cli.main import cli
from toekgw.formats.debitor.besked import DebitorkontoSlettet, build_debitorkonto_slettet
from toekgw.formats.kombit import besked, saml
from toekgw.gateway.httpserver import AsgiServer
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.amqp import BrokerUnavailable, QueueSpec
from toekgw.gateway.transport.amqp_pika import BrokerSettings, PikaBroker
from toekgw.simulators.sts import EXCHANGE_PATH, STS_PATH, StsSimulator

CVR = "29189846"
DELETED = "5d0f6a4e-7c1b-4f51-9a0e-3c4f1e2d9b70"
USER = "toek-gateway-bf"


@dataclass
class World:
    root: Path
    node: RabbitNode
    sts: StsSimulator
    sts_url: str
    ca: Path
    gateway: Identity

    def config(self, queue: str, who: Identity | None = None, name: str = "gateway") -> Path:
        cert, key = (who or self.gateway).write_pem(self.root / "keys", name)
        return write_config(
            self.root,
            f"""
[kombit]
sts_url = "{self.sts_url + STS_PATH}"
exchange_url = "{self.sts_url + EXCHANGE_PATH}"
certificate = "{cert}"
key = "{key}"

[beskedfordeler]
queue = "{queue}"
transport = "rabbitmq"

[beskedfordeler.rabbitmq]
host = "127.0.0.1"
port = {self.node.tls_port}
virtual_host = "BF"
login = "token"
cvr = "{CVR}"
tls = true
ca_file = "{self.ca}"

[beskedfordeler.routes]
"{DELETED}" = "oir.debitorkonto-slettet"
""",
        )

    def session(self, config: Path) -> PikaBroker:
        settings = load_settings(config)
        broker = open_broker(
            settings.require(BESKEDFORDELER_SECTION), kombit=settings.section(KOMBIT_SECTION)
        )
        assert isinstance(broker, PikaBroker)
        return broker


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("bf-login")
    ca = authority("beskedfordeler test CA")
    ca_pem, _ = ca.write_pem(root / "pki", "ca")
    server_cert, server_key = issued("localhost", ca, server=True).write_pem(root / "pki", "node")
    gateway = issued(USER, ca)
    sts_identity = identity("sts-simulator")
    sts = StsSimulator(
        identity_key=sts_identity.key,
        identity_certificate=sts_identity.certificate,
        trusted=[gateway.certificate],
        cvrs=frozenset({CVR}),
        services=frozenset({BFO_MODTAG}),  # a token for another service is refused
    )
    login = ExternalLogin(ca_pem, server_cert, server_key, users=(USER,))
    with start_rabbitmq(root / "node", login) as node, AsgiServer(sts.app()) as sts_server:
        yield World(root / "run", node, sts, sts_server.url, ca_pem, gateway)


def _message(account: str) -> bytes:
    now = dt.datetime.now(dt.UTC)
    payload = build_debitorkonto_slettet(DebitorkontoSlettet(account, CVR, now))
    return besked.build_besked(besked_type=DELETED, payload=payload, recipient_cvr=CVR, created=now)


def test_the_consumer_logs_in_with_its_token_and_takes_the_mailbox(world: World) -> None:
    queue = f"dueslag.{uuid.uuid4()}"
    config = world.config(queue)
    issued_before = world.sts.issued
    publisher = world.session(config)
    try:
        # The login's EXTERNAL response is the SF1514 assertion for bfo_modtag and our CVR.
        response = publisher.settings.external_response
        assert response is not None
        assertion = etree.fromstring(response)
        assert etree.QName(assertion).text == f"{{{saml.SAML}}}Assertion"
        audience = assertion.findtext(f".//{{{saml.SAML}}}Audience")
        assert audience == BFO_MODTAG and CVR.encode() in response
        publisher.declare(QueueSpec(queue))
        publisher.publish(queue, _message("D-7"))
    finally:
        publisher.close()
    assert world.sts.issued == issued_before + 1
    result = CliRunner().invoke(
        cli, ["receive", "beskedfordeler", "--config", str(config), "--wait", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "1 messages: 1 journaled" in result.output
    with open_journal(config.parent / "journal.sqlite") as journal:
        assert is_deleted(journal, CVR, "D-7")


def test_a_certificate_the_broker_does_not_trust_is_refused(world: World) -> None:
    stranger = issued(USER, authority("another CA"))
    world.sts.trusted.append(stranger.certificate)  # the STS knows it: only TLS refuses it
    config = world.config(f"dueslag.{uuid.uuid4()}", stranger, name="stranger")
    with pytest.raises(BrokerUnavailable):
        world.session(config)


def test_a_password_login_is_refused(world: World) -> None:
    settings = BrokerSettings(
        host="127.0.0.1", port=world.node.port, username="guest", password="guest"
    )
    with pytest.raises(BrokerUnavailable):
        PikaBroker(settings)
