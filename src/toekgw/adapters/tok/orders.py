"""The claims and effectuation interfaces into the journal.

Claims (create, write up/down, change, release for collection) and effectuation orders are
journaled as items of their sender (``KY:claim:<claim id>``, ...) in state ``received``; a
claim message's fields are kept with its item (:func:`message_data`), from which the debtor
system's route (:mod:`toekgw.adapters.debitor.claims`, SF1590_B) sends it on.

A case report (closed or deleted) keeps the citizen and the day: eIndkomst stops the citizen's
tax-card subscription from it (:mod:`toekgw.adapters.eindkomst.casestop`).

A set-off (modregning) reduces a payment that has not been released: the payment is replaced
by its next version with the amount less the set-off (a ``change`` replaces the set-off's
earlier amount). A set-off that would leave nothing to pay, or whose payment has gone, is
refused, and the status says why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from toekgw.adapters.g68.payments import PaymentInstruction
from toekgw.adapters.tok.payments import (
    UNRELEASED,
    current_version,
    payment_key,
    replace_with_next_version,
)
from toekgw.formats.tok import (
    CaseReport,
    ClaimAdjustment,
    ClaimChange,
    ClaimCreate,
    CollectionRelease,
    EffectuationOrder,
    Party,
    PartyKind,
    SetOff,
)
from toekgw.gateway.journal import Journal, NewItem, Transmission

__all__ = ["apply_order_message", "created_item", "message_data"]

OrderMessage = (
    ClaimCreate
    | ClaimAdjustment
    | ClaimChange
    | CollectionRelease
    | EffectuationOrder
    | SetOff
    | CaseReport
)

# The messages whose fields are kept with their item: the debtor system's route sends them on.
_SENT_ON = (ClaimCreate, ClaimAdjustment, ClaimChange, CollectionRelease, SetOff)

_PREFIX = {
    ClaimCreate: "claim",
    ClaimAdjustment: "claim",
    ClaimChange: "claim",
    CollectionRelease: "claim",
    EffectuationOrder: "effectuation",
    SetOff: "set-off",
    CaseReport: "case",
}


def apply_order_message(journal: Journal, tx: Transmission, message: OrderMessage) -> str:
    """Journal ``message`` under ``tx`` (in the caller's transaction); its item's state."""
    item = _item(message, tx.id)
    journal.add_items(tx.id, [item], state="received", reason=type(message).__name__)
    if not isinstance(message, SetOff):
        return "received"
    found = journal.find_items(item.business_key, tx.counterpart)[0]
    state, why = _set_off(journal, tx, message)
    journal.set_item_state(found.id, state, reason=why)
    return state


def created_item(message: ClaimCreate | EffectuationOrder) -> NewItem:
    """The item (state ``received``) of a new claim or effectuation: keyed by its business
    key alone, so it needs nothing of its transmission."""
    return _item(message, None)


def _item(message: OrderMessage, transmission_id: int | None) -> NewItem:
    sender = message.header.sender_system
    base = f"{sender}:{_PREFIX[type(message)]}:{message.business_key}"
    # A claim or an effectuation is created once; the other messages are each one of several
    # about their claim, set-off or case, all found again by the base key (the lookup).
    key = (
        base
        if isinstance(message, ClaimCreate | EffectuationOrder)
        else f"{base}@{transmission_id}"
    )
    amount = getattr(message, "amount_ore", 0)
    data: dict[str, object] | None
    if isinstance(message, _SENT_ON):
        data = message_data(message)
    else:
        data = _case_data(message) if isinstance(message, CaseReport) else None
    return NewItem(key, amount, seq=1, lookup=base, data=data)


def message_data(message: OrderMessage) -> dict[str, object]:
    """A claim's or a set-off's message fields as plain data (what the debtor system's route
    sends on): ``message`` names its kind, dates are ISO, a party is ``{kind, number}``."""
    data: dict[str, object] = {"message": type(message).__name__}
    for field in dataclasses.fields(message):
        value = getattr(message, field.name)
        if field.name == "header":
            continue
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, Party):
            value = {"kind": value.kind.value, "number": value.number}
        elif field.name == "sub_claims":
            value = [dataclasses.asdict(s) for s in value]
        data[field.name] = value
    return data


def _case_data(message: CaseReport) -> dict[str, object]:
    """What eIndkomst needs to stop the citizen's tax-card subscription
    (:mod:`toekgw.adapters.eindkomst.casestop`)."""
    citizen = message.citizen
    return {
        "event": message.event.value,
        "event_date": message.event_date.isoformat(),
        **({"cpr": citizen.number} if citizen.kind is PartyKind.CPR else {}),
    }


def _set_off(journal: Journal, tx: Transmission, message: SetOff) -> tuple[str, str]:
    sender = message.header.sender_system
    payment = current_version(journal, tx.counterpart, payment_key(sender, message.payment_id))
    if payment is None or payment.data is None:
        return "rejected", f"no payment {message.payment_id} from {sender}"
    if payment.state not in UNRELEASED:
        return "rejected", f"payment {message.payment_id} is already {payment.state}"
    earlier = 0
    if message.action == "change":
        applied = _applied_amount(journal, tx.counterpart, sender, message.set_off_id)
        if applied is None:
            return "rejected", f"no set-off {message.set_off_id} to change"
        earlier = applied
    old = PaymentInstruction.from_data(payment.data)
    remaining = old.amount_ore + earlier - message.amount_ore
    if remaining <= 0:
        return "rejected", (
            f"the set-off of {message.amount_ore} øre leaves nothing of payment "
            f"{message.payment_id} ({old.amount_ore + earlier} øre before it)"
        )
    # The next version belongs with the payment's own order (a payment transmission).
    replace_with_next_version(
        journal,
        payment,
        payment.transmission_id,
        f"less set-off {message.set_off_id}",
        amount_ore=remaining,
    )
    return "applied", f"payment {message.payment_id} reduced to {remaining} øre"


def _applied_amount(journal: Journal, counterpart: str, sender: str, set_off_id: str) -> int | None:
    """The amount of the last applied set-off ``set_off_id`` (``None``: none applied)."""
    base = f"{sender}:set-off:{set_off_id}"
    found = [i for i in journal.items_by_lookup(counterpart, base) if i.state == "applied"]
    return found[-1].amount_ore if found else None
