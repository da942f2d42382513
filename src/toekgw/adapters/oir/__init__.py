"""ØiR: every krone paid is also booked in the municipality's ERP (SF1590_A finance vouchers),
on accounts of TØK's sortiment (the SF7002 replica).

The flow, each step crash-safe on its own::

    receive ... SortimentProcessor; apply_received(journal, SORTIMENT_KIND, counterpart)
    build_vouchers(journal, settings)               # payment events -> balanced vouchers
    send_batches(journal, transport, settings, sp, outbox)   # batches -> the ERP
    receive ... StatusProcessor; apply_received(journal, STATUS_KIND, counterpart)
    konteringskontrol(journal, settings)            # intermediate account vs outstanding
    regenerate(journal, settings, voucher_id, date) # a held or rejected voucher, re-dated

See ``docs/oir.md``.
"""

from toekgw.adapters.oir import flows
from toekgw.adapters.oir.balance import (
    BOOKED_STATES,
    Difference,
    Konteringskontrol,
    konteringskontrol,
)
from toekgw.adapters.oir.chart import Chart, current_chart
from toekgw.adapters.oir.export import write_month
from toekgw.adapters.oir.intake import (
    SORTIMENT_KIND,
    STATUS_KIND,
    Intake,
    SortimentProcessor,
    StatusProcessor,
    apply_received,
)
from toekgw.adapters.oir.manual import (
    ManualLine,
    VoucherRefused,
    add_manual_voucher,
    read_manual_file,
)
from toekgw.adapters.oir.model import EVENT_SOURCES, OUTSTANDING_STATES, RULES, PostingRule
from toekgw.adapters.oir.plan import PlannedVoucher, plan_vouchers
from toekgw.adapters.oir.replica import Applied, Change, apply_delivery, diff, find_classes
from toekgw.adapters.oir.send import FILE_KIND, SentBatch, claim_batches, send_batches
from toekgw.adapters.oir.settings import OIR_SECTION, MunicipalityBooks, OirSettings, oir_settings
from toekgw.adapters.oir.store import COUNTERPART, BooksJournal
from toekgw.adapters.oir.vouchers import BuildSummary, RegenerateError, build_vouchers, regenerate

__all__ = [
    "BOOKED_STATES",
    "COUNTERPART",
    "EVENT_SOURCES",
    "FILE_KIND",
    "OIR_SECTION",
    "OUTSTANDING_STATES",
    "RULES",
    "SORTIMENT_KIND",
    "STATUS_KIND",
    "Applied",
    "BooksJournal",
    "BuildSummary",
    "Change",
    "Chart",
    "Difference",
    "Intake",
    "Konteringskontrol",
    "ManualLine",
    "MunicipalityBooks",
    "OirSettings",
    "PlannedVoucher",
    "PostingRule",
    "RegenerateError",
    "SentBatch",
    "SortimentProcessor",
    "StatusProcessor",
    "VoucherRefused",
    "add_manual_voucher",
    "apply_delivery",
    "apply_received",
    "build_vouchers",
    "claim_batches",
    "current_chart",
    "diff",
    "find_classes",
    "flows",
    "konteringskontrol",
    "oir_settings",
    "plan_vouchers",
    "read_manual_file",
    "regenerate",
    "send_batches",
    "write_month",
]
