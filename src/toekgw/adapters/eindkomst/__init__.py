"""eIndkomst: income reports to SKAT, receipts and tax cards back (see docs/eindkomst.md).

The journal is the outbox and the history: :class:`EindkomstGateway` validates, journals,
hands over and receives on its route (:class:`MqRoute`, or :class:`ServiceplatformRoute`:
KOMBIT's SF0770_B); :mod:`.answers` journals and applies SKAT's answers; :mod:`.views`
answers the format's ``History``/``ItemLocator``/``CardStore`` protocols from the journal;
:mod:`.reconcile` says per report and per period where it stands.
"""

from toekgw.adapters.eindkomst.demo import (
    BenefitReportSummary,
    PaidBenefit,
    render_summary,
    report_paid_benefits,
)
from toekgw.adapters.eindkomst.flow import EindkomstGateway, ReceiveResult, SendRefused, SendResult
from toekgw.adapters.eindkomst.kinds import COUNTERPART, DELIVERY, RECEIPTS, TAXCARDS, define_kinds
from toekgw.adapters.eindkomst.reconcile import (
    ReportLine,
    period_reconciliation,
    report_lines,
    reports_dict,
)
from toekgw.adapters.eindkomst.request import load_request
from toekgw.adapters.eindkomst.routes import MqRoute, ReportRoute
from toekgw.adapters.eindkomst.runtime import (
    eindkomst_settings,
    open_eindkomst,
    open_route,
    overdue_after,
)
from toekgw.adapters.eindkomst.settings import EINDKOMST_SECTION, EindkomstSettings
from toekgw.adapters.eindkomst.sf0770 import ServiceplatformRoute
from toekgw.adapters.eindkomst.views import JournalCardStore, JournalHistory, JournalLocator

__all__ = [
    "COUNTERPART",
    "DELIVERY",
    "EINDKOMST_SECTION",
    "RECEIPTS",
    "TAXCARDS",
    "BenefitReportSummary",
    "EindkomstGateway",
    "EindkomstSettings",
    "JournalCardStore",
    "JournalHistory",
    "JournalLocator",
    "MqRoute",
    "PaidBenefit",
    "ReceiveResult",
    "ReportLine",
    "ReportRoute",
    "SendRefused",
    "SendResult",
    "ServiceplatformRoute",
    "define_kinds",
    "eindkomst_settings",
    "load_request",
    "open_eindkomst",
    "open_route",
    "overdue_after",
    "period_reconciliation",
    "render_summary",
    "report_lines",
    "report_paid_benefits",
    "reports_dict",
]
