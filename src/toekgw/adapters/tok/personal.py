"""Which parts of TØK's claims and effectuations in the journal are personal data (the read
log and retention: :mod:`toekgw.gateway.privacy`; a payment ordered over TØK's payments
interface is described with every payment: :mod:`toekgw.adapters.payments.personal`).

- **claims** (``tok-claims``): a claim's debtor, ``debtor`` (``{kind, number}``: a citizen's
  CPR number, or a company's CVR), and a write-up's or write-down's ``reason``, free text
  about the debtor's claim. The claim's id, type, amounts and dates are not personal and stay.
  The debtor system's route sends a claim message from its payload while it is ``received``;
  once the debtor system took it (``sent``, then maybe ``account-deleted``) or it was
  ``rejected``, nothing reads the payload again (a later change of the claim starts from the
  claim as the debtor system took it).
- **effectuations** (``tok-effectuations``): a case report names its citizen (``cpr``), which
  eIndkomst needs while the report is ``received`` (it ends the citizen's tax-card
  subscription, :mod:`toekgw.adapters.eindkomst.casestop`), not once ``applied`` or
  ``rejected``. A set-off names a payment and a claim, nobody; an effectuation order keeps no
  payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toekgw.adapters.tok.kinds import KINDS
from toekgw.formats.tok import Interface, PartyKind
from toekgw.gateway.privacy import PersonalData, register_personal_data

__all__ = ["CLAIM_DATA", "EFFECTUATION_DATA"]


def _debtor(data: Mapping[str, Any]) -> list[str]:
    """A claim's debtor when a citizen: the CPR number (or its pseudonym)."""
    debtor = data.get("debtor")
    if not isinstance(debtor, Mapping) or debtor.get("kind") != PartyKind.CPR.value:
        return []
    number = debtor.get("number")
    return [number] if isinstance(number, str) and number else []


def _citizen(data: Mapping[str, Any]) -> list[str]:
    cpr = data.get("cpr")
    return [cpr] if isinstance(cpr, str) and cpr else []


CLAIM_DATA = PersonalData(
    fields=("debtor.number", "reason"),
    subjects=_debtor,
    settled=frozenset({"sent", "rejected", "account-deleted"}),
)
EFFECTUATION_DATA = PersonalData(
    fields=("cpr",), subjects=_citizen, settled=frozenset({"applied", "rejected"})
)

register_personal_data(KINDS[Interface.CLAIMS].name, CLAIM_DATA)
register_personal_data(KINDS[Interface.EFFECTUATIONS].name, EFFECTUATION_DATA)
