"""ØiR (FK-ØKO) debtor services (SF1590_B): TØK's side of the municipal debtor system.

Outbound, :class:`ClaimSender` sends TØK's claims on (B_01) and payments from set-offs (B_03)
with :class:`DebitorClient`, each call journaled before it is made
(:mod:`toekgw.adapters.debitor.afsend`); :func:`claim_ledger` reads each claim's ledger from
the journal and :func:`reconcile_claims` reconciles it with the debtor system's balances.

:data:`DEBITORKONTO_SLETTET` is the Beskedfordeler component that records a deleted debtor
account, and :func:`is_deleted` what stops a new claim on one. :class:`CallbackService` is
TØK's HTTPS callback for the debtor system's coverings and write-offs
(``DaekningAfskrivningRegistreringAfsend``), journaled durably before they are answered, once
per registration, looked up per claim (:func:`claim_key`). ``[debitor]``
(:data:`DEBITOR_SECTION`) configures it. See docs/kombit.md.
"""

from toekgw.adapters.debitor.afsend import AFSEND_KIND, B01, B03, Call, claim_call, make_call
from toekgw.adapters.debitor.callback import (
    CALLBACK_KIND,
    CALLBACK_PATH,
    CallbackService,
    CallbackSettings,
)
from toekgw.adapters.debitor.claims import ClaimSender, SendResult
from toekgw.adapters.debitor.client import (
    DebitorClient,
    DebitorError,
    DebitorRejected,
    DebitorUnavailable,
    Endpoints,
)
from toekgw.adapters.debitor.debitorkonti import DEBITORKONTO_SLETTET, is_deleted
from toekgw.adapters.debitor.keys import account_key, claim_key
from toekgw.adapters.debitor.ledger import ClaimLedger, claim_ledger, ledgers, reconcile_claims
from toekgw.adapters.debitor.settings import DEBITOR_SECTION, load_trusted

__all__ = [
    "AFSEND_KIND",
    "B01",
    "B03",
    "CALLBACK_KIND",
    "CALLBACK_PATH",
    "DEBITORKONTO_SLETTET",
    "DEBITOR_SECTION",
    "Call",
    "CallbackService",
    "CallbackSettings",
    "ClaimLedger",
    "ClaimSender",
    "DebitorClient",
    "DebitorError",
    "DebitorRejected",
    "DebitorUnavailable",
    "Endpoints",
    "SendResult",
    "account_key",
    "claim_call",
    "claim_key",
    "claim_ledger",
    "is_deleted",
    "ledgers",
    "load_trusted",
    "make_call",
    "reconcile_claims",
]
