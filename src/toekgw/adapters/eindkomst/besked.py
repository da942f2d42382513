"""Tax cards through the Beskedfordeler: the route KOMBIT's SF0770_B names for them.

The component ``eindkomst-skattekort`` (routed to by its message type in
``[beskedfordeler.routes]``) takes a Beskedfordeler message whose payload is SKAT's tax-card
document and journals the cards for the withholding API, exactly as a tax-card answer on MQ or
SFTP is journaled (:class:`~toekgw.adapters.eindkomst.answers.Answers`, route
``beskedfordeler``), inside the consumer's transaction: the message is acknowledged only after
the cards are durable, and the same document again changes nothing. A payload that is not a
valid tax-card document is refused: the consumer lists and dead-letters the message.
"""

from __future__ import annotations

from toekgw.adapters.beskedfordeler.consumer import Component
from toekgw.adapters.eindkomst.answers import Answers, ReceiveResult
from toekgw.adapters.eindkomst.kinds import define_kinds
from toekgw.formats.kombit.besked import BadPayload, Haendelsesbesked
from toekgw.gateway.journal import Journal, Transmission

__all__ = ["SKATTEKORT"]


def _take_tax_cards(journal: Journal, transmission: Transmission, message: Haendelsesbesked) -> str:
    if not message.payload:
        raise BadPayload("the message carries no tax-card document")
    define_kinds(journal)
    result = ReceiveResult()
    Answers(journal).take(message.payload, result, origin="beskedfordeler")
    if result.unreadable or not (result.tax_cards or result.duplicates):
        raise BadPayload("the payload is not a tax-card document SKAT's schema accepts")
    if result.duplicates:
        return "tax cards already journaled (the same document came before)"
    return f"{result.tax_cards} tax card(s) journaled for eIndkomst"


#: The Beskedfordeler component for SKAT's tax cards.
SKATTEKORT = Component("eindkomst-skattekort", _take_tax_cards)
