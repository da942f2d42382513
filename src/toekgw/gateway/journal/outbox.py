"""The status outbox: telling a sender about every state its items reach.

Some counterparts want a status message for every change of the items they sent (the case
systems on TØK's own interfaces). The journal already knows each item's state; the outbox adds
what was last told: an item whose state differs from its last published state has a status
due. The publisher publishes it (at least once), then records it with :meth:`mark_published`.
A crash in between publishes the same status again under the same event id
(:attr:`DueStatus.event_id`), which the receiver drops. Several publishers share the outbox by
claiming its items (:mod:`~toekgw.gateway.journal.claims`) and checking :meth:`still_due`.

States an item passes through between two runs of the publisher are told as the last one
reached (a bundle's payments move set-wise, and the journal records that as one move).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["DueStatus", "StatusOutbox"]


@dataclass(frozen=True, slots=True)
class DueStatus:
    """The status an item has due: it is in ``state``; ``sequence`` is this status's number
    among the item's statuses (1: the first); ``seq`` the item's place in its transmission."""

    item_id: int
    transmission_id: int
    business_key: str
    seq: int | None
    state: str
    sequence: int

    @property
    def event_id(self) -> str:
        return f"{self.item_id}.{self.sequence}"


class StatusOutbox(Protocol):
    def due_statuses(
        self, kinds: Sequence[str], *, limit: int = 1000, after: int = 0
    ) -> list[DueStatus]:
        """Items of transmissions of ``kinds`` whose state was not yet published, oldest
        item first, from the item after id ``after`` on."""
        ...

    def still_due(self, due: Sequence[DueStatus]) -> list[DueStatus]:
        """Those of ``due`` not yet published meanwhile (by another worker)."""
        ...

    def mark_published(self, due: DueStatus) -> None:
        """``due`` was published (call after the broker confirmed it)."""
        ...
