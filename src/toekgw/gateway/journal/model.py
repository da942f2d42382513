"""The journal's records, lifecycles and errors: plain data, no SQL.

The core is counterpart-neutral: an adapter names its own *kinds* of transmission and the
states its transmissions and items move through (a :class:`Lifecycle`). The journal stores the
lifecycles as data and refuses a state change that a kind's lifecycle does not allow, so an
audit reader can see both what happened and what could have happened.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from toekgw.formats.findings import Finding
from toekgw.gateway.errors import GatewayError

__all__ = [
    "AddedItems",
    "DateTotal",
    "Direction",
    "DuplicateItem",
    "DuplicateTransmission",
    "ErrorEntry",
    "Event",
    "FingerprintMatch",
    "Item",
    "ItemHistory",
    "ItemRef",
    "JournalError",
    "KindSpec",
    "Lifecycle",
    "MemberMove",
    "MemberMoveColumns",
    "MemberMoves",
    "MemberTotal",
    "NewItem",
    "NewTransmission",
    "StateError",
    "StateTotal",
    "Transmission",
    "Unmarked",
]


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The states of one kind of thing and the moves allowed between them.

    ``initial``: the states a new record may start in. ``transitions``: from -> allowed
    targets. A state with no outgoing move is final.
    """

    initial: tuple[str, ...]
    transitions: Mapping[str, tuple[str, ...]]
    # What each state means; stored with the kind, for whoever reads the journal later.
    descriptions: Mapping[str, str] = field(default_factory=dict)

    def allows(self, source: str, target: str) -> bool:
        return target in self.transitions.get(source, ())

    @property
    def states(self) -> frozenset[str]:
        """Every state a record can be in: the initial ones and every move's ends."""
        moves = (
            state for source, targets in self.transitions.items() for state in (source, *targets)
        )
        return frozenset((*self.initial, *moves))

    def extended(self, transitions: Mapping[str, Sequence[str]]) -> Lifecycle:
        """This lifecycle with more moves (an adapter growing a core lifecycle)."""
        merged = {k: tuple(v) for k, v in self.transitions.items()}
        for source, targets in transitions.items():
            merged[source] = tuple(dict.fromkeys((*merged.get(source, ()), *targets)))
        return Lifecycle(self.initial, merged, self.descriptions)

    def as_dict(self) -> dict[str, object]:
        return {
            "initial": list(self.initial),
            "transitions": {k: list(v) for k, v in self.transitions.items()},
            "descriptions": dict(self.descriptions),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Lifecycle:
        initial = data["initial"]
        transitions = data["transitions"]
        descriptions = data.get("descriptions", {})
        assert isinstance(initial, list)
        assert isinstance(transitions, dict)
        assert isinstance(descriptions, dict)
        return cls(
            tuple(str(s) for s in initial),
            {str(k): tuple(str(t) for t in v) for k, v in transitions.items()},
            {str(k): str(v) for k, v in descriptions.items()},
        )


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One kind of transmission (``"g68-delivery"``, ``"nemkonto-bundle"``) and its states."""

    name: str
    direction: Direction
    transmission: Lifecycle
    item: Lifecycle | None = None


@dataclass(frozen=True, slots=True)
class NewTransmission:
    """What the journal needs to open a transmission.

    ``ref`` is our stable id for it (the SendersFileId of an upload, a bundle id); one is
    made when not given. ``delivery_key`` is the counterpart's own id for a delivery (data
    supplier + delivery number): unique per counterpart.
    """

    counterpart: str
    kind: str
    state: str
    file_name: str | None = None
    size: int | None = None
    sha256: str | None = None
    transfer_id: str | None = None
    delivery_key: str | None = None
    ref: str | None = None
    remote_path: str | None = None
    local_path: str | None = None
    meta: Mapping[str, object] = field(default_factory=dict)
    reason: str = "created"


@dataclass(frozen=True, slots=True)
class Transmission:
    id: int
    ref: str
    counterpart: str
    kind: str
    direction: Direction
    state: str
    file_name: str | None
    size: int | None
    sha256: str | None
    transfer_id: str | None
    delivery_key: str | None
    remote_path: str | None
    local_path: str | None
    created_at: str
    updated_at: str
    item_count: int
    total_ore: int
    meta: Mapping[str, object]

    def describe(self) -> str:
        """How an operator recognises it: ``#12 G68_0001.txt (received 2026-...)``."""
        name = self.file_name or self.ref
        return (
            f"transmission #{self.id} {name!r} of {self.counterpart} "
            f"({self.created_at}, {self.state})"
        )


