"""NemKonto: payment bundles over MQ, driven by the journal.

The flow, each step crash-safe on its own::

    release(journal, settings, today)            # recalls, blocks, due payments -> bundles
    send_bundles(journal, queue, settings)       # prepared bundles -> request queue
    receive_answers(journal, queue, settings)    # reply queue -> payment states
    reconcile_bundles(journal, settings, as_of)  # per bundle, per date, total

See ``docs/nemkonto.md`` and ``docs/developers.md``.
"""

from toekgw.adapters.nemkonto.answers import MANUAL_SUBJECT, AnswerSummary, receive_answers
from toekgw.adapters.nemkonto.blocks import Block, block_recipient, blocks, lift_block, recipient
from toekgw.adapters.nemkonto.bundling import (
    BUNDLE_NAMESPACE,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PAYMENTS,
    Authority,
    ReleasedPayment,
    attempt_namespace,
    make_bundles,
)
from toekgw.adapters.nemkonto.reconcile import (
    BundleReconciliation,
    OverduePayment,
    ReconciliationRow,
    overdue_payments,
    reconcile_bundles,
    render_bundles,
)
from toekgw.adapters.nemkonto.release import (
    PreparedBundle,
    ReleaseControls,
    ReleaseResult,
    release,
)
from toekgw.adapters.nemkonto.send import SentBundle, send_bundles
from toekgw.adapters.nemkonto.settings import (
    BUNDLE_KIND,
    NEMKONTO_SECTION,
    FlowSettings,
    NemKontoAuthoritySettings,
    NemKontoSettings,
    flow_settings,
)

__all__ = [
    "BUNDLE_KIND",
    "BUNDLE_NAMESPACE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PAYMENTS",
    "MANUAL_SUBJECT",
    "NEMKONTO_SECTION",
    "AnswerSummary",
    "Authority",
    "Block",
    "BundleReconciliation",
    "FlowSettings",
    "NemKontoAuthoritySettings",
    "NemKontoSettings",
    "OverduePayment",
    "PreparedBundle",
    "ReconciliationRow",
    "ReleaseControls",
    "ReleaseResult",
    "ReleasedPayment",
    "SentBundle",
    "attempt_namespace",
    "block_recipient",
    "blocks",
    "flow_settings",
    "lift_block",
    "make_bundles",
    "overdue_payments",
    "receive_answers",
    "recipient",
    "reconcile_bundles",
    "release",
    "render_bundles",
    "send_bundles",
]
