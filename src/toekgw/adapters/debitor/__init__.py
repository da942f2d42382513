"""ØiR (FK-ØKO) debtor services (SF1590_B): TØK's side of the municipal debtor system.

:data:`DEBITORKONTO_SLETTET` is the Beskedfordeler component that records a deleted debtor
account, and :func:`is_deleted` what stops a new claim on one. :class:`CallbackService` is
TØK's HTTPS callback for the debtor system's coverings and write-offs
(``DaekningAfskrivningRegistreringAfsend``), journaled durably before they are answered, once
per registration, looked up per claim (:func:`claim_key`). ``[debitor]``
(:data:`DEBITOR_SECTION`) configures it. See docs/kombit.md.
"""

from toekgw.adapters.debitor.callback import (
    CALLBACK_KIND,
    CALLBACK_PATH,
    CallbackService,
    CallbackSettings,
    claim_key,
)
from toekgw.adapters.debitor.debitorkonti import DEBITORKONTO_SLETTET, account_key, is_deleted
from toekgw.adapters.debitor.settings import DEBITOR_SECTION, load_trusted

__all__ = [
    "CALLBACK_KIND",
    "CALLBACK_PATH",
    "DEBITORKONTO_SLETTET",
    "DEBITOR_SECTION",
    "CallbackService",
    "CallbackSettings",
    "account_key",
    "claim_key",
    "is_deleted",
    "load_trusted",
]
