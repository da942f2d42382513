"""A carrier's set-wise moves: one event for all its members in a state, and how it is read.

An outbound transmission that carries items journaled with another (a NemKonto bundle
carries payments of G68 deliveries) moves them a bundle at a time: sent, received, accepted,
at the bank. Each such move is one ``items`` event on the carrier - "every item it carries now
that is in ``from_state`` moves to ``to_state``", with their count - instead of one event per
item: a month of a million payments writes some hundreds of events for its bundles' steps
instead of millions.

Which items such an event moved follows from the journal. An item is carried by the latest
of its memberships (transmission ids only grow), and each membership records the newest event
when it was made (``since_event``; NULL for memberships from before migration 18, which all
began before any such event). So the event ``e`` of carrier ``C`` moved the items whose latest
membership begun before ``e`` is ``C`` and that were in its ``from_state`` then: what the
update that came with it moved. Readers (``item_history``, ``item_amounts`` as of an instant)
replay an item's events in log order with this rule.

Only a kind without items of its own (``KindSpec.item is None``) moves its members set-wise,
so an ``items`` event is about the transmission's members when its kind has no items, and
about its own items otherwise; a move that does not take every member in the state (an answer
naming some payments of a bundle) is written one event per item, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["Membership", "carrier_at", "replay"]

#: One carrying of an item: the carrier's transmission id and the newest event id before it
#: began (0: before any set-wise move).
Membership = tuple[int, int]

#: A set-wise move: its event id, the carrier (``None``: a move of the item's own
#: transmission's items, which applies whatever carries it), the states it moves from and to.
CarrierMove = tuple[int, int | None, str, str]


def carrier_at(memberships: Iterable[Membership], event_id: int) -> int | None:
    """The transmission that carried the item when event ``event_id`` was written."""
    begun = [carrier for carrier, since in memberships if since < event_id]
    return max(begun) if begun else None


def replay(
    state: str | None,
    memberships: Sequence[Membership],
    moves: Iterable[CarrierMove],
) -> str | None:
    """The item's state after ``moves`` (the set-wise moves of its transmission and of its
    carriers after its last event of its own, in log order), from ``state``."""
    for event_id, carrier, source, target in moves:
        if state != source:
            continue
        if carrier is None or carrier_at(memberships, event_id) == carrier:
            state = target
    return state
