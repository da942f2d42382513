"""KOMBIT's Beskedfordeler (shared municipal message broker): TØK's mailbox over AMQP.

:class:`BeskedConsumer` takes messages from the mailbox queue, journals each once
(de-duplicated by ``BeskedId``) and hands it to the :class:`Component` configured for its
message type in the same durable journal commit, then acks; an unreadable message or an
unknown type goes on the error list and is dead-lettered. ``[beskedfordeler]``
(:data:`BESKEDFORDELER_SECTION`) names the broker, the queue and the routes;
:func:`open_broker` opens the broker it names (RabbitMQ, or the embedded one). The components
by name: ``toekgw.adapters.beskedfordeler.components.COMPONENTS``. See docs/kombit.md.
"""

from toekgw.adapters.beskedfordeler.broker import open_broker
from toekgw.adapters.beskedfordeler.consumer import (
    BESKED_KIND,
    BeskedConsumer,
    Component,
    ConsumeResult,
    UnknownType,
)
from toekgw.adapters.beskedfordeler.settings import BESKEDFORDELER_SECTION, BeskedfordelerSettings

__all__ = [
    "BESKEDFORDELER_SECTION",
    "BESKED_KIND",
    "BeskedConsumer",
    "BeskedfordelerSettings",
    "Component",
    "ConsumeResult",
    "UnknownType",
    "open_broker",
]
