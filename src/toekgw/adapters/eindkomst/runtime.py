"""The eIndkomst gateway as configured (``[eindkomst]`` in toekgw.toml), on its route."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from toekgw.adapters.beskedfordeler.settings import BESKEDFORDELER_SECTION
from toekgw.adapters.eindkomst.besked import SKATTEKORT
from toekgw.adapters.eindkomst.flow import EindkomstGateway
from toekgw.adapters.eindkomst.routes import MqRoute, ReportRoute
from toekgw.adapters.eindkomst.settings import EINDKOMST_SECTION, EindkomstSettings
from toekgw.adapters.eindkomst.sf0770 import ServiceplatformRoute
from toekgw.adapters.serviceplatform import open_transport, serviceplatform_settings
from toekgw.formats.eindkomst import Sender
from toekgw.gateway.config import ConfigError, Settings
from toekgw.gateway.flowlock import lock_path
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.config import open_queue

__all__ = ["eindkomst_settings", "open_eindkomst", "open_route", "overdue_after"]


def eindkomst_settings(settings: Settings) -> EindkomstSettings:
    return settings.require(EINDKOMST_SECTION)


def overdue_after(settings: Settings) -> dt.timedelta:
    eik = settings.section(EINDKOMST_SECTION)
    hours = eik.overdue_hours if eik else 24.0
    return dt.timedelta(hours=hours)


@contextmanager
def open_route(settings: Settings) -> Iterator[ReportRoute]:
    """The configured route: the queue manager (``mq``) or Serviceplatformen (SF0770_B)."""
    eik = eindkomst_settings(settings)
    if eik.route == "mq":
        queue = open_queue(eik.mq)
        try:
            yield MqRoute(
                queue,
                eik.request_queue,
                eik.reply_queue,
                lock=lock_path(settings.staging, "eindkomst-hand-over"),
                shared=settings.journal,
            )
        finally:
            queue.close()
        return
    sp = serviceplatform_settings(settings)
    assert eik.skat_party is not None  # the settings require it for this route
    if eik.tax_cards == "beskedfordeler":
        _check_tax_card_route(settings)
    transport = open_transport(sp)
    try:
        yield ServiceplatformRoute(
            transport,
            party=sp.party,
            skat_party=eik.skat_party,
            lock=eik.outbox / ".sf0770.lock",
            out_dir=sp.out_dir,
            in_dir=sp.in_dir,
            receipt_timeout=sp.receipt_timeout,
        )
    finally:
        transport.close()


def _check_tax_card_route(settings: Settings) -> None:
    """``tax_cards = "beskedfordeler"`` needs a message type routed to the tax-card component:
    otherwise SKAT's tax cards would be dead-lettered."""
    section = settings.section(BESKEDFORDELER_SECTION)
    if section is None or SKATTEKORT.name not in section.routes.values():
        raise ConfigError(
            f'{settings.path}: [eindkomst] tax_cards = "beskedfordeler" needs a message type '
            f'routed to "{SKATTEKORT.name}" in [beskedfordeler.routes]',
            hint='or take them over SFTP: tax_cards = "sftp"',
        )


@contextmanager
def open_eindkomst(
    settings: Settings,
    *,
    verify: bool = True,
    clock: Callable[[], dt.datetime] | None = None,
) -> Iterator[EindkomstGateway]:
    """The eIndkomst flow on the configured journal and route; ``verify`` (the default, since
    its commands send reports and take receipts): the journal passes its integrity check;
    ``clock`` (default: the real time) stamps what is sent (``toekgw run`` gives its own)."""
    eik = eindkomst_settings(settings)
    with ExitStack() as stack:
        journal = open_journal(settings.journal, verify=verify)
        stack.callback(journal.close)
        route = stack.enter_context(open_route(settings))
        yield EindkomstGateway(
            journal,
            route,
            sender=Sender(se=eik.sender_se, cvr=eik.sender_cvr, production=eik.production),
            outbox=eik.outbox,
            max_message_bytes=eik.max_message_bytes,
            companies=eik.companies,
            clock=clock,
        )
