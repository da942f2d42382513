"""One run of the debtor route: TØK's claims and set-offs to the debtor system.

The command (``toekgw debitor send``) and the service's job (``debitor-send`` in ``toekgw
run``) both call :func:`send_claims` under the flow's single-flight lock, so one call is
never made by two processes at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from toekgw.adapters.debitor.claims import ClaimSender, SendResult
from toekgw.adapters.debitor.client import DebitorClient, Endpoints
from toekgw.adapters.debitor.settings import DEBITOR_SECTION, AfsendSettings
from toekgw.adapters.kombit import KOMBIT_SECTION, TokenClient, load_credentials
from toekgw.gateway.config import ConfigError, Settings
from toekgw.gateway.journal import SqliteJournal

__all__ = ["FLOW", "open_client", "send_claims"]

#: The flow's lock name.
FLOW = "debitor-send"


def open_client(settings: Settings) -> DebitorClient:
    """The SF1590_B client of ``[debitor.afsend]`` with ``[kombit]``'s tokens."""
    debitor = settings.require(DEBITOR_SECTION)
    if debitor.afsend is None:
        raise ConfigError(
            f"{settings.path}: no [debitor.afsend] table (the debtor system's endpoints)"
        )
    kombit = settings.require(KOMBIT_SECTION)
    credentials = load_credentials(kombit)
    return DebitorClient(_endpoints(debitor.afsend), TokenClient(kombit, credentials), credentials)


def _endpoints(afsend: AfsendSettings) -> Endpoints:
    return Endpoints(
        registrering=afsend.registrering_url,
        indbetaling=afsend.indbetaling_url,
        ca=str(afsend.ca) if afsend.ca else None,
        timeout_seconds=afsend.timeout_seconds,
        attempts=afsend.attempts,
        backoff_seconds=afsend.backoff_seconds,
        backoff_max_seconds=afsend.backoff_max_seconds,
    )


def send_claims(
    journal: SqliteJournal,
    settings: Settings,
    now: Callable[[], dt.datetime],
    *,
    client: DebitorClient | None = None,
) -> SendResult:
    debitor = settings.require(DEBITOR_SECTION)
    sender = ClaimSender(
        journal, client or open_client(settings), now=now, counterpart=debitor.counterpart
    )
    return sender.run()
