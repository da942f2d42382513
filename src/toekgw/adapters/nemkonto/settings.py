"""The NemKonto flow's settings and journal kinds: what the flow needs, wherever it comes from.

:class:`FlowSettings` is plain data, built from the ``[nemkonto]`` table of the configuration
(:meth:`FlowSettings.from_config`) or directly by a caller (a test, the month-end demo).
``[nemkonto]`` holds the queue manager (``[nemkonto.mq]``), the queue names, the release and
bundle limits, the banks' extra closing days (``extra_closing_days``, on top of
:mod:`toekgw.gateway.banking_days`), and one ``[nemkonto.authorities.<municipality>]``
table per municipality: its CVR, NemKonto agreement number and the debtor account its payments
are drawn on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from toekgw.adapters.nemkonto.bundling import DEFAULT_MAX_BYTES, DEFAULT_MAX_PAYMENTS, Authority
from toekgw.formats.nemkonto import Account
from toekgw.gateway.banking_days import DEFAULT_BANKING_DAYS_BEFORE, STANDARD, BankCalendar
from toekgw.gateway.config import (
    ConfigError,
    CoreSettings,
    Section,
    Settings,
    Table,
    register_section,
)
from toekgw.gateway.journal import Direction, KindSpec, Lifecycle
from toekgw.gateway.kinds import register_kind
from toekgw.gateway.transport.config import MqSettings, parse_mq

__all__ = [
    "BLOCKS_KIND",
    "BUNDLE_KIND",
    "BUNDLE_STATES",
    "DEFAULT_REPLY_QUEUE",
    "DEFAULT_REQUEST_QUEUE",
    "NEMKONTO_SECTION",
    "PAYMENT_KIND",
    "FlowSettings",
    "NemKontoAuthoritySettings",
    "NemKontoSettings",
    "flow_settings",
]

DEFAULT_REQUEST_QUEUE = "NKS.PAYMENT.REQUEST"
DEFAULT_REPLY_QUEUE = "NKS.PAYMENT.REPLY"
#: The journal kind whose items are payments (:data:`toekgw.adapters.g68.payments.PAYMENT_ITEM`).
PAYMENT_KIND = "g68-delivery"

# A bundle's states in the order answers move it; an answer that overtakes another may skip
# states, a late one never moves it back. "returned" (Kvitteringssvar 0) ends it.
BUNDLE_STATES = ("prepared", "sent", "received", "controlled", "settled")
BUNDLE_LIFECYCLE = Lifecycle(
    initial=("prepared",),
    transitions={
        "prepared": ("sent", "withdrawn"),
        "sent": ("received", "controlled", "settled", "returned"),
        "received": ("controlled", "settled", "returned"),
        "controlled": ("settled",),
    },
    descriptions={
        "prepared": "bundle and members journaled; not yet known to be on the request queue",
        "sent": "put on the NemKonto request queue and committed",
        "received": "NemKonto received it (Kvitteringssvar 1)",
        "controlled": "NemKonto's receive control answered (Retursvar 2)",
        "settled": "every payment of the bundle has a final state",
        "returned": "NemKonto could not read it (Kvitteringssvar 0): payments back to pending",
        "withdrawn": "never sent: a payment was taken out (blocked) and the others bundled "
        "again in new bundles",
    },
)
BUNDLE_KIND = KindSpec("nemkonto-bundle", Direction.OUT, BUNDLE_LIFECYCLE, None)
register_kind(BUNDLE_KIND)

# The recipient block list: one item per blocked recipient, so each block and lift is an
# event in the audit trail. Its key holds the recipient id (masked wherever it is shown).
BLOCK_ITEM = Lifecycle(
    initial=("blocked",),
    transitions={"blocked": ("lifted",), "lifted": ("blocked",)},
    descriptions={
        "blocked": "payments to this recipient are held in the journal",
        "lifted": "the block was lifted",
    },
)
BLOCKS_KIND = KindSpec(
    "nemkonto-blocks",
    Direction.IN,
    Lifecycle(("open",), {}, {"open": "the NemKonto recipient block list"}),
    BLOCK_ITEM,
)
register_kind(BLOCKS_KIND)


@dataclass(frozen=True, slots=True)
class FlowSettings:
    """``authorities``: municipality (the G68 registration place) -> its NemKonto agreement.
    ``overdue``: how long a payment may wait for its next answer before it is overdue."""

    authorities: Mapping[str, Authority]
    counterpart: str = "nemkonto"
    request_queue: str = DEFAULT_REQUEST_QUEUE
    reply_queue: str = DEFAULT_REPLY_QUEUE
    banking_days_before: int = DEFAULT_BANKING_DAYS_BEFORE
    max_payments: int = DEFAULT_MAX_PAYMENTS
    max_bytes: int = DEFAULT_MAX_BYTES
    overdue: dt.timedelta = field(default=dt.timedelta(hours=48))
    payment_kind: str = PAYMENT_KIND
    calendar: BankCalendar = STANDARD

    @property
    def error_queue(self) -> str:
        """Where an answer that cannot be used is moved (after its error-list entry)."""
        return f"{self.reply_queue}.BACKOUT"

    @classmethod
    def from_config(cls, nk: NemKontoSettings) -> FlowSettings:
        return cls(
            authorities={
                m: Authority(
                    a.cvr, a.agreement_number, Account(a.debtor_registration, a.debtor_account)
                )
                for m, a in nk.authorities.items()
            },
            counterpart=nk.counterpart,
            request_queue=nk.request_queue,
            reply_queue=nk.reply_queue,
            banking_days_before=nk.banking_days_before,
            max_payments=nk.max_payments,
            max_bytes=nk.max_bytes,
            overdue=dt.timedelta(hours=nk.overdue_hours),
            calendar=BankCalendar.with_extra(nk.extra_closing_days),
        )


@dataclass(frozen=True, slots=True)
class NemKontoAuthoritySettings:
    """``[nemkonto.authorities.<municipality>]``: the municipality's NemKonto agreement."""

    municipality: str
    cvr: str
    agreement_number: str
    debtor_registration: str
    debtor_account: str


