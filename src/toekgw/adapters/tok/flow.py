"""One run of TØK's interfaces: take what waits, then tell every status due.

The command (``toekgw receive tok``) and the service's job (``tok-intake`` in ``toekgw run``)
both call :func:`take_and_tell`, under the same single-flight lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from toekgw.adapters.nemkonto import FlowSettings
from toekgw.adapters.tok.intake import Intake, IntakeResult
from toekgw.adapters.tok.settings import TokSettings
from toekgw.adapters.tok.status import PublishResult, StatusPublisher
from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.transport.config import open_broker

__all__ = ["FLOW", "TokRun", "registration_places", "take_and_tell"]

#: The flow's lock name (``toekgw receive tok`` and the service's job).
FLOW = "tok-intake"


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
        publisher = StatusPublisher(journal, journal, broker, now=now,
                                    reply_queue=settings.reply_queue,
                                    g68_sender=settings.g68_sender)  # fmt: skip
        return TokRun(taken, publisher.publish_due())
    finally:
        broker.close()
