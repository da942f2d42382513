"""Which parts of eIndkomst's journal payloads are personal data (the read log and retention:
:mod:`toekgw.gateway.privacy`).

- **deliveries** (``eindkomst-delivery``): a recipient's item (6000) names the person in
  ``who`` (a CPR number; for a company its CVR/SE number, for a person abroad ``TIN:<country>:
  <number>``, a foreign tax number) and ``masked`` (the CPR number's birth date, ``DDMMYY-****``;
  else ``who`` again); its lookup ``r|<SE>|<who>|<month>`` holds ``who`` too. A reversal
  (4101) and a tax-card order (2101) carry the citizen's ``cpr``. A report (5000, 3101), its
  SE number, amounts and dates are not personal and stay. A delivery's items are settled once
  handed over (``sent``, receipted ``accepted``/``rejected``, or named in SKAT's error file,
  ``error``: the error list keeps the finding with the CPR masked); a tax-card order is needed
  as long as the citizen is paid (it is the subscription a closed case ends, and what tells
  that a citizen has one: its lookup ``order|<cpr>``), so every 2101 stays in clear.
- **receipts** (``eindkomst-receipts``): an error or advice record (0002/0003) names the
  citizen in its seventh value (``values[6]``, the CPR number); a 7100 names nobody. Applied
  when received: settled at once.
- **tax cards** (``eindkomst-taxcards``): the citizen's ``cpr`` (also in the lookup
  ``card|<cpr>``), with the withholding percentage and deductions. The withholding API
  answers with a citizen's cards found by that lookup: a card past its period is found no
  more, so the kind's period must be longer than a card stays in use.

A recipient's history (what the history rules compare a correction with) is found by the
lookup: past the period a correction of that month finds no earlier report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toekgw.adapters.eindkomst.kinds import DELIVERY, RECEIPTS, TAXCARDS
from toekgw.gateway.privacy import PersonalData, register_personal_data

__all__ = ["DELIVERY_DATA", "RECEIPT_DATA", "TAXCARD_DATA"]

_TAX_CARD_ORDER = "2101"
_CPR_VALUE = 6  # an error/advice record's values: line, field, report, SE, number, text, CPR


def _delivery_subjects(data: Mapping[str, Any]) -> list[str]:
    """A recipient's CPR number (or its pseudonym): ``masked`` differs from ``who`` only for a
    CPR number, before retention and after (a company's ``masked`` is ``who``, and the same
    value has the same pseudonym); a reversal's or an order's ``cpr``."""
    if data.get("type") == "6000":
        who, masked = data.get("who"), data.get("masked")
        return [who] if isinstance(who, str) and who and who != masked else []
    return _cpr(data)


def _cpr(data: Mapping[str, Any]) -> list[str]:
    cpr = data.get("cpr")
    return [cpr] if isinstance(cpr, str) and cpr else []


def _receipt_subjects(data: Mapping[str, Any]) -> list[str]:
    values = data.get("values")
    if not isinstance(values, list) or len(values) <= _CPR_VALUE:
        return []
    cpr = values[_CPR_VALUE]
    return [cpr] if isinstance(cpr, str) and cpr else []


DELIVERY_DATA = PersonalData(
    fields=("who", "masked", "cpr"),
    subjects=_delivery_subjects,
    settled=frozenset({"sent", "accepted", "rejected", "error"}),
    needed=lambda data: data.get("type") == _TAX_CARD_ORDER,
)
RECEIPT_DATA = PersonalData(
    fields=(f"values.{_CPR_VALUE}",),
    subjects=_receipt_subjects,
    settled=frozenset({"received"}),
)
TAXCARD_DATA = PersonalData(fields=("cpr",), subjects=_cpr, settled=frozenset({"received"}))

register_personal_data(DELIVERY.name, DELIVERY_DATA)
register_personal_data(RECEIPTS.name, RECEIPT_DATA)
register_personal_data(TAXCARDS.name, TAXCARD_DATA)