@dataclass(frozen=True, slots=True)
class NemKontoSettings:
    mq: MqSettings
    request_queue: str
    reply_queue: str
    counterpart: str
    banking_days_before: int
    max_payments: int
    max_bytes: int
    overdue_hours: int
    extra_closing_days: tuple[dt.date, ...]
    authorities: Mapping[str, NemKontoAuthoritySettings]


def _nemkonto(nk: Table, core: CoreSettings) -> NemKontoSettings:
    mq = parse_mq(nk.required_table("mq"))
    authorities: dict[str, NemKontoAuthoritySettings] = {}
    for municipality, one in nk.required_table("authorities").subtables():
        if not municipality.isdigit():
            raise ConfigError(
                f"{nk.file}: [nemkonto.authorities.{municipality}]: the key is the "
                "municipality's registration place (digits, as in the G68 records)"
            )
        authorities[municipality] = NemKontoAuthoritySettings(
            municipality=municipality,
            cvr=one.digits("cvr", 8, 8),
            agreement_number=one.digits("agreement_number", 1, 15),
            debtor_registration=one.digits("debtor_registration", 4, 4),
            debtor_account=one.digits("debtor_account", 1, 10),
        )
        one.finish()
    settings = NemKontoSettings(
        mq=mq,
        request_queue=nk.text("request_queue", DEFAULT_REQUEST_QUEUE),
        reply_queue=nk.text("reply_queue", DEFAULT_REPLY_QUEUE),
        counterpart=nk.text("counterpart", "nemkonto"),
        banking_days_before=nk.integer("banking_days_before", 2, 0, 30),
        max_payments=nk.integer("max_payments", 10_000, 1, 10_000),
        max_bytes=nk.integer("max_bytes", 100 * 1024 * 1024, 64 * 1024, 100 * 1024 * 1024),
        overdue_hours=nk.integer("overdue_hours", 48, 1, 24 * 60),
        extra_closing_days=nk.dates("extra_closing_days"),
        authorities=authorities,
    )
    nk.finish()
    return settings


NEMKONTO_SECTION = register_section(
    Section(
        "nemkonto",
        _nemkonto,
        hint="it names the queues and the municipalities' agreements; see docs/configuration.md",
    )
)


def flow_settings(settings: Settings) -> FlowSettings:
    """The flow's settings from the ``[nemkonto]`` table (a :class:`ConfigError` without one)."""
    return FlowSettings.from_config(settings.require(NEMKONTO_SECTION))
