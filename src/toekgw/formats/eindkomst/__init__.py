"""eIndkomst: income reports to SKAT, receipts and tax cards (pure codecs and rules, no I/O).

``layouts`` holds every record layout and ``fieldnumbers`` the field-number table: the only
places where positions and numbers live. See ``docs/eindkomst.md``.
"""

from toekgw.formats.eindkomst.codec import Entry, decode_records, encode_delivery, encode_record
from toekgw.formats.eindkomst.history import History, MemoryHistory
from toekgw.formats.eindkomst.monthclose import nil_reports_due
from toekgw.formats.eindkomst.receipts import (
    DeliveryIndex,
    ItemLocator,
    ReportReconciliation,
    ReportStatus,
    decode_receipts,
    reconcile_reports,
)
from toekgw.formats.eindkomst.report import (
    Abroad,
    Delivery,
    IncomeReport,
    NilReport,
    Recipient,
    ReportBuilder,
    ReportError,
    ReversalRequest,
    Sender,
    SentReport,
    TaxCardOrder,
)
from toekgw.formats.eindkomst.rules import DeliveryCheck, ReportSummary, validate_delivery
from toekgw.formats.eindkomst.taxcards import (
    CardStore,
    MemoryCardStore,
    TaxCard,
    build_tax_cards,
    parse_tax_cards,
    withholding,
)

#: eIndkomst's queues (ours: the names SKAT gives a reporter are in its agreement), here once:
#: the adapter's defaults and the simulator's take them from here.
REQUEST_QUEUE = "SKAT.EINDKOMST.REQUEST"
REPLY_QUEUE = "SKAT.EINDKOMST.REPLY"

__all__ = [
    "REPLY_QUEUE",
    "REQUEST_QUEUE",
    "Abroad",
    "CardStore",
    "Delivery",
    "DeliveryCheck",
    "DeliveryIndex",
    "Entry",
    "History",
    "IncomeReport",
    "ItemLocator",
    "MemoryCardStore",
    "MemoryHistory",
    "NilReport",
    "Recipient",
    "ReportBuilder",
    "ReportError",
    "ReportReconciliation",
    "ReportStatus",
    "ReportSummary",
    "ReversalRequest",
    "Sender",
    "SentReport",
    "TaxCard",
    "TaxCardOrder",
    "build_tax_cards",
    "decode_receipts",
    "decode_records",
    "encode_delivery",
    "encode_record",
    "nil_reports_due",
    "parse_tax_cards",
    "reconcile_reports",
    "validate_delivery",
    "withholding",
]
