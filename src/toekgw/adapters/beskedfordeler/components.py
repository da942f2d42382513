"""The components a Beskedfordeler message type can be routed to, by name."""

from __future__ import annotations

from toekgw.adapters.beskedfordeler.consumer import Component
from toekgw.adapters.debitor.debitorkonti import DEBITORKONTO_SLETTET
from toekgw.adapters.eindkomst.besked import SKATTEKORT

__all__ = ["COMPONENTS"]

COMPONENTS: dict[str, Component] = {c.name: c for c in (DEBITORKONTO_SLETTET, SKATTEKORT)}
