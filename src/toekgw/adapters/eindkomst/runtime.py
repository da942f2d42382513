"""The eIndkomst gateway as configured (``[eindkomst]`` in toekgw.toml)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from toekgw.adapters.eindkomst.flow import EindkomstGateway
from toekgw.adapters.eindkomst.settings import EINDKOMST_SECTION, EindkomstSettings
from toekgw.formats.eindkomst import Sender
from toekgw.gateway.config import Settings
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.config import open_queue

__all__ = ["eindkomst_settings", "open_eindkomst", "overdue_after"]


def eindkomst_settings(settings: Settings) -> EindkomstSettings:
    return settings.require(EINDKOMST_SECTION)


def overdue_after(settings: Settings) -> dt.timedelta:
    eik = settings.section(EINDKOMST_SECTION)
    hours = eik.overdue_hours if eik else 24.0
    return dt.timedelta(hours=hours)


@contextmanager
def open_eindkomst(settings: Settings, *, verify: bool = True) -> Iterator[EindkomstGateway]:
    """The eIndkomst flow on the configured journal and queue; ``verify`` (the default, since
    its commands send reports and take receipts): the journal passes its integrity check."""
    eik = eindkomst_settings(settings)
    journal = open_journal(settings.journal, verify=verify)
    try:
        queue = open_queue(eik.mq)
        try:
            yield EindkomstGateway(
                journal,
                queue,
                sender=Sender(se=eik.sender_se, cvr=eik.sender_cvr, production=eik.production),
                outbox=eik.outbox,
                request_queue=eik.request_queue,
                reply_queue=eik.reply_queue,
                max_message_bytes=eik.max_message_bytes,
                companies=eik.companies,
            )
        finally:
            queue.close()
    finally:
        journal.close()
