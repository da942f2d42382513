"""The ``[payments]`` section: each municipality's payment operations policy.

Per municipality (``[payments.municipalities.<registration place>]``):

- ``alternative_account``: ``"approval"`` (a payment to an alternative account waits for a
  second person's approval; the default) or ``"report"`` (it goes at once and is listed on the
  after-the-fact report of payments outside NemKonto);
- ``own_registration`` / ``own_account``: the municipality's own account (deaths,
  bankruptcies, refunds the municipality pays itself: never sent to NemKonto);
- ``trivial_account``: the bookkeeping account that takes amounts below a lower limit;
- one ``[…benefit_types.<name>]`` table per benefit type, named by the paying units (G68 paying
  organisation units) that pay it: its amount limits (``lower_ore``, ``upper_ore``) and,
  optionally, its own debtor account (``debtor_registration``, ``debtor_account``: solution
  description 2.3.8, several bank accounts per municipality; bundles split by account).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from toekgw.formats.nemkonto import Account
from toekgw.gateway.config import (
    ConfigError,
    CoreSettings,
    Section,
    Settings,
    Table,
    register_section,
)

__all__ = [
    "ALTERNATIVE_POLICIES",
    "PAYMENTS_SECTION",
    "BenefitType",
    "MunicipalityPolicy",
    "PaymentsSettings",
    "payments_settings",
]

ALTERNATIVE_POLICIES = ("approval", "report")


@dataclass(frozen=True, slots=True)
class BenefitType:
    """A benefit type as the paying units that pay it, with its limits and debtor account."""

    name: str
    paying_units: frozenset[str]
    lower_ore: int | None = None
    upper_ore: int | None = None
    debtor_account: Account | None = None


@dataclass(frozen=True, slots=True)
class MunicipalityPolicy:
    municipality: str
    alternative_account: str = "approval"
    own_account: Account | None = None
    trivial_account: str | None = None
    benefit_types: tuple[BenefitType, ...] = ()

    @property
    def needs_approval(self) -> bool:
        """Whether a payment to an alternative account waits for a second person."""
        return self.alternative_account == "approval"

    def benefit_type(self, paying_unit: str | None) -> BenefitType | None:
        for benefit in self.benefit_types:
            if paying_unit in benefit.paying_units:
                return benefit
        return None


@dataclass(frozen=True, slots=True)
class PaymentsSettings:
    municipalities: Mapping[str, MunicipalityPolicy] = field(default_factory=dict)

    def policy(self, municipality: str) -> MunicipalityPolicy:
        """The municipality's policy; the defaults (approval, no limits) when it has none."""
        return self.municipalities.get(municipality) or MunicipalityPolicy(municipality)


def _account(table: Table, registration: str, account: str) -> Account | None:
    if registration not in table.data and account not in table.data:
        table.used.update((registration, account))
        return None
    return Account(table.digits(registration, 4, 4), table.digits(account, 1, 10))


def _benefit_type(name: str, table: Table) -> BenefitType:
    units = table.names("paying_units")
    bad = [u for u in units if not (u.isdigit() and len(u) == 4)]
    if bad:
        raise ConfigError(f"{table.where('paying_units')}: expected 4-digit paying units: {bad}")
    lower = table.integer("lower_ore", 0, 0, 10**11 - 1)
    upper = table.integer("upper_ore", 10**11 - 1, 1, 10**11 - 1)
    if lower >= upper:
        raise ConfigError(f"{table.where('lower_ore')}: must be below upper_ore ({upper})")
    debtor = _account(table, "debtor_registration", "debtor_account")
    table.finish()
    return BenefitType(name, frozenset(units), lower or None, upper, debtor)


def _municipality(municipality: str, table: Table) -> MunicipalityPolicy:
    if not municipality.isdigit():
        raise ConfigError(
            f"{table.file}: [{table.name}]: the key is the municipality's registration place "
            "(digits, as in the G68 records)"
        )
    policy = table.choice("alternative_account", ALTERNATIVE_POLICIES, "approval")
    own = _account(table, "own_registration", "own_account")
    trivial = table.text("trivial_account")
    kinds = table.table("benefit_types")
    benefits = tuple(_benefit_type(n, t) for n, t in kinds.subtables()) if kinds else ()
    seen: dict[str, str] = {}
    for benefit in benefits:
        for unit in benefit.paying_units:
            if unit in seen:
                raise ConfigError(
                    f"{table.file}: [{table.name}.benefit_types]: paying unit {unit} is in both "
                    f"{seen[unit]!r} and {benefit.name!r}"
                )
            seen[unit] = benefit.name
    table.finish()
    return MunicipalityPolicy(municipality, policy, own, trivial, benefits)


def _payments(table: Table, core: CoreSettings) -> PaymentsSettings:
    del core
    found = table.table("municipalities")
    municipalities = (
        {m: _municipality(m, t) for m, t in found.subtables()} if found is not None else {}
    )
    table.finish()
    return PaymentsSettings(municipalities)


PAYMENTS_SECTION = register_section(
    Section(
        "payments",
        _payments,
        hint="it holds each municipality's payment policy; see docs/configuration.md",
    )
)


def payments_settings(settings: Settings) -> PaymentsSettings:
    """The ``[payments]`` policies; the defaults when the file has no such table."""
    return settings.section(PAYMENTS_SECTION) or PaymentsSettings()
