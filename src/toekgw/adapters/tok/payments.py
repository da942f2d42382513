"""The payments interface into the journal: an order, a change, a recall.

A :class:`~toekgw.formats.tok.PaymentOrder` becomes a payment item like a G68 payment: a
:class:`~toekgw.adapters.g68.payments.PaymentInstruction` whose supplier is the sender system,
whose ident is the sender's payment id (its business key ``KY:<payment id>``) and whose
paying unit is the benefit type (list it under a benefit type's ``paying_units`` in
``[payments]`` for its limits and account). The municipality's CVR is turned into the
registration place its NemKonto agreement is configured under.

A change or a recall is honoured while the payment has not been released (``pending`` or
``blocked``): a recall moves it to ``recalled``; a change recalls it and journals the changed
payment as the next version of the same payment id (``KY:<payment id>~2``, ...). After the
release both are refused, and the status says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from toekgw.adapters.g68.payments import InstructionFields, PaymentInstruction, payment_item
from toekgw.formats.tok import PartyKind, PaymentChange, PaymentOrder, PaymentRecall, Priority
from toekgw.gateway.journal import Item, Journal, NewItem, Transmission

__all__ = [
    "UNRELEASED",
    "UnknownMunicipality",
    "apply_payment_message",
    "current_version",
    "new_payment",
    "order_instruction",
    "ordered_payment",
    "payment_key",
    "replace_with_next_version",
]

UNRELEASED = ("pending", "blocked")
# G68 ident codes: 02 a CPR number, 11 a CVR number (14 digits, right-aligned).
_IDENT_CODES = {PartyKind.CPR: "02", PartyKind.CVR: "11"}
# The G68 transaction type of an order: another destination allowed (NemKonto decides).
_TRANSACTION_TYPE = "01"


class UnknownMunicipality(ValueError):
    """The order's municipality has no NemKonto agreement configured."""


def payment_key(sender: str, payment_id: str) -> str:
    return f"{sender}:{payment_id}"


def current_version(journal: Journal, counterpart: str, key: str) -> Item | None:
    """The latest version of the payment ``key`` (the original, or its last change)."""
    found: Item | None = None
    version = 1
    while True:
        name = key if version == 1 else f"{key}~{version}"
        items = journal.find_items(name, counterpart)
        if not items:
            return found
        found = items[0]
        version += 1


def order_instruction(order: PaymentOrder, registration_place: str) -> PaymentInstruction:
    """The payment instruction an order is (:func:`ordered_payment` journals its item)."""
    return PaymentInstruction(*_order_fields(order, registration_place))


def _order_fields(order: PaymentOrder, registration_place: str) -> InstructionFields:
    # G68's delivery number and line are 0: an order comes in no delivery; its payment id is
    # its posting reference, its benefit type its paying unit.
    recipient = order.recipient
    return (
        order.header.sender_system, 0, 0, registration_place, order.benefit_type,
        order.payment_id, order.amount_ore, False, _TRANSACTION_TYPE,
        _IDENT_CODES[recipient.kind], recipient.number.rjust(14, "0"), order.disposition_date,
        order.payment_id, order.texts, order.header.priority is Priority.STRAKS,
    )  # fmt: skip


def new_payment(instruction: PaymentInstruction, *, seq: int = 1) -> NewItem:
    """The journal item of a payment; ``seq`` 2 for a next version (not what its message
    asked for in the first place, so its status is not that message's receipt)."""
    return NewItem(
        instruction.business_key,
        instruction.amount_ore,
        seq=seq,
        fingerprint=instruction.fingerprint,
        data=instruction.to_data(),
        lookup=instruction.control_key,
        municipality=instruction.municipality,
        disposition_date=instruction.disposition_date,
    )


def ordered_payment(order: PaymentOrder, registration_place: str) -> NewItem:
    """The journal item (state ``pending``, reason ``ordered``) of a payment ordered with its
    municipality's NemKonto ``registration_place``: ``new_payment`` of its instruction
    (:func:`order_instruction`), built straight from the order as the G68 receiver builds its
    items (:func:`~toekgw.adapters.g68.payments.payment_item`; the intake makes one a
    message, ``tests/test_tok_payment_item.py`` holds the two equal)."""
    return payment_item(*_order_fields(order, registration_place), seq=1)


