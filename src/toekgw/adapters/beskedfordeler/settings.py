"""``[beskedfordeler]``: the broker, TØK's mailbox queue and the message-type routes.

``transport = "sqlite"`` (the embedded broker in ``queue_db``, the default for the demo and a
single host) or ``"rabbitmq"`` with ``[beskedfordeler.rabbitmq]``. ``login = "password"``
(``username``/``password_env``) or ``"token"``: SASL EXTERNAL with an SF1514 token for
``token_service`` on behalf of ``cvr`` (how KOMBIT's broker logs a system in; needs
``[kombit]``). ``[beskedfordeler.routes]`` maps a message type (UUID) to a component name
(:data:`toekgw.adapters.beskedfordeler.components.COMPONENTS`).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from pathlib import Path

from toekgw.gateway.config import ConfigError, CoreSettings, Section, Table, register_section

__all__ = ["BESKEDFORDELER_SECTION", "BeskedfordelerSettings", "RabbitSettings"]

BFO_MODTAG = "http://entityid.kombit.dk/service/bfo_modtag/2"


@dataclasses.dataclass(frozen=True, slots=True)
class RabbitSettings:
    host: str
    port: int
    virtual_host: str
    login: str
    username: str
    password_env: str | None
    token_service: str
    cvr: str | None
    tls: bool
    ca_file: Path | None


@dataclasses.dataclass(frozen=True, slots=True)
class BeskedfordelerSettings:
    queue: str
    transport: str
    queue_db: Path | None
    rabbitmq: RabbitSettings | None
    routes: Mapping[str, str]
    counterpart: str = "beskedfordeler"


def _rabbit(table: Table) -> RabbitSettings:
    settings = RabbitSettings(
        host=table.text("host", "127.0.0.1"),
        port=table.integer("port", 5671, 1, 65535),
        virtual_host=table.text("virtual_host", "BF"),
        login=table.choice("login", ("password", "token"), "token"),
        username=table.text("username", "guest"),
        password_env=table.text("password_env", None),
        token_service=table.text("token_service", BFO_MODTAG),
        cvr=table.text("cvr", None),
        tls=table.flag("tls", True),
        ca_file=table.path("ca_file"),
    )
    table.finish()
    if settings.login == "token" and not settings.cvr:
        raise ConfigError(f"{table.file}: [beskedfordeler.rabbitmq] login = 'token' needs cvr")
    return settings


def _routes(table: Table) -> dict[str, str]:
    from toekgw.adapters.beskedfordeler.components import COMPONENTS

    routes = {}
    for key, value in table.rest().items():
        try:
            kind = str(uuid.UUID(key))
        except ValueError:
            raise ConfigError(
                f"{table.file}: [beskedfordeler.routes] {key!r}: expected a message type UUID"
            ) from None
        if value not in COMPONENTS:
            raise ConfigError(
                f"{table.file}: [beskedfordeler.routes] {key}: unknown component {value!r} "
                f"(known: {', '.join(sorted(COMPONENTS))})"
            )
        routes[kind] = str(value)
    return routes


def _parse(table: Table, core: CoreSettings) -> BeskedfordelerSettings:
    transport = table.choice("transport", ("sqlite", "rabbitmq"), "sqlite")
    queue_db = table.path("queue_db")
    rabbit = table.table("rabbitmq")
    routes = table.table("routes")
    settings = BeskedfordelerSettings(
        queue=table.text("queue", None) or "",
        transport=transport,
        queue_db=queue_db,
        rabbitmq=_rabbit(rabbit) if rabbit is not None else None,
        routes=_routes(routes) if routes is not None else {},
        counterpart=table.text("counterpart", "beskedfordeler"),
    )
    table.finish()
    if not settings.queue:
        raise ConfigError(f"{table.file}: [beskedfordeler] needs queue (the mailbox's name)")
    if transport == "sqlite" and queue_db is None:
        raise ConfigError(f"{table.file}: [beskedfordeler] transport 'sqlite' needs queue_db")
    if transport == "rabbitmq" and settings.rabbitmq is None:
        raise ConfigError(f"{table.file}: transport 'rabbitmq' needs [beskedfordeler.rabbitmq]")
    return settings


BESKEDFORDELER_SECTION = register_section(
    Section(
        "beskedfordeler",
        _parse,
        hint="it names the broker, TØK's mailbox and the message routes; see docs/kombit.md",
    )
)