@dataclass(frozen=True, slots=True)
class NewItem:
    """One item of a transmission: a payment, an income line, a voucher.

    ``seq`` is its place in the transmission (a line number); ``fingerprint`` what the
    duplicate-payment control compares across transmissions (an adapter-made digest of the
    fields that make two payments "the same"). ``payload`` is ``data`` already encoded as the
    journal stores it (``json.dumps(data, ensure_ascii=False)``, byte for byte), for an adapter
    that journals many items and encodes them more cheaply itself; given, it is stored as it
    is and ``data`` is left ``None``.
    """

    business_key: str
    amount_ore: int
    seq: int | None = None
    fingerprint: str | None = None
    data: Mapping[str, object] | None = None  # adapter payload, stored as JSON
    lookup: str | None = None  # adapter-defined, not unique: see JournalReader.items_by_lookup
    # What flows group and sum payments on, kept as typed columns beside the payload.
    municipality: str | None = None
    disposition_date: dt.date | None = None
    payload: str | None = None


@dataclass(frozen=True, slots=True)
class NewFiling:
    """A transmission with its items, for :meth:`~toekgw.gateway.journal.base.Journal.
    create_filings`: what ``create_transmission`` and then ``add_items(items, state=
    item_state, reason=item_reason)`` would journal."""

    transmission: NewTransmission
    items: Sequence[NewItem] = ()
    item_state: str = ""
    item_reason: str = "journaled"


@dataclass(frozen=True, slots=True)
class ItemRef:
    business_key: str
    item_id: int
    transmission_id: int
    file_name: str | None
    seq: int | None
    created_at: str

    def describe(self) -> str:
        place = f" line {self.seq}" if self.seq is not None else ""
        return (
            f"item {self.business_key!r} of transmission #{self.transmission_id} "
            f"{self.file_name!r}{place}, journaled {self.created_at}"
        )


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    transmission_id: int
    counterpart: str
    business_key: str
    amount_ore: int
    seq: int | None
    fingerprint: str | None
    state: str
    created_at: str
    updated_at: str
    data: Mapping[str, object] | None = None
    lookup: str | None = None
    municipality: str | None = None
    disposition_date: dt.date | None = None
    carrier_id: int | None = None  # the transmission that carries it now (latest membership)


@dataclass(frozen=True, slots=True)
class MemberMove:
    """Move the member an outbound transmission knows as ``member_key`` to ``to_state``."""

    member_key: str
    to_state: str
    reason: str


@dataclass(frozen=True, slots=True)
class MemberMoveColumns:
    """Many :class:`MemberMove` as three columns of equal length: move ``member_keys[n]`` to
    ``to_states[n]`` for ``reasons[n]``. An answer about a bundle of 100,000 payments is
    three lists this way, not 100,000 objects (the lists may share their strings)."""

    member_keys: Sequence[str]
    to_states: Sequence[str]
    reasons: Sequence[str]

    def __post_init__(self) -> None:
        if not len(self.member_keys) == len(self.to_states) == len(self.reasons):
            raise ValueError(
                f"the columns differ in length: {len(self.member_keys)} keys, "
                f"{len(self.to_states)} states, {len(self.reasons)} reasons"
            )

    @classmethod
    def of(cls, moves: Iterable[MemberMove] | MemberMoveColumns) -> MemberMoveColumns:
        """``moves`` as columns (the same object if it is already)."""
        if isinstance(moves, MemberMoveColumns):
            return moves
        keys: list[str] = []
        states: list[str] = []
        reasons: list[str] = []
        for move in moves:
            keys.append(move.member_key)
            states.append(move.to_state)
            reasons.append(move.reason)
        return cls(keys, states, reasons)

    def __len__(self) -> int:
        return len(self.member_keys)


