"""The books: what a bookkeeping adapter keeps in the journal beside the transmissions.

Three things, each in its own tables (migration 5), reached through :class:`Books` — a
protocol of its own, so that the :class:`~toekgw.gateway.journal.base.Journal` stays what every
adapter needs:

- a **classification replica**: whole versions of a classification (a chart-of-accounts
  sortiment), each class with its code, title and validity (:class:`ClassRow`);
- **booking events**: one row per journaled item and bookable event (a payment journaled,
  effectuated, cancelled...); ``(item, event)`` is unique, so an event is booked once;
- **vouchers** of balanced **postings**, gathered in **batches** (one file each).

The core knows no counterpart: what an event means in accounts is the adapter's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "BatchRow",
    "BookingEvent",
    "Books",
    "ClassRow",
    "ClassVersion",
    "EventSource",
    "PostingRow",
    "VoucherRow",
]


@dataclass(frozen=True, slots=True)
class ClassRow:
    """One class of a classification version. ``removed_in``: the version that took it out
    of the classification (kept so that what was posted on it stays known), else None."""

    class_id: str
    code: str
    title: str
    valid_from: dt.date
    valid_to: dt.date | None
    removed_in: int | None = None

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class ClassVersion:
    id: int
    scheme: str
    version: int
    delivery: str
    name: str
    valid_from: dt.date
    received_at: str
    classes: int


@dataclass(frozen=True, slots=True)
class EventSource:
    """Which journaled items make booking event ``event``: items of transmissions of one of
    ``kinds`` in one of ``states``, dated by their creation (``dated_by="created"``) or their
    last change (``"updated"``); ``group`` and ``category`` are fields of the item's data.
    ``requires``: only items whose event of that name is already recorded."""

    event: str
    kinds: tuple[str, ...]
    states: tuple[str, ...]
    dated_by: str
    group: str
    category: str
    requires: str | None = None


@dataclass(frozen=True, slots=True)
class BookingEvent:
    id: int
    item_id: int
    event: str
    group: str
    day: dt.date
    amount_ore: int
    business_key: str
    category: str | None
    bundle_ref: str | None
    member_key: str | None


@dataclass(frozen=True, slots=True)
class PostingRow:
    seq: int
    side: str  # "D" or "K"
    amount_ore: int
    account: str
    class_id: str | None
    text: str | None
    bundle_ref: str | None
    member_key: str | None
    business_key: str | None
    event_row: int | None


@dataclass(frozen=True, slots=True)
class VoucherRow:
    id: int
    voucher_id: str
    group: str
    day: dt.date
    kind: str
    state: str
    batch_id: str | None
    replaces: int | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class BatchRow:
    batch_id: str
    group: str
    state: str
    file_name: str
    created_at: str
    transmission_id: int | None


class Books(Protocol):
    # -- the classification replica
    def class_version(self, scheme: str, version: int | None = None) -> ClassVersion | None:
        """That version (the newest when ``version`` is None), or None."""
        ...

    def class_versions(self, scheme: str | None = None) -> list[ClassVersion]: ...

    def classes(self, version_id: int) -> list[ClassRow]: ...

    def add_class_version(
        self,
        *,
        scheme: str,
        version: int,
        delivery: str,
        name: str,
        valid_from: dt.date,
        classes: Iterable[ClassRow],
        transmission_id: int | None = None,
    ) -> int: ...

    # -- booking events
    def collect_events(self, source: EventSource, *, zone: str) -> int:
        """Record the events ``source`` describes that are not recorded yet; how many.
        Days are local dates in time zone ``zone``."""
        ...

    def open_events(self, limit: int) -> list[BookingEvent]:
        """The first ``limit`` events on no voucher, by group, day, event and id."""
        ...

    def voucher_events(self, voucher_row: int) -> list[BookingEvent]:
        """The events on that voucher, in id order."""
        ...

    # -- vouchers and batches
    def add_voucher(
        self,
        *,
        voucher_id: str,
        group: str,
        day: dt.date,
        kind: str,
        state: str,
        postings: Sequence[PostingRow],
        reason: str | None = None,
        replaces: int | None = None,
    ) -> int:
        """Store a voucher; its postings' events are then on it. An event already on another
        voucher (but the one this ``replaces``) raises :class:`JournalError` and nothing is
        kept: an event is on one voucher at a time."""
        ...

    def voucher(self, voucher_id: str) -> VoucherRow | None: ...

    def vouchers(
        self, *, states: Sequence[str] | None = None, batch_id: str | None = None
    ) -> list[VoucherRow]: ...

    def vouchers_by_group(
        self, state: str, *, after: tuple[str, int] | None = None, limit: int
    ) -> list[VoucherRow]:
        """A page of the vouchers in ``state`` ordered by municipality (group), then row id:
        at most ``limit`` of them, after the (group, row id) ``after``."""
        ...

    def postings(self, voucher_row: int) -> list[PostingRow]: ...

    def set_voucher_state(
        self, voucher_row: int, to_state: str, *, reason: str | None, expect: Sequence[str]
    ) -> bool:
        """Compare-and-set: moved only from one of ``expect``; whether it moved."""
        ...

    def add_batch(
        self, batch_id: str, group: str, file_name: str, voucher_rows: Sequence[int]
    ) -> None:
        """A batch in state ``claimed`` holding those vouchers (moved to ``batched``)."""
        ...

    def batches(self, *, states: Sequence[str] | None = None) -> list[BatchRow]: ...

    def set_batch_state(
        self, batch_id: str, to_state: str, *, transmission_id: int | None = None
    ) -> None: ...

    def mark_applied(self, transmission_id: int) -> bool:
        """False when it was applied before."""
        ...

    # -- reading the books
    def account_lines(
        self, account: str, *, states: Sequence[str], until: dt.date | None = None
    ) -> Iterator[tuple[str | None, int]]:
        """``(business_key, signed øre: debit +, credit -)`` of every posting on ``account``
        in vouchers in ``states`` dated up to ``until``."""
        ...

    def account_balances(
        self, accounts: Sequence[str], *, states: Sequence[str], until: dt.date | None = None
    ) -> Iterator[tuple[str, int]]:
        """``(business_key or "", signed øre: debit +, credit -)`` summed per business key over
        the postings on any of ``accounts`` in vouchers in ``states`` dated up to ``until``,
        ordered by business key and read as a stream."""
        ...

    def month_postings(
        self, first: dt.date, last: dt.date, *, states: Sequence[str]
    ) -> Iterator[tuple[VoucherRow, PostingRow]]: ...
