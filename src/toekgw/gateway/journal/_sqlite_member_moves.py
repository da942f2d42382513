"""Answers about a transmission's members, applied set-wise: the moves named by member key.

An answer (NemKonto's Retursvar, say) names the members it is about by the key the outbound
transmission knows them by, each with a target state (as objects or as columns: three lists).
:meth:`MemberMoving.apply_member_moves` finds the members the transmission carries now in an
eligible state: all of them in one read through their memberships where the keys are at least
half of them (an answer about a whole bundle), else the keys looked up 500 a query
(``_LOOKUP_CHUNK``) through the memberships' unique key; it sorts the moves by target here: no
scratch table on either back end. Each target is then one insert of events and one update per
chunk, or, where its moves take every member the transmission carries in their one source
state for one reason, one update and one event on the transmission
(:mod:`~toekgw.gateway.journal._carried`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from toekgw.gateway.identity import acting_identity
from toekgw.gateway.journal._item_rows import ITEM_COLUMNS, item_from_row
from toekgw.gateway.journal._sqlite_connection import _LOOKUP_CHUNK, chunks, now
from toekgw.gateway.journal._sqlite_members import _MOVE_EVENTS, Members, _marks
from toekgw.gateway.journal.model import (
    Item,
    JournalError,
    MemberMove,
    MemberMoveColumns,
    MemberMoves,
)

__all__ = ["MemberMoving"]


class _Matched(NamedTuple):
    """A move matched with the member it names."""

    n: int  # its place among the moves asked
    item_id: int
    from_state: str
    item_transmission: int  # the item's own transmission
    reason: str


@dataclass
class _Plan:
    """The moves asked of :meth:`MemberMoving.apply_member_moves`, matched with the members."""

    asked: dict[str, int] = field(default_factory=dict)  # target -> moves, in the order named
    matched: dict[str, list[_Matched]] = field(default_factory=dict)  # target -> its moves
    unknown: list[str] = field(default_factory=list)  # keys naming no eligible member
    kinds: dict[int, str] = field(default_factory=dict)  # item transmission -> its kind


class MemberMoving(Members):
    """Moves of members named by their keys: the answers' part of
    :class:`~toekgw.gateway.journal.sqlite.SqliteJournal`."""

    def apply_member_moves(
        self,
        transmission_id: int,
        moves: Iterable[MemberMove] | MemberMoveColumns,
        *,
        eligible: Collection[str],
        sources: Mapping[str, Collection[str]],
        report: Collection[str] = (),
    ) -> MemberMoves:
        """Move members by their member keys, set-wise: the named members are found (all
        the eligible ones read at once where the keys are at least half of them, else looked
        up ``_LOOKUP_CHUNK`` keys a query) and sorted by target state here, and each target
        state is one insert of events and one update per chunk - or, where the moves to it
        take every member the transmission carries in their one source state, for the same
        reason, one update and one event (:mod:`~toekgw.gateway.journal._carried`). The
        targets are taken smallest first, so that the few payments an answer names otherwise
        have left the state the rest move from."""
        stamp = now()
        with self.transaction():
            plan = self._plan_member_moves(transmission_id, moves, list(eligible))
            setwise = self._moves_setwise(transmission_id)
            moved: dict[str, int] = {}
            unchanged = 0
            for target in sorted(plan.asked, key=lambda t: (plan.asked[t], t)):
                if target not in sources:
                    raise JournalError(f"no source states given for moves to {target!r}")
                allowed = sources[target]
                matched = plan.matched.get(target, [])
                chosen = [m for m in matched if m.from_state in allowed]
                unchanged += len(matched) - len(chosen)
                plan.matched[target] = chosen  # what _reported reads
                self._check_kinds(
                    {(plan.kinds[m.item_transmission], m.from_state, target) for m in chosen}
                )
                count = self._move_chosen(transmission_id, target, chosen, setwise, stamp)
                if count:
                    moved[target] = count
            moved = {t: moved[t] for t in plan.asked if t in moved}  # in the order asked
            reported = self._reported(plan, [t for t in report if t in moved])
            return MemberMoves(moved, unchanged, tuple(plan.unknown), reported)

    def _plan_member_moves(
        self,
        transmission_id: int,
        moves: Iterable[MemberMove] | MemberMoveColumns,
        eligible: list[str],
    ) -> _Plan:
        """The first move of each key, matched with the member it names: its item, its state
        and its item's own transmission (with that transmission's kind). Held in memory: an
        answer's moves, at most a bundle's payments, as columns."""
        plan = _Plan()
        keys, targets, reasons = _first_moves(MemberMoveColumns.of(moves))
        plan.asked = dict(Counter(targets))  # in the order first named
        found = self._members_named(transmission_id, keys, eligible)
        matched = plan.matched
        new = tuple.__new__  # a _Matched from its fields, as its own _make does
        for n, (key, target, reason) in enumerate(zip(keys, targets, reasons, strict=True)):
            hit = found.get(key)
            if hit is None:
                plan.unknown.append(key)
            elif target in matched:
                matched[target].append(new(_Matched, (n, *hit, reason)))
            else:
                matched[target] = [new(_Matched, (n, *hit, reason))]
        tids = sorted({m.item_transmission for ms in matched.values() for m in ms})
        for some in chunks(tids):
            plan.kinds.update(
                self._db.execute(
                    f"SELECT id, kind FROM transmissions WHERE id IN ({_marks(some)})", some
                ).fetchall()
            )
        return plan

    def _members_named(
        self, transmission_id: int, keys: Sequence[str], eligible: list[str]
    ) -> dict[str, tuple[int, str, int]]:
        """member key -> (item, state, the item's transmission) for the members the
        transmission carries now in an ``eligible`` state, at least those ``keys`` name: where
        the keys are at least half of them (an answer about a whole bundle), all of them in
        one read; else the keys looked up, ``_LOOKUP_CHUNK`` a query."""
        if not keys or not eligible:
            return {}
        if len(keys) > _LOOKUP_CHUNK:
            carried = self._db.execute(
                "SELECT count(*) FROM items WHERE carrier_id = ? "
                f"AND state IN ({_marks(eligible)})",
                (transmission_id, *eligible),
            ).fetchone()[0]
            if 2 * len(keys) >= carried:
                return self._current_members(transmission_id, None, eligible)
        found: dict[str, tuple[int, str, int]] = {}
        for chunk in chunks(keys):
            found.update(self._current_members(transmission_id, chunk, eligible))
        return found

    def _current_members(
        self, transmission_id: int, keys: Sequence[str] | None, eligible: list[str]
    ) -> dict[str, tuple[int, str, int]]:
        """member key -> (item, state, the item's transmission) for each of ``keys`` (all if
        ``None``) that names an item the transmission carries now in an ``eligible`` state."""
        named = "" if keys is None else f"AND m.member_key IN ({_marks(keys)}) "
        # The memberships first, in their key's order, and each item by its id: the unary
        # ``+`` keeps the planner off ``items_carrier``, which would go through the items
        # first and look each one's membership up (twice the time for a bundle's 10,000).
        rows = self._db.execute(
            "SELECT m.member_key, i.id, i.state, i.transmission_id FROM transmission_members m "
            f"JOIN items i ON i.id = m.item_id WHERE m.transmission_id = ? {named}"
            f"AND +i.carrier_id = m.transmission_id AND i.state IN ({_marks(eligible)})",
            (transmission_id, *(keys or ()), *eligible),
        ).fetchall()
        return {key: (item, state, tid) for key, item, state, tid in rows}

    def _move_chosen(
        self,
        transmission_id: int,
        target: str,
        chosen: list[_Matched],
        setwise: bool,
        stamp: str,
    ) -> int:
        """Move the ``chosen`` members to ``target``: how many moved."""
        if not chosen:
            return 0
        db = self._db
        groups = {(m.from_state, m.reason) for m in chosen}
        if setwise and len(groups) == 1:
            ((source, reason),) = groups
            carried = db.execute(
                "SELECT count(*) FROM items WHERE carrier_id = ? AND state = ?",
                (transmission_id, source),
            ).fetchone()[0]
            if carried == len(chosen):  # the moves are of members it carries in that state
                return self._move_carried(transmission_id, source, target, stamp, reason)
        actor = acting_identity()
        db.executemany(
            _MOVE_EVENTS + "VALUES (?, ?, ?, 'item', ?, ?, NULL, ?, ?)",
            [
                (stamp, m.item_transmission, m.item_id, m.from_state, target, m.reason, actor)
                for m in chosen
            ],
        )
        count = 0
        for chunk in chunks([m.item_id for m in chosen]):
            count += int(
                db.execute(
                    f"UPDATE items SET state = ?, updated_at = ? WHERE id IN ({_marks(chunk)})",
                    (target, stamp, *chunk),
                ).rowcount
            )
        return count

    def _reported(self, plan: _Plan, targets: list[str]) -> tuple[tuple[Item, str], ...]:
        """The members moved to ``targets``, each with its move's reason, in the order asked."""
        wanted = sorted((m.n, m.item_id, m.reason) for t in targets for m in plan.matched[t])
        reported: list[tuple[Item, str]] = []
        for chunk in chunks(wanted):
            items = {
                item.id: item
                for item in map(
                    item_from_row,
                    self._db.execute(
                        f"SELECT {ITEM_COLUMNS} FROM items i "
                        "JOIN events e ON e.id = i.created_event "
                        f"WHERE i.id IN ({_marks(chunk)})",
                        [item_id for _n, item_id, _reason in chunk],
                    ).fetchall(),
                )
            }
            reported.extend((items[item_id], reason) for _n, item_id, reason in chunk)
        return tuple(reported)


def _first_moves(
    moves: MemberMoveColumns,
) -> tuple[Sequence[str], Sequence[str], Sequence[str]]:
    """The columns of the first move of each key: a member named twice moves as it would
    applied in order."""
    keys, targets, reasons = moves.member_keys, moves.to_states, moves.reasons
    if len(set(keys)) == len(keys):
        return keys, targets, reasons
    first: dict[str, int] = {}
    for n, key in enumerate(keys):
        first.setdefault(key, n)
    at = list(first.values())
    return [keys[n] for n in at], [targets[n] for n in at], [reasons[n] for n in at]
