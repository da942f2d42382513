"""``[tok]``: the broker TØK's interfaces arrive on, their queues, and where status goes.

``[tok.amqp]`` is the broker (:func:`toekgw.gateway.transport.config.parse_amqp`: the embedded
one in ``queue_db`` or RabbitMQ); ``[tok.queues]`` may rename the three interfaces' queues
(``payments``, ``claims``, ``effectuations``); ``reply_queue`` is the status queue's name with
``{sender}`` for the case system's name; ``g68_sender`` (e.g. ``"KSD"``), where set, is told the
status of every payment of a G68 delivery on its reply queue. A municipality's payments are
released under its NemKonto agreement (``[nemkonto.authorities.*]``, found by its CVR number).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from toekgw.adapters.tok.intake import DEFAULT_QUEUES
from toekgw.adapters.tok.status import DEFAULT_REPLY_QUEUE
from toekgw.formats.tok import Interface
from toekgw.gateway.config import ConfigError, CoreSettings, Section, Table, register_section
from toekgw.gateway.transport.config import AmqpSettings, parse_amqp

__all__ = ["TOK_SECTION", "TokSettings"]


@dataclass(frozen=True, slots=True)
class TokSettings:
    amqp: AmqpSettings
    queues: Mapping[Interface, str]
    reply_queue: str = DEFAULT_REPLY_QUEUE
    g68_sender: str | None = None


def _parse(table: Table, core: CoreSettings) -> TokSettings:
    amqp = table.table("amqp", required=True)
    assert amqp is not None
    queues = dict(DEFAULT_QUEUES)
    renamed = table.table("queues")
    if renamed is not None:
        for interface in Interface:
            queues[interface] = renamed.text(interface.value, queues[interface])
        renamed.finish()
    reply = table.text("reply_queue", DEFAULT_REPLY_QUEUE)
    g68_sender = table.text("g68_sender") or None
    table.finish()
    if "{sender}" not in reply:
        raise ConfigError(f"{table.where('reply_queue')}: must contain {{sender}}")
    return TokSettings(parse_amqp(amqp), queues, reply, g68_sender)


TOK_SECTION = register_section(
    Section("tok", _parse, hint="it names the broker of TØK's interfaces; see docs/interfaces.md")
)
