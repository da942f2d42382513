"""TØK's own interfaces to the case systems: the intake and the status they get back.

- :class:`Intake` takes the payments, claims and effectuation interfaces' messages from their
  queues (any :class:`~toekgw.gateway.transport.amqp.MessageBroker`: RabbitMQ or the embedded
  twin) into the journal, acknowledging each after the durable commit;
- :class:`StatusPublisher` tells each sender every state its items reach, from the journal's
  status outbox, at least once, under event ids the sender de-duplicates by.

The message formats are :mod:`toekgw.formats.tok`; docs/interfaces.md describes both.
"""

from toekgw.adapters.tok.intake import DEFAULT_QUEUES, MAX_PRIORITY, Intake, IntakeResult
from toekgw.adapters.tok.kinds import COUNTERPART, KINDS, REFUSED, STATUS_KINDS
from toekgw.adapters.tok.status import DEFAULT_REPLY_QUEUE, StatusPublisher

__all__ = [
    "COUNTERPART",
    "DEFAULT_QUEUES",
    "DEFAULT_REPLY_QUEUE",
    "KINDS",
    "MAX_PRIORITY",
    "REFUSED",
    "STATUS_KINDS",
    "Intake",
    "IntakeResult",
    "StatusPublisher",
]
