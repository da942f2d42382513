"""One run of TØK's interfaces: take what waits, then tell every status due.

The command (``toekgw receive tok``) and the service's job (``tok-intake`` in ``toekgw run``)
both call :func:`take_and_tell`, under the same lock (one run per machine at a time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass

from toekgw.adapters.nemkonto import FlowSettings
from toekgw.adapters.tok.intake import Intake, IntakeResult
from toekgw.adapters.tok.settings import TokSettings
from toekgw.adapters.tok.status import PublishResult, StatusPublisher
from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.journal.claims import open_claims
from toekgw.gateway.transport.config import open_broker

__all__ = ["FLOW", "TokRun", "registration_places", "take_and_tell"]

#: The flow's lock name (``toekgw receive tok`` and the service's job). It is a lock per
#: machine only (:data:`PER_MACHINE`): workers on several machines run the flow at once, the
#: intake sharing the queues (a message to one consumer, acknowledged after its commit) and
#: the publisher claiming the outbox's items (:data:`STATUS_CLAIMS`).
FLOW = "tok-intake"
PER_MACHINE = True

#: The claims namespace of the status publisher (:func:`~toekgw.gateway.journal.claims.
#: open_claims`).
STATUS_CLAIMS = 1


@dataclass(frozen=True)
class TokRun:
    intake: IntakeResult
    statuses: PublishResult


def registration_places(flow: FlowSettings) -> dict[str, str]:
    """Each municipality's CVR -> the registration place its NemKonto agreement is under."""
    return {authority.cvr: place for place, authority in flow.authorities.items()}


def take_and_tell(
    journal: SqliteJournal,
    settings: TokSettings,
    places: dict[str, str],
    now: Callable[[], dt.datetime],
    *,
    wait: float = 0.0,
    max_messages: int | None = None,
) -> TokRun:
    broker = open_broker(settings.amqp)
    try:
        intake = Intake(journal, broker, registration_places=places, now=now,
                        queues=settings.queues)  # fmt: skip
        taken = intake.take(max_messages=max_messages, wait=wait)
        with closing(open_claims(journal.location, STATUS_CLAIMS)) as claims:
            publisher = StatusPublisher(journal, journal, broker, now=now,
                                        reply_queue=settings.reply_queue,
                                        g68_sender=settings.g68_sender, claims=claims)  # fmt: skip
            return TokRun(taken, publisher.publish_due())
    finally:
        broker.close()
