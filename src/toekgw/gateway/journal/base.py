"""The journal interface: what every adapter may rely on, whatever database is behind it.

:class:`~toekgw.gateway.journal.sqlite.SqliteJournal` (SQLite in WAL mode) is the embedded
default; a server database implements the same protocol when one machine is outgrown.

Every write happens inside :meth:`Journal.transaction`; a write method called outside one opens
its own. ``transaction(durable=True)`` is for the commit that precedes an irreversible remote
step (removing a received file, uploading one): it is flushed to disk (``synchronous=FULL``)
before the call returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from toekgw.formats.findings import Finding
from toekgw.gateway.journal.location import JournalLocation
from toekgw.gateway.journal.model import (
    AddedItems,
    DateTotal,
    Direction,
    ErrorEntry,
    Event,
    Item,
    ItemHistory,
    ItemRef,
    KindSpec,
    MemberMove,
    MemberMoveColumns,
    MemberMoves,
    MemberTotal,
    NewFiling,
    NewItem,
    NewTransmission,
    StateTotal,
    Transmission,
    Unmarked,
)

__all__ = ["Journal", "JournalReader"]


class JournalReader(Protocol):
    """The read side: what a validator may consult (earlier items, earlier deliveries)."""

    def get_transmission(self, transmission_id: int) -> Transmission: ...

    def find_transmission(
        self,
        *,
        ref: str | None = None,
        sha256: str | None = None,
        direction: Direction | None = None,
        transfer_id: str | None = None,
        counterpart: str | None = None,
        delivery_key: str | None = None,
    ) -> Transmission | None: ...

    def transmissions(
        self,
        *,
        counterpart: str | None = None,
        kind: str | None = None,
        states: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[Transmission]: ...

    def existing_items(self, counterpart: str, business_keys: Iterable[str]) -> dict[str, ItemRef]:
        """Those of ``business_keys`` already journaled for ``counterpart``."""
        ...

    def earlier_fingerprints(
        self, counterpart: str, fingerprints: Iterable[str]
    ) -> dict[str, ItemRef]:
        """The first journaled item for each of ``fingerprints`` that has one."""
        ...

    def items(self, transmission_id: int, *, state: str | None = None) -> Iterator[Item]: ...

    def find_items(self, business_key: str, counterpart: str | None = None) -> list[Item]: ...

    def items_by_lookup(self, counterpart: str, lookup: str) -> list[Item]:
        """Every item of ``counterpart`` journaled with this lookup key, oldest first."""
        ...

    def items_by_lookups(self, counterpart: str, lookups: Iterable[str]) -> dict[str, list[Item]]:
        """:meth:`items_by_lookup` for many keys at once: lookup -> its items, oldest first
        (keys without items are absent)."""
        ...

    def item_history(self, item_id: int) -> ItemHistory: ...

    def events(self, transmission_id: int) -> list[Event]: ...

    def errors(
        self,
        *,
        include_resolved: bool = False,
        counterpart: str | None = None,
        subject: str | None = None,
    ) -> list[ErrorEntry]: ...

    def iter_errors(
        self,
        *,
        include_resolved: bool = False,
        counterpart: str | None = None,
        subject: str | None = None,
    ) -> Iterator[ErrorEntry]: ...

    def error_count(
        self,
        *,
        include_resolved: bool = False,
        counterpart: str | None = None,
        subject: str | None = None,
    ) -> int: ...

    def kind(self, name: str) -> KindSpec: ...

    def get_item(self, item_id: int) -> Item: ...

    def items_of_kind(self, kind: str, state: str) -> Iterator[Item]:
        """Every item in ``state`` of every transmission of ``kind``, oldest first."""
        ...

    def unmarked_dates(
        self, which: Unmarked, *, ids: tuple[int, int] | None = None
    ) -> list[DateTotal]:
        """The items ``which`` selects (``ids``: only those with an id from ``ids[0]`` to
        ``ids[1]``), per kind and disposition date (ordered so): how many, the sum of their
        ``value`` field and their lowest and highest id."""
        ...

    def unmarked_items(
        self,
        which: Unmarked,
        *,
        order: tuple[str, int] | None = None,
        ids: tuple[int, int] | None = None,
        after: tuple[str, int] | None = None,
        limit: int,
    ) -> list[tuple[str, int, int]]:
        """A page of the items ``which`` selects, each as its key, id and ``value`` field: at
        most ``limit`` of them, ordered by key (byte-wise), then id, after the (key, id)
        ``after``. The key: the last ``order[1]`` characters of the payload field
        ``order[0]`` (all of it when shorter); ``order`` None: ``""``, so ordered by id.
        ``ids``: only the ids from ``ids[0]`` to ``ids[1]`` (both included), such as those
        :meth:`unmarked_dates` gave for the dates read (what lets a read of a few recent
        dates pass over the older items by their ids)."""
        ...

    def members(
        self,
        transmission_id: int,
        *,
        current_only: bool = False,
        states: Collection[str] | None = None,
    ) -> Iterator[Item]:
        """The items an outbound transmission carries, in order (``current_only``: not since
        carried by a later transmission; ``states``: only those in one of these states)."""
        ...

    def item_amounts(
        self, kinds: Collection[str], states: Collection[str], *, before: str | None = None
    ) -> Iterator[tuple[str, int]]:
        """``(business_key, amount_ore)`` of the items of ``kinds`` in one of ``states`` (with
        ``before``, a journal instant: in one of them then, by the event log), ordered by
        business key, streamed."""
        ...

    def member(self, transmission_id: int, member_key: str) -> Item | None: ...

    def memberships(self, item_ids: Iterable[int]) -> dict[int, list[int]]: ...

    def items_to_carry(
        self, kinds: Collection[str], state: str, *, floor: dt.date
    ) -> Iterator[tuple[int, Item]]:
        """``(carried before, item)`` for every item in ``state`` of the transmissions of
        ``kinds``, ordered by how many transmissions carried it before, municipality,
        disposition date (none or earlier than ``floor``: ``floor``) and business key; fixed
        at the call and streamed (memory holds a page), so the caller may move the items it
        was given while it reads on (an item no longer in ``state`` is left out)."""
        ...

    def member_totals(
        self,
        counterpart: str,
        kind: str,
        *,
        transmission_id: int | None = None,
        current_only: bool = False,
    ) -> list[MemberTotal]:
        """Per outbound transmission of ``kind`` (or only ``transmission_id``) and per state
        of its members: how many and their sum, aggregated by the store (nothing is loaded
        item by item). ``current_only``: only the members it carries now (``current``), which
        the store sums from the items alone."""
        ...

    def state_totals(self, kind: str) -> list[StateTotal]:
        """Per state, the items of every transmission of ``kind``: how many and their sum."""
        ...


class Journal(JournalReader, Protocol):
    @property
    def location(self) -> JournalLocation:
        """Where the journal is: its SQLite file or its PostgreSQL URL."""
        ...

    def transaction(self, *, durable: bool = False) -> AbstractContextManager[None]: ...

    def define_kind(self, kind: KindSpec) -> None:
        """Record (or update) a kind's lifecycles; must precede its first transmission."""
        ...

    def create_transmission(self, new: NewTransmission) -> Transmission:
        """Open a transmission. Raises DuplicateTransmission naming the first one when its
        SHA-256 (same direction), transfer id or (counterpart, delivery key) is known."""
        ...

    def create_filings(self, filings: Sequence[NewFiling]) -> list[int]:
        """Open many transmissions, each with its items, in a few set-based statements: the
        rows and events that ``create_transmission`` then ``add_items`` write (no
        duplicate-payment matches are reported); the new transmissions' ids, in the filings'
        order (``get_transmission`` reads one whole). All or none: DuplicateTransmission or
        DuplicateItem for the first clash with the journal; ValueError for a batch that
        names a transmission's guard (SHA-256, transfer id, delivery key, ref) or an item
        twice."""
        ...

    def set_state(
        self, transmission_id: int, to_state: str, *, reason: str, expect: str | None = None
    ) -> Transmission:
        """Move a transmission; ``expect`` makes it a compare-and-set (StateError if not)."""
        ...

    def update_transmission(
        self,
        transmission_id: int,
        *,
        reason: str,
        transfer_id: str | None = None,
        local_path: str | None = None,
        delivery_key: str | None = None,
        meta: dict[str, object] | None = None,
    ) -> Transmission: ...

    def note(self, transmission_id: int, reason: str, *, at: str | None = None) -> None:
        """An event that changes no state (what was checked, what was refused, and when)."""
        ...

    def add_items(
        self, transmission_id: int, items: Iterable[NewItem], *, state: str, reason: str
    ) -> AddedItems:
        """Journal items in batches. All or none: DuplicateItem names the first clash."""
        ...

    def move_items(
        self, transmission_id: int, from_state: str, to_state: str, *, reason: str
    ) -> int:
        """Move every item of a transmission in ``from_state``; one event for all."""
        ...

    def set_item_state(
        self, item_id: int, to_state: str, *, reason: str, expect: str | None = None
    ) -> Item: ...

    def set_items_state(
        self,
        item_ids: Iterable[int],
        from_state: str,
        to_state: str,
        *,
        reason: str | Mapping[int, str],
    ) -> list[int]:
        """Move those of ``item_ids`` in ``from_state``, one event each; the ids moved."""
        ...

    def add_members(
        self,
        transmission_id: int,
        members: Iterable[tuple[int, str]],
        *,
        move: tuple[str, str] | None = None,
        reason: str = "",
    ) -> int:
        """Journal ``(item_id, member_key)`` pairs as members of an outbound transmission,
        which carries them from now on (``Item.carrier_id``); with ``move=(from_state,
        to_state)`` those of them in ``from_state`` move to ``to_state`` at once (``reason``),
        as :meth:`move_members` after it would, each item written once. How many members
        were added."""
        ...

    def move_members(
        self, transmission_id: int, from_state: str, to_state: str, *, reason: str
    ) -> int:
        """Move every item the transmission carries now that is in ``from_state``, set-wise;
        how many moved. One event on the transmission where its kind has no items of its own
        (a bundle: :mod:`~toekgw.gateway.journal._carried`), else one event each."""
        ...

    def apply_member_moves(
        self,
        transmission_id: int,
        moves: Iterable[MemberMove] | MemberMoveColumns,
        *,
        eligible: Collection[str],
        sources: Mapping[str, Collection[str]],
        report: Collection[str] = (),
    ) -> MemberMoves:
        """Move members named by their member key, set-wise: one event each, or one on a
        transmission whose kind has no items of its own where the moves to a target take every
        member it carries in their one source state for one reason. A key names a member only
        if the transmission carries it now in one of the ``eligible`` states; it moves to its
        target if it is in one of ``sources[target]``. The first move of a key counts.
        ``moves`` may be given as :class:`MemberMoveColumns` (three lists): for a large
        answer, no object a move.
        ``report``: target states whose moved members are returned."""
        ...

    def add_error(
        self,
        *,
        counterpart: str,
        subject: str,
        findings: Sequence[Finding],
        transmission_id: int | None = None,
        file_name: str | None = None,
        business_key: str | None = None,
    ) -> int: ...

    def resolve_error(self, entry_id: int, resolution: str) -> None: ...

    def record_read(self, action: str, what: str, subjects: Iterable[str]) -> int:
        """Log that the acting identity read ``what`` with ``action``, showing the personal
        data of ``subjects`` (CPR numbers): the read log."""
        ...

    def stage_body(self, transmission_id: int, body: bytes) -> None:
        """Keep ``body`` as the bytes an outbound transmission was built and validated as
        (replacing any), for its send to read instead of building them again."""
        ...

    def staged_body(self, transmission_id: int) -> bytes | None:
        """The transmission's staged bytes; None when it has none (then build them again)."""
        ...

    def drop_staged_body(self, transmission_id: int) -> bool:
        """Forget the transmission's staged bytes (it has left); whether it had any."""
        ...

    def integrity_problems(self) -> list[str]:
        """What the store's own integrity check finds wrong (empty: sound)."""
        ...

    def require_sound(self) -> None:
        """Raise :class:`JournalError` unless :meth:`integrity_problems` is empty."""
        ...

    def close(self) -> None: ...
