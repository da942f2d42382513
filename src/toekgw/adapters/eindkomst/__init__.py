"""eIndkomst: income reports to SKAT over MQ, receipts and tax cards back (see docs/eindkomst.md).

The journal is the outbox and the history: :class:`EindkomstGateway` validates, journals, puts
and receives; :mod:`.views` answers the format's ``History``/``ItemLocator``/``CardStore``
protocols from the journal; :mod:`.reconcile` says per report and per period where it stands.
"""

from toekgw.adapters.eindkomst.demo import PaidBenefit, render_summary, report_paid_benefits
from toekgw.adapters.eindkomst.flow import EindkomstGateway, ReceiveResult, SendRefused, SendResult
from toekgw.adapters.eindkomst.kinds import COUNTERPART, DELIVERY, RECEIPTS, TAXCARDS, define_kinds
from toekgw.adapters.eindkomst.reconcile import (
    ReportLine,
    period_reconciliation,
    report_lines,
    reports_dict,
)
from toekgw.adapters.eindkomst.request import load_request
from toekgw.adapters.eindkomst.runtime import eindkomst_settings, open_eindkomst, overdue_after
from toekgw.adapters.eindkomst.settings import EINDKOMST_SECTION, EindkomstSettings
from toekgw.adapters.eindkomst.views import JournalCardStore, JournalHistory, JournalLocator

__all__ = [
    "COUNTERPART",
    "DELIVERY",
    "EINDKOMST_SECTION",
    "RECEIPTS",
    "TAXCARDS",
    "EindkomstGateway",
    "EindkomstSettings",
    "JournalCardStore",
    "JournalHistory",
    "JournalLocator",
    "PaidBenefit",
    "ReceiveResult",
    "ReportLine",
    "SendRefused",
    "SendResult",
    "define_kinds",
    "eindkomst_settings",
    "load_request",
    "open_eindkomst",
    "overdue_after",
    "period_reconciliation",
    "render_summary",
    "report_lines",
    "report_paid_benefits",
    "reports_dict",
]
