"""Which parts of a payment's journal payload are personal data (issue 16's read log and
retention: :mod:`toekgw.gateway.privacy`).

A payment instruction (G68's, a follow-up's, one ordered over TØK's payments interface) names
its recipient in ``beneficiary`` (a CPR number under ident code 02, else a CVR/SE/P-number or
an account) and carries up to four lines of free text to the recipient (``texts``): both are
personal data. The amount, dates, municipality, paying unit and ids are not, and stay. A
payment record (an alternative account, a cash voucher) holds the account paid to, and one
of a stop or a failure the operator's reason (free text, which may name the citizen).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toekgw.adapters.g68.payments import FAILED_STATES, FINAL_STATES, FOLLOW_UP_KIND
from toekgw.adapters.nemkonto.orders import IDENT_KINDS
from toekgw.adapters.nemkonto.settings import PAYMENT_KIND
from toekgw.adapters.payments.records import RECORDS_KIND
from toekgw.adapters.tok.kinds import TOK_PAYMENTS
from toekgw.formats.nemkonto import RecipientKind
from toekgw.gateway.privacy import PersonalData, is_pseudonym, register_personal_data

__all__ = ["PAYMENT_DATA", "RECORD_DATA", "cpr_of"]


def cpr_of(data: Mapping[str, Any]) -> list[str]:
    """The CPR number (or its pseudonym) of the payment's recipient, when it is a person."""
    beneficiary = data.get("beneficiary")
    known = IDENT_KINDS.get(str(data.get("ident_code")))
    if not isinstance(beneficiary, str) or known is None or known[0] is not RecipientKind.CPR:
        return []
    return [beneficiary if is_pseudonym(beneficiary) else beneficiary[-known[1] :]]


# Paid, or ended and handled; not a failed payment still to be handled.
_SETTLED = frozenset(FINAL_STATES - set(FAILED_STATES))
PAYMENT_DATA = PersonalData(fields=("beneficiary", "texts"), subjects=cpr_of, settled=_SETTLED)
RECORD_DATA = PersonalData(
    fields=("account", "reason"),
    subjects=lambda data: [],
    settled=frozenset({"recorded", "approved", "denied"}),
)

for _kind in (PAYMENT_KIND, FOLLOW_UP_KIND, TOK_PAYMENTS):
    register_personal_data(_kind, PAYMENT_DATA)
register_personal_data(RECORDS_KIND.name, RECORD_DATA)
