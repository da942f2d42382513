"""Refusing a message of TØK's interfaces: journaled, listed, answered.

A refused message whose sender can be read is journaled as a ``tok-refused`` transmission
with one ``rejected`` item, so that the status outbox answers its sender with the findings;
every refusal goes on the error list. The findings name the queue and message id.
"""

from __future__ import annotations

from toekgw.adapters.tok.filing import message_meta
from toekgw.adapters.tok.kinds import COUNTERPART, REFUSED
from toekgw.adapters.tok.payments import UnknownMunicipality
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.tok import Interface, TokMessage
from toekgw.formats.tok.model import Origin
from toekgw.gateway.journal import (
    DuplicateItem,
    DuplicateTransmission,
    Journal,
    NewItem,
    NewTransmission,
)
from toekgw.gateway.transport.amqp import Delivery

__all__ = ["business_finding", "refuse", "wrong_queue"]


def refuse(
    journal: Journal,
    interface: Interface,
    delivery: Delivery,
    findings: list[Finding],
    origin: Origin | None,
) -> None:
    """Journal and list the refusal of ``delivery`` (once: a refusal delivered again is
    listed already)."""
    where = f"{delivery.queue} message {origin.message_id if origin else delivery.message_id}"
    located = [f.in_file(where) for f in findings]
    with journal.transaction(durable=True):
        tx_id = None
        if origin is not None:
            try:
                tx = journal.create_transmission(
                    NewTransmission(
                        counterpart=COUNTERPART,
                        kind=REFUSED.name,
                        state="refused",
                        delivery_key=f"{origin.sender_system}:{origin.message_id}",
                        file_name=where,
                        size=len(delivery.body),
                        meta={**message_meta(interface, origin),
                              "findings": [_finding_data(f) for f in located]},
                    )
                )  # fmt: skip
            except DuplicateTransmission:
                return  # refused (or taken) before: listed then
            tx_id = tx.id
            journal.add_items(
                tx.id,
                [NewItem(f"refused:{origin.sender_system}:{origin.message_id}", 0, seq=1)],
                state="rejected",
                reason="the message failed validation",
            )
        journal.add_error(
            counterpart=COUNTERPART,
            subject="message",
            findings=located,
            transmission_id=tx_id,
            file_name=where,
        )


def _finding_data(finding: Finding) -> dict[str, str | None]:
    return {"code": finding.code, "where": finding.where() or None, "message": finding.message}


def business_finding(exc: UnknownMunicipality | DuplicateItem) -> Finding:
    """The finding of a message the schema and rules passed and the journal refused."""
    if isinstance(exc, UnknownMunicipality):
        return Finding(
            "tok.municipality.agreement",
            Severity.ERROR,
            str(exc),
            field="Municipality",
            expected="a municipality with an agreement",
        )
    return Finding(
        "tok.payment.duplicate",
        Severity.ERROR,
        f"the payment was ordered before under another message id ({exc})",
        field="PaymentId",
        expected="a payment id not ordered before (a change or a recall for an ordered one)",
    )


def wrong_queue(queue: str, message: TokMessage, interface: Interface) -> Finding:
    """The finding of a message of another interface than its queue's."""
    return Finding(
        "tok.queue",
        Severity.ERROR,
        f"a {type(message).__name__} of the {message.interface.value} interface arrived on "
        f"{queue}, the {interface.value} interface's queue",
        expected=f"a message of the {interface.value} interface",
    )