def replace_with_next_version(
    journal: Journal, payment: Item, transmission_id: int, why: str, **changes: object
) -> int:
    """Recall the unreleased ``payment`` and journal, under ``transmission_id``, its next
    version (``KY:<payment id>~<n>``) with ``changes``; the new version's number."""
    assert payment.data is not None
    old = PaymentInstruction.from_data(payment.data)
    base, _, number = payment.business_key.partition("~")
    version = int(number or 1) + 1
    ident = old.payment_ident.split("~", 1)[0]
    new = dataclasses.replace(old, payment_ident=f"{ident}~{version}", **changes)  # type: ignore[arg-type]
    journal.set_item_state(
        payment.id, "recalled", reason=f"replaced by version {version}: {why}", expect=payment.state
    )
    journal.add_items(
        transmission_id,
        [new_payment(new, seq=2)],
        state="pending",
        reason=f"version {version} of {base}: {why}",
    )
    return version


def apply_payment_message(
    journal: Journal,
    tx: Transmission,
    message: PaymentOrder | PaymentChange | PaymentRecall,
    registration_places: Mapping[str, str],
) -> str:
    """Journal ``message`` under ``tx`` (in the caller's transaction); the state its item
    starts in. Raises :class:`UnknownMunicipality` for a municipality with no agreement."""
    place = registration_places.get(message.header.municipality)
    if place is None:
        raise UnknownMunicipality(
            f"municipality {message.header.municipality} has no NemKonto agreement configured"
        )
    key = payment_key(message.header.sender_system, message.payment_id)
    if isinstance(message, PaymentOrder):
        journal.add_items(
            tx.id, [ordered_payment(message, place)], state="pending", reason="ordered"
        )
        return "pending"
    target = current_version(journal, tx.counterpart, key)
    if isinstance(message, PaymentRecall):
        return _recall(journal, tx, key, target, message)
    return _change(journal, tx, key, target, message)


def _request(journal: Journal, tx: Transmission, key: str, state: str) -> Item:
    marker = f"{key}@{tx.delivery_key or tx.id}"
    journal.add_items(tx.id, [NewItem(marker, 0, seq=1)], state=state, reason="requested")
    return journal.find_items(marker, tx.counterpart)[0]


def _recall(
    journal: Journal, tx: Transmission, key: str, target: Item | None, message: PaymentRecall
) -> str:
    request = _request(journal, tx, key, "recall-requested")
    if target is not None and target.state in UNRELEASED:
        journal.set_item_state(
            target.id, "recalled", reason=f"recalled by its sender: {message.reason}",
            expect=target.state,
        )  # fmt: skip
        journal.set_item_state(
            request.id, "recall-applied", reason=f"{target.business_key} recalled"
        )
        return "recall-applied"
    why = "no such payment" if target is None else f"the payment is already {target.state}"
    journal.set_item_state(request.id, "recall-refused", reason=f"recall refused: {why}")
    return "recall-refused"


def _change(
    journal: Journal,
    tx: Transmission,
    key: str,
    target: Item | None,
    message: PaymentChange,
) -> str:
    request = _request(journal, tx, key, "change-requested")
    if target is None or target.state not in UNRELEASED or target.data is None:
        why = "no such payment" if target is None else f"the payment is already {target.state}"
        journal.set_item_state(request.id, "change-refused", reason=f"change refused: {why}")
        return "change-refused"
    old = PaymentInstruction.from_data(target.data)
    version = replace_with_next_version(
        journal,
        target,
        tx.id,
        "a change from its sender",
        amount_ore=old.amount_ore if message.amount_ore is None else message.amount_ore,
        disposition_date=message.disposition_date or old.disposition_date,
        straks=old.straks or message.header.priority is Priority.STRAKS,
    )
    journal.set_item_state(request.id, "change-applied", reason=f"{key} is now version {version}")
    return "change-applied"
