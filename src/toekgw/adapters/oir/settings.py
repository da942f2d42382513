"""``[oir]``: how the gateway books payments in the municipality's ERP through ØiR.

Which accounts each role posts to (:mod:`toekgw.adapters.oir.model`), per municipality when
they differ (several bank accounts: each municipality chooses its own), who the ERP and
Klassifikation are on Serviceplatformen, the sortiment that holds TØK's accounts, and the caps
of a batch file. The reference with an example is ``docs/oir.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from toekgw.formats.oir import Account, AccountCodeError
from toekgw.gateway.config import (
    REQUIRED,
    ConfigError,
    CoreSettings,
    Section,
    Settings,
    Table,
    register_section,
)

__all__ = [
    "OIR_SECTION",
    "REQUIRED_ROLES",
    "ROLES",
    "MunicipalityBooks",
    "OirSettings",
    "oir_settings",
]

#: The accounts a posting rule may name; ``expense`` may be refined per payment category.
ROLES = ("expense", "intermediate", "bank", "trivial", "cash", "own_account")
#: Those every configuration must name (the others only where their events occur).
REQUIRED_ROLES = ("expense", "intermediate", "bank")


@dataclass(frozen=True, slots=True)
class MunicipalityBooks:
    """``[oir.municipalities.<registration place>]``: the authority (CVR) the vouchers are
    for, and the accounts that differ from ``[oir.accounts]`` (its own bank account)."""

    municipality: str
    cvr: str
    accounts: Mapping[str, Account] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OirSettings:
    sender_system: str
    erp: str
    sortiment: str
    accounts: Mapping[str, Account]
    expense_by_category: Mapping[str, Account]
    municipalities: Mapping[str, MunicipalityBooks]
    time_zone: str = "Europe/Copenhagen"
    max_vouchers_per_file: int = 1000
    max_bytes_per_file: int = 10 * 1024 * 1024
    max_postings_per_voucher: int = 1000
    send_interval: float = 3600.0
    manual_group: str | None = None

    def account(self, role: str, municipality: str, category: str | None = None) -> Account | None:
        """The account ``role`` posts to for ``municipality`` (and the payment's category);
        None when the configuration names none."""
        own = self.municipalities.get(municipality)
        if own is not None and role in own.accounts:
            return own.accounts[role]
        if role == "expense" and category is not None and category in self.expense_by_category:
            return self.expense_by_category[category]
        return self.accounts.get(role)


def _account(table: Table, key: str, default: object = REQUIRED) -> Account | None:
    code = table.text(key, default)
    if code is None:
        return None
    try:
        return Account.parse(code)
    except AccountCodeError as exc:
        raise ConfigError(f"{table.where(key)}: {exc}") from exc


def _accounts(table: Table, *, required: bool) -> dict[str, Account]:
    found: dict[str, Account] = {}
    for role in ROLES:
        account = _account(table, role, REQUIRED if required and role in REQUIRED_ROLES else None)
        if account is not None:
            found[role] = account
    table.finish()
    return found


def _uuid(table: Table, key: str) -> str:
    value = str(table.text(key, REQUIRED)).lower()
    parts = value.split("-")
    if [len(p) for p in parts] != [8, 4, 4, 4, 12] or not all(
        c in "0123456789abcdef" for c in value.replace("-", "")
    ):
        raise ConfigError(f"{table.where(key)}: expected a UUID, found {value!r}")
    return value


def _time_zone(table: Table, key: str) -> str:
    """An IANA time zone the system knows (``Europe/Copenhagen``)."""
    zone = str(table.text(key, "Europe/Copenhagen"))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{table.where(key)}: not a time zone this system knows, found {zone!r} "
            "(expected an IANA time zone such as Europe/Copenhagen)"
        ) from exc
    return zone


def _oir(oir: Table, core: CoreSettings) -> OirSettings:
    accounts = _accounts(oir.required_table("accounts"), required=True)
    by_category: dict[str, Account] = {}
    expense = oir.table("expense")
    if expense is not None:
        for category in list(expense.data):
            account = _account(expense, category)
            assert account is not None
            by_category[category] = account
        expense.finish()
    municipalities: dict[str, MunicipalityBooks] = {}
    for municipality, one in oir.required_table("municipalities").subtables():
        if not municipality.isdigit():
            raise ConfigError(
                f"{oir.file}: [oir.municipalities.{municipality}]: the key is the "
                "municipality's registration place (digits, as in the G68 records)"
            )
        cvr = one.digits("cvr", 8, 8)
        own = one.table("accounts")
        municipalities[municipality] = MunicipalityBooks(
            municipality, cvr, _accounts(own, required=False) if own is not None else {}
        )
        one.finish()
    settings = OirSettings(
        sender_system=_uuid(oir, "sender_system"),
        erp=oir.text("erp", REQUIRED),
        sortiment=_uuid(oir, "sortiment"),
        accounts=accounts,
        expense_by_category=by_category,
        municipalities=municipalities,
        time_zone=_time_zone(oir, "time_zone"),
        max_vouchers_per_file=oir.integer("max_vouchers_per_file", 1000, 1, 100_000),
        max_bytes_per_file=oir.integer(
            "max_bytes_per_file", 10 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024
        ),
        max_postings_per_voucher=oir.integer("max_postings_per_voucher", 1000, 2, 100_000),
        send_interval=oir.seconds("send_interval", 3600),
        manual_group=oir.text("manual_group"),
    )
    oir.finish()
    return settings


OIR_SECTION = register_section(
    Section(
        "oir",
        _oir,
        hint="it names the ERP, the sortiment and the accounts; see docs/oir.md",
    )
)


def oir_settings(settings: Settings) -> OirSettings:
    """The ``[oir]`` settings (a :class:`ConfigError` naming the table without one)."""
    return settings.require(OIR_SECTION)
