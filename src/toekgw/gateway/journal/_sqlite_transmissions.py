"""Transmissions in the journal: their kinds, their states, and the events that record each step.

A transmission is one file (or message) exchanged with a counterpart. Its kind names the
lifecycle it follows; every change to it is an event, and events are only ever added, which
makes them the audit trail (read back by ``events()`` and ``item_history()``). Opening a
transmission is the idempotency guard for whole files: a known SHA-256 (same direction),
transfer id, (counterpart, delivery key) or reference is refused with
:class:`~toekgw.gateway.journal.model.DuplicateTransmission`, naming the first one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from toekgw.gateway.identity import acting_identity
from toekgw.gateway.journal._sqlite_connection import JournalConnection, now
from toekgw.gateway.journal.model import (
    Direction,
    DuplicateTransmission,
    JournalError,
    KindSpec,
    Lifecycle,
    NewTransmission,
    StateError,
    Transmission,
)

__all__ = ["NEW_TX_COLUMNS", "Transmissions", "told", "transmission_row"]

NEW_TX_COLUMNS = (
    "ref",
    "counterpart",
    "kind",
    "direction",
    "state",
    "file_name",
    "size",
    "sha256",
    "transfer_id",
    "delivery_key",
    "remote_path",
    "local_path",
    "meta",
    "created_at",
    "updated_at",
)


def transmission_row(
    new: NewTransmission, ref: str, direction: Direction, stamp: str
) -> tuple[object, ...]:
    """The values of :data:`NEW_TX_COLUMNS` for ``new``."""
    return (
        ref,
        new.counterpart,
        new.kind,
        direction.value,
        new.state,
        new.file_name,
        new.size,
        new.sha256,
        new.transfer_id,
        new.delivery_key,
        new.remote_path,
        new.local_path,
        json.dumps(dict(new.meta), sort_keys=True),
        stamp,
        stamp,
    )


_TX_COLUMNS = (
    "t.id, t.ref, t.counterpart, t.kind, t.direction, t.state, t.file_name, t.size, t.sha256, "
    "t.transfer_id, t.delivery_key, t.remote_path, t.local_path, t.created_at, t.updated_at, "
    # A transmission's items are its own and its members (the payments a bundle carries),
    # counted and summed as they are added (migration 10).
    "t.item_count, t.total_ore, t.meta"
)


class Transmissions(JournalConnection):
    """Kinds, transmissions and their events: the part of
    :class:`~toekgw.gateway.journal.sqlite.SqliteJournal` every other part records against."""

    # -- kinds ----------------------------------------------------------------------------

    def define_kind(self, kind: KindSpec) -> None:
        definition = json.dumps(
            {
                "transmission": kind.transmission.as_dict(),
                "item": kind.item.as_dict() if kind.item else None,
            },
            sort_keys=True,
        )
        with self.transaction():
            self._db.execute(
                "INSERT INTO kinds(name, direction, definition) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET direction = excluded.direction, "
                "definition = excluded.definition",
                (kind.name, kind.direction.value, definition),
            )
        self._kinds[kind.name] = kind

    def kind(self, name: str) -> KindSpec:
        cached = self._kinds.get(name)
        if cached is not None:
            return cached
        row = self._db.execute(
            "SELECT direction, definition FROM kinds WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            raise JournalError(f"unknown transmission kind {name!r}: define_kind() it first")
        data = json.loads(row[1])
        spec = KindSpec(
            name,
            Direction(row[0]),
            Lifecycle.from_dict(data["transmission"]),
            Lifecycle.from_dict(data["item"]) if data["item"] else None,
        )
        self._kinds[name] = spec
        return spec

    # -- transmissions --------------------------------------------------------------------

    def create_transmission(self, new: NewTransmission) -> Transmission:
        kind = self._checked_kind(new)
        ref = new.ref or str(uuid.uuid4())
        stamp = now()
        with self.transaction():
            self._refuse_duplicate(new, kind.direction)
            try:
                with self._dialect.guard(self._db):
                    cur = self._db.execute(
                        f"INSERT INTO transmissions({', '.join(NEW_TX_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(NEW_TX_COLUMNS))})",
                        transmission_row(new, ref, kind.direction, stamp),
                    )
            except self._dialect.integrity_error:
                # Lost a race with another process: name the winner.
                self._refuse_duplicate(new, kind.direction)
                raise
            tid = int(cur.lastrowid or 0)
            self._event(tid, None, "transmission", None, new.state, None, new.reason, stamp)
        return self.get_transmission(tid)

    def _checked_kind(self, new: NewTransmission) -> KindSpec:
        kind = self.kind(new.kind)
        if new.state not in kind.transmission.initial:
            raise StateError(
                f"a {new.kind} transmission cannot start in state {new.state!r} "
                f"(allowed: {', '.join(kind.transmission.initial)})"
            )
        return kind

    def _refuse_duplicate(self, new: NewTransmission, direction: Direction) -> None:
        if new.sha256:
            first = self.find_transmission(sha256=new.sha256, direction=direction)
            if first:
                raise DuplicateTransmission(
                    f"file {new.file_name!r} (SHA-256 {new.sha256[:16]}…)", first
                )
        if new.transfer_id:
            first = self.find_transmission(transfer_id=new.transfer_id)
            if first:
                raise DuplicateTransmission(f"transfer {new.transfer_id}", first)
        if new.delivery_key:
            first = self.find_transmission(
                counterpart=new.counterpart, delivery_key=new.delivery_key
            )
            if first:
                raise DuplicateTransmission(
                    f"delivery {new.delivery_key!r} of {new.counterpart}", first
                )
        if new.ref:
            first = self.find_transmission(ref=new.ref)
            if first:
                raise DuplicateTransmission(f"transmission id {new.ref!r}", first)

    def get_transmission(self, transmission_id: int) -> Transmission:
        row = self._db.execute(
            f"SELECT {_TX_COLUMNS} FROM transmissions t WHERE t.id = ?", (transmission_id,)
        ).fetchone()
        if row is None:
            raise JournalError(f"no transmission #{transmission_id} in the journal")
        return _transmission(row)

    def find_transmission(
        self,
        *,
        ref: str | None = None,
        sha256: str | None = None,
        direction: Direction | None = None,
        transfer_id: str | None = None,
        counterpart: str | None = None,
        delivery_key: str | None = None,
    ) -> Transmission | None:
        where: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("ref", ref),
            ("sha256", sha256),
            ("direction", direction.value if direction else None),
            ("transfer_id", transfer_id),
            ("counterpart", counterpart),
            ("delivery_key", delivery_key),
        ):
            if value is not None:
                where.append(f"t.{column} = ?")
                args.append(value)
        if not where:
            raise ValueError("find_transmission needs at least one criterion")
        row = self._db.execute(
            f"SELECT {_TX_COLUMNS} FROM transmissions t WHERE {' AND '.join(where)} "
            "ORDER BY t.id LIMIT 1",
            args,
        ).fetchone()
        return _transmission(row) if row else None

    def transmissions(
        self,
        *,
        counterpart: str | None = None,
        kind: str | None = None,
        states: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[Transmission]:
        where = ["1 = 1"]
        args: list[Any] = []
        if counterpart is not None:
            where.append("t.counterpart = ?")
            args.append(counterpart)
        if kind is not None:
            where.append("t.kind = ?")
            args.append(kind)
        if states is not None:
            where.append(f"t.state IN ({', '.join('?' * len(states))})")
            args.extend(states)
        sql = f"SELECT {_TX_COLUMNS} FROM transmissions t WHERE {' AND '.join(where)} "
        sql += "ORDER BY t.id DESC" if limit else "ORDER BY t.id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = self._db.execute(sql, args).fetchall()
        result = [_transmission(r) for r in rows]
        return sorted(result, key=lambda t: t.id)

    def set_state(
        self, transmission_id: int, to_state: str, *, reason: str, expect: str | None = None
    ) -> Transmission:
        with self.transaction():
            current = self.get_transmission(transmission_id)
            if expect is not None and current.state != expect:
                raise StateError(
                    f"{current.describe()} is in state {current.state!r}, not {expect!r}"
                )
            lifecycle = self.kind(current.kind).transmission
            if not lifecycle.allows(current.state, to_state):
                raise StateError(
                    f"{current.describe()}: a {current.kind} cannot move from "
                    f"{current.state!r} to {to_state!r}"
                )
            stamp = now()
            self._db.execute(
                "UPDATE transmissions SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
                (to_state, stamp, transmission_id, current.state),
            )
            self._event(
                transmission_id, None, "transmission", current.state, to_state, None, reason, stamp
            )
        return self.get_transmission(transmission_id)

    def update_transmission(
        self,
        transmission_id: int,
        *,
        reason: str,
        transfer_id: str | None = None,
        local_path: str | None = None,
        delivery_key: str | None = None,
        meta: dict[str, object] | None = None,
    ) -> Transmission:
        with self.transaction():
            current = self.get_transmission(transmission_id)
            if transfer_id is not None:
                first = self.find_transmission(transfer_id=transfer_id)
                if first and first.id != transmission_id:
                    raise DuplicateTransmission(f"transfer {transfer_id}", first)
            if delivery_key is not None:
                first = self.find_transmission(
                    counterpart=current.counterpart, delivery_key=delivery_key
                )
                if first and first.id != transmission_id:
                    raise DuplicateTransmission(
                        f"delivery {delivery_key!r} of {current.counterpart}", first
                    )
            merged = dict(current.meta)
            merged.update(meta or {})
            stamp = now()
            self._db.execute(
                "UPDATE transmissions SET transfer_id = coalesce(?, transfer_id), "
                "local_path = coalesce(?, local_path), "
                "delivery_key = coalesce(?, delivery_key), meta = ?, updated_at = ? "
                "WHERE id = ?",
                (
                    transfer_id,
                    local_path,
                    delivery_key,
                    json.dumps(merged, sort_keys=True),
                    stamp,
                    transmission_id,
                ),
            )
            self._event(transmission_id, None, "transmission", None, None, None, reason, stamp)
        return self.get_transmission(transmission_id)

    def note(self, transmission_id: int, reason: str, *, at: str | None = None) -> None:
        with self.transaction():
            self._event(transmission_id, None, "transmission", None, None, None, reason, at)

    def _event(
        self,
        transmission_id: int,
        item_id: int | None,
        scope: str,
        from_state: str | None,
        to_state: str | None,
        count: int | None,
        reason: str,
        at: str | None,
    ) -> int:
        if scope != "item":
            self._told.append((transmission_id, told(scope, from_state, to_state, count, reason)))
        cur = self._db.execute(
            "INSERT INTO events(at, transmission_id, item_id, scope, from_state, to_state, "
            "count, reason, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                at or now(),
                transmission_id,
                item_id,
                scope,
                from_state,
                to_state,
                count,
                reason,
                acting_identity(),
            ),
        )
        return int(cur.lastrowid or 0)


def told(
    scope: str, from_state: str | None, to_state: str | None, count: int | None, reason: str
) -> str:
    """A transmission event as a log line: ``received -> sent: put on ...``."""
    what = f"{count} items " if scope == "items" and count is not None else ""
    if to_state is None:
        return f"{what}{reason}"
    return f"{what}{from_state or 'new'} -> {to_state}: {reason}"


def _transmission(row: Sequence[Any]) -> Transmission:
    return Transmission(
        id=row[0],
        ref=row[1],
        counterpart=row[2],
        kind=row[3],
        direction=Direction(row[4]),
        state=row[5],
        file_name=row[6],
        size=row[7],
        sha256=row[8],
        transfer_id=row[9],
        delivery_key=row[10],
        remote_path=row[11],
        local_path=row[12],
        created_at=row[13],
        updated_at=row[14],
        item_count=row[15],
        total_ore=row[16],
        meta=json.loads(row[17]),
    )
