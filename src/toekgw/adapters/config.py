"""The configuration file with every built-in adapter's section known.

:func:`toekgw.gateway.config.load_settings` reads ``[journal]``, ``[staging]`` and whatever
sections are registered; importing this module registers the built-in ones (in the order their
tables are read): ``[serviceplatform]``, ``[receive.*]``, ``[eindkomst]``, ``[nemkonto]``,
``[kombit]``, ``[beskedfordeler]``, ``[debitor]``, ``[payments]``, ``[oir]``, ``[tok]``,
``[ydelsesindeks]``, the service's ``[run]``, ``[roles]`` and ``[retention]``; the options of
the ``[receive.<name>]`` profiles an adapter checks (:data:`BUILTIN_PROFILES`:
:func:`toekgw.adapters.serviceplatform.settings.register_receive_options`); and every built-in
adapter's transmission kinds (:data:`BUILTIN_KINDS`), which ``[retention.kinds]`` is checked
against; and the descriptions of the personal data in their payloads and metadata
(:data:`BUILTIN_PERSONAL_DATA`), which retention and the read log use.
An embedding application with an adapter of its own registers its section
(:func:`toekgw.gateway.config.register_section`) before it loads the file.
"""

from __future__ import annotations

from pathlib import Path

from toekgw.adapters.beskedfordeler.consumer import BESKED_KIND
from toekgw.adapters.beskedfordeler.settings import BESKEDFORDELER_SECTION
from toekgw.adapters.debitor.afsend import AFSEND_KIND
from toekgw.adapters.debitor.callback import CALLBACK_KIND
from toekgw.adapters.debitor.personal import CALL_DATA
from toekgw.adapters.debitor.settings import DEBITOR_SECTION
from toekgw.adapters.eindkomst.kinds import DELIVERY, RECEIPTS, TAXCARDS
from toekgw.adapters.eindkomst.personal import DELIVERY_DATA, RECEIPT_DATA, TAXCARD_DATA
from toekgw.adapters.eindkomst.settings import EINDKOMST_SECTION
from toekgw.adapters.g68.inbound import G68_DELIVERY
from toekgw.adapters.g68.settings import PROFILE as G68_PROFILE
from toekgw.adapters.kombit.settings import KOMBIT_SECTION
from toekgw.adapters.nemkonto.personal import BLOCK_DATA, STOP_DATA
from toekgw.adapters.nemkonto.settings import BLOCKS_KIND, BUNDLE_KIND, NEMKONTO_SECTION
from toekgw.adapters.nemkonto.stops import STOP_KIND
from toekgw.adapters.oir.flows import PROFILES as OIR_PROFILES
from toekgw.adapters.oir.intake import SORTIMENT_KIND, STATUS_KIND
from toekgw.adapters.oir.send import FILE_KIND
from toekgw.adapters.oir.settings import OIR_SECTION
from toekgw.adapters.payments.personal import PAYMENT_DATA, RECORD_DATA
from toekgw.adapters.payments.records import FOLLOW_UP_KIND, RECORDS_KIND
from toekgw.adapters.payments.settings import PAYMENTS_SECTION
from toekgw.adapters.serviceplatform.pipelines import SEND_KIND
from toekgw.adapters.serviceplatform.settings import RECEIVE, SERVICEPLATFORM_SECTION
from toekgw.adapters.tok.kinds import KINDS, REFUSED
from toekgw.adapters.tok.personal import CLAIM_DATA, EFFECTUATION_DATA
from toekgw.adapters.tok.settings import TOK_SECTION
from toekgw.adapters.ydelsesindeks.report import REPORT_KIND
from toekgw.adapters.ydelsesindeks.settings import YDELSESINDEKS_SECTION
from toekgw.gateway.config import ConfigError, Settings
from toekgw.gateway.config import load_settings as _load
from toekgw.gateway.retention_config import RETENTION_SECTION
from toekgw.gateway.roles import ROLES_SECTION
from toekgw.gateway.service_config import RUN_SECTION

__all__ = [
    "BUILTIN_KINDS",
    "BUILTIN_PERSONAL_DATA",
    "BUILTIN_PROFILES",
    "BUILTIN_SECTIONS",
    "ConfigError",
    "Settings",
    "load_settings",
]

BUILTIN_SECTIONS = (
    SERVICEPLATFORM_SECTION,
    RECEIVE,
    EINDKOMST_SECTION,
    NEMKONTO_SECTION,
    KOMBIT_SECTION,
    BESKEDFORDELER_SECTION,
    DEBITOR_SECTION,
    PAYMENTS_SECTION,
    OIR_SECTION,
    TOK_SECTION,
    YDELSESINDEKS_SECTION,
    RUN_SECTION,
    ROLES_SECTION,
    RETENTION_SECTION,
)


#: The ``[receive.<name>]`` profiles whose own options are checked when the file is loaded.
BUILTIN_PROFILES = (G68_PROFILE, *OIR_PROFILES)

#: Every kind the built-in adapters journal, registered where each is defined
#: (:func:`toekgw.gateway.kinds.register_kind`): importing them here makes them known to a
#: configuration's checks (``[retention.kinds]``) before the file is loaded.
BUILTIN_KINDS = (
    SEND_KIND,
    G68_DELIVERY,
    BUNDLE_KIND,
    BLOCKS_KIND,
    STOP_KIND,
    FOLLOW_UP_KIND,
    RECORDS_KIND,
    DELIVERY,
    RECEIPTS,
    TAXCARDS,
    *KINDS.values(),
    REFUSED,
    BESKED_KIND,
    AFSEND_KIND,
    CALLBACK_KIND,
    STATUS_KIND,
    SORTIMENT_KIND,
    FILE_KIND,
    REPORT_KIND,
)

#: Every description of the personal data in a built-in kind's item payloads and
#: transmission metadata, registered where each is defined
#: (:func:`toekgw.gateway.privacy.register_personal_data`): importing them here makes them
#: known to retention and the read log wherever a configuration is loaded (every command,
#: ``toekgw run``). ``sf1490-report``'s is registered with its kind.
BUILTIN_PERSONAL_DATA = (
    PAYMENT_DATA,
    RECORD_DATA,
    BLOCK_DATA,
    STOP_DATA,
    CALL_DATA,
    DELIVERY_DATA,
    RECEIPT_DATA,
    TAXCARD_DATA,
    CLAIM_DATA,
    EFFECTUATION_DATA,
)


def load_settings(path: str | Path | None = None) -> Settings:
    """``path`` (else ``$TOEKGW_CONFIG``, else ``./toekgw.toml``) with every registered
    section: the built-in adapters' and any an application registered."""
    return _load(path)
