"""A journaled payment (:class:`~toekgw.adapters.g68.payments.PaymentInstruction`) as a NemKonto
payment order, and the recipient it goes to.

Ours, in this one place: the payment id is the payment's journal business key (data supplier
and payment ident, ``12345678:000000000000004711``), so that every answer leads straight back
to the G68 line; a follow-up payment (``toekgw payments resend`` / ``pay-alternative``) has the
original's id with ``:r<n>`` (``12345678:000000000000004711:r1``), at most 35 characters as the
schema allows. Ident code 02 is a CPR, 11 a CVR, 03 an SE and 12 a P-number (the last 10, 8,
8 and 10 digits of the 14-digit field); 01 is a complete payment to the account in the field
(registration number, then a 10-digit account number). Our schema needs a recipient id even
for a complete payment: it carries the paying authority's CVR. The G68 text lines become the
notification (non-empty lines, wrapped at 35 characters, at most 4 lines).
"""

from __future__ import annotations

import functools
import textwrap

from toekgw.adapters.g68.payments import PaymentInstruction
from toekgw.adapters.nemkonto.bundling import Authority
from toekgw.formats.nemkonto import Account, PaymentOrder, RecipientId, RecipientKind
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.journal import Item

__all__ = ["ACCOUNT", "IDENT_KINDS", "instruction_of", "payment_order", "recipient_key"]

ACCOUNT = "ACCOUNT"
IDENT_KINDS: dict[str, tuple[RecipientKind, int]] = {
    "02": (RecipientKind.CPR, 10),
    "11": (RecipientKind.CVR, 8),
    "03": (RecipientKind.SE, 8),
    "12": (RecipientKind.PNUMBER, 10),
}
NOTIFICATION_LINES = 4
NOTIFICATION_WIDTH = 35


def instruction_of(item: Item) -> PaymentInstruction:
    """The payment an item carries; a clear error for an item journaled without one."""
    if item.data is None:
        raise GatewayError(
            f"item {item.business_key!r} of transmission #{item.transmission_id} carries no "
            "payment (no data): it cannot go to NemKonto",
            hint="payments must be journaled with a PaymentInstruction (toekgw.adapters.g68)",
        )
    try:
        return PaymentInstruction.from_data(item.data)
    except (TypeError, ValueError, AssertionError) as exc:
        raise GatewayError(
            f"item {item.business_key!r} of transmission #{item.transmission_id}: its payment "
            f"data cannot be read ({exc})"
        ) from exc


def recipient_key(instr: PaymentInstruction) -> str:
    """``CPR:0101011234``, ``CVR:…``, ``SE:…``, ``PNumber:…`` or ``ACCOUNT:<reg><account>``:
    what a block names."""
    known = IDENT_KINDS.get(instr.ident_code)
    if known is None:
        return f"{ACCOUNT}:{instr.beneficiary}"
    kind, width = known
    return f"{kind.value}:{instr.beneficiary[-width:]}"


# Whitespace textwrap rewrites; a text free of it that fits one line is what wrap() returns.
_REFLOWED = frozenset("\t\n\x0b\x0c\r")


def _notification(texts: tuple[str, ...]) -> tuple[str, ...]:
    lines: list[str] = []
    for text in texts:
        line = text.strip()
        if not line:
            continue
        if len(line) <= NOTIFICATION_WIDTH and _REFLOWED.isdisjoint(line):
            lines.append(line)  # the usual case, without textwrap's cost per payment
        else:
            lines.extend(_wrapped(line))
    return tuple(lines[:NOTIFICATION_LINES])


@functools.lru_cache(maxsize=4_096)
def _wrapped(line: str) -> tuple[str, ...]:
    """``line`` wrapped at the notification width: remembered, as a month's payments share a
    few texts ("Ressourceforløbsydelse november 2026") and wrapping each costs as much as
    building its payment."""
    return tuple(textwrap.wrap(line, NOTIFICATION_WIDTH))


def payment_order(instr: PaymentInstruction, authority: Authority) -> PaymentOrder:
    known = IDENT_KINDS.get(instr.ident_code)
    account = None
    if known is None:
        # 01: registration number and account number; the recipient has no id of its own.
        recipient = RecipientId(RecipientKind.CVR, authority.cvr)
        account = Account(instr.beneficiary[:4], instr.beneficiary[4:])
    else:
        kind, width = known
        recipient = RecipientId(kind, instr.beneficiary[-width:])
    return PaymentOrder(
        payment_id=instr.business_key,
        amount_ore=instr.amount_ore,
        recipient=recipient,
        account=account,
        notification=_notification(instr.texts),
    )