@dataclass(frozen=True, slots=True)
class MemberMoves:
    """What :meth:`~toekgw.gateway.journal.base.Journal.apply_member_moves` did.

    ``moved``: target state -> members moved there; ``unchanged``: members asked for that were
    not in a state they may move from (already there, or further along); ``unknown``: keys
    that name no current member in an eligible state, in the order asked; ``reported``: the
    moved members whose target state was asked to be reported, with their move's reason.
    """

    moved: Mapping[str, int]
    unchanged: int
    unknown: tuple[str, ...]
    reported: tuple[tuple[Item, str], ...]


@dataclass(frozen=True, slots=True)
class StateTotal:
    """How many items are in ``state``, and their sum in øre."""

    state: str
    count: int
    total_ore: int


@dataclass(frozen=True, slots=True)
class Unmarked:
    """Which items a read of unmarked items (:meth:`~toekgw.gateway.journal.base.
    JournalReader.unmarked_items`) selects: those in ``state`` of transmissions of ``kinds``
    with a disposition date (the typed column) from ``dates[0]`` up to, not including,
    ``dates[1]``, whose payload fields ``equal`` the texts given, and that no item of the
    counterpart ``mark_counterpart`` marks yet (none has the business key ``mark_prefix``
    followed by the item's id). Each is read with its payload field ``value`` (an integer)."""

    kinds: tuple[str, ...]
    state: str
    dates: tuple[dt.date, dt.date]
    mark_counterpart: str
    mark_prefix: str
    value: str
    equal: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DateTotal:
    """The unmarked items of one kind with one disposition date: how many, the sum of their
    ``value`` and their lowest and highest id."""

    kind: str
    day: dt.date
    count: int
    total: int
    first_id: int
    last_id: int


@dataclass(frozen=True, slots=True)
class MemberTotal:
    """Members of one outbound transmission in one state: ``current`` False for members
    since carried by a later transmission."""

    transmission_id: int
    state: str
    current: bool
    count: int
    total_ore: int


@dataclass(frozen=True, slots=True)
class FingerprintMatch:
    """An item that looks like an earlier one: the duplicate-payment control's finding."""

    item: ItemRef
    earlier: ItemRef


@dataclass(frozen=True, slots=True)
class AddedItems:
    count: int
    total_ore: int
    duplicate_payments: tuple[FingerprintMatch, ...]


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the audit trail. ``scope``: ``transmission``, ``item`` or ``items`` (all
    items of a transmission that were in ``from_state``; ``count`` says how many)."""

    id: int
    at: str
    transmission_id: int
    item_id: int | None
    scope: str
    from_state: str | None
    to_state: str | None
    count: int | None
    reason: str
    actor: str | None = None  # who: the acting identity (None before migration 8)


@dataclass(frozen=True, slots=True)
class ItemHistory:
    item: Item
    transmission: Transmission
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class ErrorEntry:
    """One entry of the error list: a delivery or a record that failed, with its findings."""

    id: int
    at: str
    counterpart: str
    transmission_id: int | None
    file_name: str | None
    subject: str
    business_key: str | None
    state: str
    resolution: str | None
    findings: tuple[Finding, ...]


class JournalError(GatewayError):
    """The journal cannot do what was asked (schema too new, bad state move, ...)."""


class StateError(JournalError):
    """A state change that the kind's lifecycle does not allow, or that lost a race."""


class DuplicateTransmission(JournalError):
    """The same file or delivery is already in the journal; ``first`` is the earlier one."""

    exit_code = 1

    def __init__(self, what: str, first: Transmission) -> None:
        self.first = first
        verb = "sent" if first.direction is Direction.OUT else "received"
        super().__init__(f"duplicate refused: {what} was already {verb} as {first.describe()}")


class DuplicateItem(JournalError):
    """An item's business key is already in the journal; ``first`` is the earlier one."""

    exit_code = 1

    def __init__(
        self,
        business_key: str,
        first: ItemRef | None,
        *,
        same_transmission: tuple[int | None, int | None] | None = None,
    ) -> None:
        self.business_key = business_key
        self.first = first
        if first is not None:
            text = f"item {business_key!r} is already journaled as {first.describe()}"
        elif same_transmission is not None:
            one, two = (str(n) if n is not None else "?" for n in same_transmission)
            text = f"item {business_key!r} appears twice in the transmission (at {one} and {two})"
        else:
            text = f"item {business_key!r} is already journaled"
        super().__init__(f"duplicate refused: {text}")
