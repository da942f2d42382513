"""The books (:class:`~toekgw.gateway.journal.books.Books`) on the journal's SQLite file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo

from toekgw.gateway.journal._sqlite_connection import JournalConnection, now
from toekgw.gateway.journal.books import (
    BatchRow,
    BookingEvent,
    ClassRow,
    ClassVersion,
    EventSource,
    PostingRow,
    VoucherRow,
)
from toekgw.gateway.journal.model import JournalError

__all__ = ["SqliteBooks"]

_FETCH = 10_000
_VOUCHER = "v.id, v.voucher_id, v.grp, v.day, v.kind, v.state, v.batch_id, v.replaces, v.reason"
_POSTING = (
    "p.seq, p.side, p.amount_ore, p.account, p.class_id, p.text, p.bundle_ref, p.member_key, "
    "p.business_key, p.event_row"
)
_LATEST_MEMBER = (
    "(SELECT {col} FROM transmission_members m JOIN transmissions b ON b.id = m.transmission_id "
    "WHERE m.item_id = i.id ORDER BY m.transmission_id DESC LIMIT 1)"
)


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _voucher(row: tuple[object, ...]) -> VoucherRow:
    vid, voucher_id, grp, day, kind, state, batch, replaces, reason = row
    return VoucherRow(
        int(str(vid)),
        str(voucher_id),
        str(grp),
        dt.date.fromisoformat(str(day)),
        str(kind),
        str(state),
        None if batch is None else str(batch),
        None if replaces is None else int(str(replaces)),
        None if reason is None else str(reason),
    )


def _posting(row: tuple[object, ...]) -> PostingRow:
    return PostingRow(*row)  # type: ignore[arg-type]


def _placeholders(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


class SqliteBooks(JournalConnection):
    """The books part of :class:`~toekgw.gateway.journal.sqlite.SqliteJournal`."""

    # -- the classification replica -------------------------------------------------------

    def class_version(self, scheme: str, version: int | None = None) -> ClassVersion | None:
        sql = (
            "SELECT v.id, v.scheme, v.version, v.delivery, v.name, v.valid_from, v.received_at, "
            "(SELECT count(*) FROM class_members c "
            "WHERE c.version_id = v.id AND c.removed_in IS NULL) "
            "FROM class_versions v WHERE v.scheme = ?"
        )
        args: tuple[object, ...] = (scheme,)
        if version is not None:
            sql += " AND v.version = ?"
            args += (version,)
        row = self._db.execute(sql + " ORDER BY v.version DESC LIMIT 1", args).fetchone()
        return None if row is None else self._class_version(row)

    @staticmethod
    def _class_version(row: tuple[object, ...]) -> ClassVersion:
        vid, scheme, version, delivery, name, valid_from, received, count = row
        return ClassVersion(
            int(str(vid)),
            str(scheme),
            int(str(version)),
            str(delivery),
            str(name),
            dt.date.fromisoformat(str(valid_from)),
            str(received),
            int(str(count)),
        )

    def class_versions(self, scheme: str | None = None) -> list[ClassVersion]:
        sql = (
            "SELECT v.id, v.scheme, v.version, v.delivery, v.name, v.valid_from, v.received_at, "
            "(SELECT count(*) FROM class_members c "
            "WHERE c.version_id = v.id AND c.removed_in IS NULL) "
            "FROM class_versions v"
        )
        args: tuple[object, ...] = ()
        if scheme is not None:
            sql += " WHERE v.scheme = ?"
            args = (scheme,)
        rows = self._db.execute(sql + " ORDER BY v.scheme, v.version", args).fetchall()
        return [self._class_version(r) for r in rows]

    def classes(self, version_id: int) -> list[ClassRow]:
        rows = self._db.execute(
            "SELECT class_id, code, title, valid_from, valid_to, removed_in FROM class_members "
            "WHERE version_id = ? ORDER BY code, valid_from, class_id",
            (version_id,),
        ).fetchall()
        return [
            ClassRow(r[0], r[1], r[2], dt.date.fromisoformat(r[3]), _day(r[4]), r[5]) for r in rows
        ]

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
    ) -> int:
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO class_versions(scheme, version, delivery, name, valid_from, "
                "received_at, transmission_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (scheme, version, delivery, name, valid_from.isoformat(), now(), transmission_id),
            )
            vid = int(cur.lastrowid or 0)
            self._db.executemany(
                "INSERT INTO class_members(version_id, class_id, code, title, valid_from, "
                "valid_to, removed_in) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        vid,
                        c.class_id,
                        c.code,
                        c.title,
                        c.valid_from.isoformat(),
                        c.valid_to.isoformat() if c.valid_to else None,
                        c.removed_in,
                    )
                    for c in classes
                ),
            )
        return vid

    # -- booking events -------------------------------------------------------------------

    def collect_events(self, source: EventSource, *, zone: str) -> int:
        tz = ZoneInfo(zone)
        stamp = "e.at" if source.dated_by == "created" else "i.updated_at"
        cursor = self._db.execute(
            f"SELECT i.id, {self._dialect.json_text('i.data', '?')}, {stamp}, i.amount_ore, "
            f"i.business_key, {self._dialect.json_text('i.data', '?')}, "
            f"{_LATEST_MEMBER.format(col='b.ref')}, {_LATEST_MEMBER.format(col='m.member_key')} "
            "FROM items i JOIN transmissions t ON t.id = i.transmission_id "
            "JOIN events e ON e.id = i.created_event "
            f"WHERE t.kind IN ({_placeholders(source.kinds)}) "
            f"AND i.state IN ({_placeholders(source.states)}) "
            "AND i.amount_ore > 0 AND NOT EXISTS (SELECT 1 FROM booking_events x "
            "WHERE x.item_id = i.id AND x.event = ?) "
            "AND (CAST(? AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM booking_events r "
            "WHERE r.item_id = i.id AND r.event = ?)) ORDER BY i.id",
            (
                source.group,
                source.category,
                *source.kinds,
                *source.states,
                source.event,
                source.requires,
                source.requires,
            ),
        )
        rows = []
        while batch := cursor.fetchmany(_FETCH):
            for item_id, group, at, amount, key, category, bundle, member in batch:
                day = dt.datetime.fromisoformat(at).astimezone(tz).date().isoformat()
                rows.append(
                    (
                        item_id,
                        source.event,
                        str(group or ""),
                        day,
                        amount,
                        key,
                        None if category is None else str(category),
                        bundle,
                        member,
                    )
                )
        with self.transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO booking_events(item_id, event, grp, day, amount_ore, "
                "business_key, category, bundle_ref, member_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def open_events(self, limit: int) -> list[BookingEvent]:
        return self._events("voucher_row IS NULL ORDER BY grp, day, event, id LIMIT ?", limit)

    def voucher_events(self, voucher_row: int) -> list[BookingEvent]:
        return self._events("voucher_row = ? ORDER BY id", voucher_row)

    def _events(self, where: str, arg: int) -> list[BookingEvent]:
        rows = self._db.execute(
            "SELECT id, item_id, event, grp, day, amount_ore, business_key, category, "
            f"bundle_ref, member_key FROM booking_events WHERE {where}",
            (arg,),
        ).fetchall()
        return [
            BookingEvent(
                r[0], r[1], r[2], r[3], dt.date.fromisoformat(r[4]), r[5], r[6], r[7], r[8], r[9]
            )
            for r in rows
        ]

    # -- vouchers and batches -------------------------------------------------------------

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
        at = now()
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO vouchers(voucher_id, grp, day, kind, state, replaces, reason, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (voucher_id, group, day.isoformat(), kind, state, replaces, reason, at, at),
            )
            row = int(cur.lastrowid or 0)
            self._db.executemany(
                "INSERT INTO voucher_postings(voucher_row, seq, side, amount_ore, account, "
                "class_id, text, bundle_ref, member_key, business_key, event_row) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        row,
                        p.seq,
                        p.side,
                        p.amount_ore,
                        p.account,
                        p.class_id,
                        p.text,
                        p.bundle_ref,
                        p.member_key,
                        p.business_key,
                        p.event_row,
                    )
                    for p in postings
                ],
            )
            events = sorted({p.event_row for p in postings if p.event_row is not None})
            claimed = 0
            for event in events:
                claimed += self._db.execute(
                    "UPDATE booking_events SET voucher_row = ? WHERE id = ? "
                    "AND (voucher_row IS NULL OR voucher_row IS ?)",
                    (row, event, replaces),
                ).rowcount
            if claimed != len(events):
                # Another process put one of these events on a voucher first: nothing of this
                # one is kept, so an event is never on two vouchers.
                raise JournalError(
                    f"voucher {voucher_id}: {len(events) - claimed} of its events are already "
                    "on another voucher"
                )
        return row

    def voucher(self, voucher_id: str) -> VoucherRow | None:
        row = self._db.execute(
            f"SELECT {_VOUCHER} FROM vouchers v WHERE v.voucher_id = ?", (voucher_id,)
        ).fetchone()
        return None if row is None else _voucher(row)

    def vouchers(
        self, *, states: Sequence[str] | None = None, batch_id: str | None = None
    ) -> list[VoucherRow]:
        sql = f"SELECT {_VOUCHER} FROM vouchers v WHERE 1 = 1"
        args: list[object] = []
        if states is not None:
            sql += f" AND v.state IN ({_placeholders(states)})"
            args.extend(states)
        if batch_id is not None:
            sql += " AND v.batch_id = ?"
            args.append(batch_id)
        return [_voucher(r) for r in self._db.execute(sql + " ORDER BY v.id", args)]

    def vouchers_by_group(
        self, state: str, *, after: tuple[str, int] | None = None, limit: int
    ) -> list[VoucherRow]:
        # The index vouchers_state (state, grp, id) gives the order and the start.
        grp, last = after if after is not None else ("", 0)
        rows = self._db.execute(
            f"SELECT {_VOUCHER} FROM vouchers v WHERE v.state = ? "
            "AND (v.grp > ? OR (v.grp = ? AND v.id > ?)) ORDER BY v.grp, v.id LIMIT ?",
            (state, grp, grp, last, limit),
        )
        return [_voucher(r) for r in rows]

    def postings(self, voucher_row: int) -> list[PostingRow]:
        rows = self._db.execute(
            f"SELECT {_POSTING} FROM voucher_postings p WHERE p.voucher_row = ? ORDER BY p.seq",
            (voucher_row,),
        ).fetchall()
        return [_posting(r) for r in rows]

    def set_voucher_state(
        self, voucher_row: int, to_state: str, *, reason: str | None, expect: Sequence[str]
    ) -> bool:
        with self.transaction():
            cur = self._db.execute(
                "UPDATE vouchers SET state = ?, reason = coalesce(?, reason), updated_at = ? "
                f"WHERE id = ? AND state IN ({_placeholders(expect)})",
                (to_state, reason, now(), voucher_row, *expect),
            )
        return cur.rowcount == 1

    def add_batch(
        self, batch_id: str, group: str, file_name: str, voucher_rows: Sequence[int]
    ) -> None:
        at = now()
        with self.transaction():
            self._db.execute(
                "INSERT INTO voucher_batches(batch_id, grp, state, file_name, created_at, "
                "updated_at) VALUES (?, ?, 'claimed', ?, ?, ?)",
                (batch_id, group, file_name, at, at),
            )
            self._db.executemany(
                "UPDATE vouchers SET state = 'batched', batch_id = ?, updated_at = ? "
                "WHERE id = ? AND state = 'built'",
                [(batch_id, at, v) for v in voucher_rows],
            )

    def batches(self, *, states: Sequence[str] | None = None) -> list[BatchRow]:
        sql = (
            "SELECT batch_id, grp, state, file_name, created_at, transmission_id "
            "FROM voucher_batches"
        )
        args: tuple[object, ...] = ()
        if states is not None:
            sql += f" WHERE state IN ({_placeholders(states)})"
            args = tuple(states)
        return [BatchRow(*r) for r in self._db.execute(sql + " ORDER BY created_at", args)]

    def set_batch_state(
        self, batch_id: str, to_state: str, *, transmission_id: int | None = None
    ) -> None:
        with self.transaction():
            self._db.execute(
                "UPDATE voucher_batches SET state = ?, updated_at = ?, "
                "transmission_id = coalesce(?, transmission_id) WHERE batch_id = ?",
                (to_state, now(), transmission_id, batch_id),
            )

    def mark_applied(self, transmission_id: int) -> bool:
        with self.transaction():
            cur = self._db.execute(
                "INSERT OR IGNORE INTO applied_files(transmission_id, at) VALUES (?, ?)",
                (transmission_id, now()),
            )
        return cur.rowcount == 1

    # -- reading the books ----------------------------------------------------------------

    def account_lines(
        self, account: str, *, states: Sequence[str], until: dt.date | None = None
    ) -> Iterator[tuple[str | None, int]]:
        sql = (
            "SELECT p.business_key, CASE p.side WHEN 'D' THEN p.amount_ore "
            "ELSE -p.amount_ore END FROM voucher_postings p JOIN vouchers v "
            f"ON v.id = p.voucher_row WHERE p.account = ? AND v.state IN ({_placeholders(states)})"
        )
        args: list[object] = [account, *states]
        if until is not None:
            sql += " AND v.day <= ?"
            args.append(until.isoformat())
        cursor = self._db.execute(sql, args)
        while batch := cursor.fetchmany(_FETCH):
            yield from batch

    def account_balances(
        self, accounts: Sequence[str], *, states: Sequence[str], until: dt.date | None = None
    ) -> Iterator[tuple[str, int]]:
        sql = (
            "SELECT coalesce(p.business_key, ''), sum(CASE p.side WHEN 'D' THEN p.amount_ore "
            "ELSE -p.amount_ore END) FROM voucher_postings p JOIN vouchers v "
            f"ON v.id = p.voucher_row WHERE p.account IN ({_placeholders(accounts)}) "
            f"AND v.state IN ({_placeholders(states)})"
        )
        args: list[object] = [*accounts, *states]
        if until is not None:
            sql += " AND v.day <= ?"
            args.append(until.isoformat())
        cursor = self._db.execute(sql + " GROUP BY 1 ORDER BY 1", args)
        while batch := cursor.fetchmany(_FETCH):
            yield from batch

    def month_postings(
        self, first: dt.date, last: dt.date, *, states: Sequence[str]
    ) -> Iterator[tuple[VoucherRow, PostingRow]]:
        cursor = self._db.execute(
            f"SELECT {_VOUCHER}, {_POSTING} FROM vouchers v JOIN voucher_postings p "
            f"ON p.voucher_row = v.id WHERE v.day BETWEEN ? AND ? "
            f"AND v.state IN ({_placeholders(states)}) ORDER BY v.day, v.id, p.seq",
            (first.isoformat(), last.isoformat(), *states),
        )
        while batch := cursor.fetchmany(_FETCH):
            for r in batch:
                yield _voucher(r[:9]), _posting(r[9:])
