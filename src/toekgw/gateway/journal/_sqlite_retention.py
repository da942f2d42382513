"""The journal's side of retention: finding what is past its period, and replacing it.

The policy (which kinds, which periods, which fields) is :mod:`toekgw.gateway.retention`;
here are the statements. Every change is a journal event (and so in the hash chain), and
none touches what the chain hashes: the items' payload columns and ``pseudonymised_at``,
a transmission's ``local_path``, ``meta`` and ``meta_pseudonymised_at``, the subjects of the
read log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager

from toekgw.gateway.journal._item_rows import lookup_key
from toekgw.gateway.journal._sqlite_connection import now
from toekgw.gateway.journal._sqlite_transmissions import Transmissions

__all__ = ["ExpiredItem", "ExpiredMeta", "Retained"]

#: id, transmission id, data, lookup, fingerprint
ExpiredItem = tuple[int, int, str | None, str | None, str | None]

#: transmission id, meta (JSON)
ExpiredMeta = tuple[int, str]


class Retained(Transmissions):
    """Retention: the part of :class:`~toekgw.gateway.journal.sqlite.SqliteJournal`."""

    def expired_items(
        self, kind: str, before: str, states: Collection[str], *, after: int, limit: int
    ) -> list[ExpiredItem]:
        """Items of ``kind`` in one of ``states``, last changed before ``before``, still in
        clear, with an id above ``after``: one page, in id order."""
        if not states:
            return []
        marks = ", ".join("?" * len(states))
        rows = self._db.execute(
            "SELECT i.id, i.transmission_id, i.data, i.lookup, i.fingerprint FROM items i "
            "JOIN transmissions t ON t.id = i.transmission_id "
            f"WHERE t.kind = ? AND i.state IN ({marks}) AND i.updated_at < ? "
            "AND i.pseudonymised_at IS NULL AND i.id > ? ORDER BY i.id LIMIT ?",
            (kind, *states, before, after, limit),
        ).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def pseudonymise_items(
        self,
        changed: Sequence[tuple[int, int, str | None, str | None, str | None]],
        note: Callable[[int], str],
        *,
        before: str,
        states: Collection[str],
    ) -> int:
        """Write ``(id, transmission id, data, lookup, fingerprint)`` and mark each item
        pseudonymised, one event per transmission (``note(count)`` says why); how many. One
        transaction. An item changed since it was read (a flow moved it on: it was last changed
        before ``before`` no longer, or is in none of the settled ``states``) is left as it is
        now: what was read of it is stale, and it may be needed in clear again."""
        stamp = now()
        marks = ", ".join("?" * len(states))
        counts: dict[int, int] = {}
        with self.transaction():
            for item_id, transmission_id, data, lookup, fp in changed:
                written = self._db.execute(
                    "UPDATE items SET data = ?, lookup = ?, lookup_key = ?, fingerprint = ?, "
                    "pseudonymised_at = ? WHERE id = ? AND pseudonymised_at IS NULL "
                    f"AND updated_at < ? AND state IN ({marks})",
                    (data, lookup, lookup_key(lookup), fp, stamp, item_id, before, *states),
                ).rowcount
                if written:
                    counts[transmission_id] = counts.get(transmission_id, 0) + 1
            for transmission_id, count in counts.items():
                self.note(transmission_id, note(count), at=stamp)
        return sum(counts.values())

    def expired_meta(
        self, kind: str, before: str, states: Collection[str], *, after: int, limit: int
    ) -> list[ExpiredMeta]:
        """Transmissions of ``kind`` in one of ``states``, last changed before ``before``,
        whose meta retention has not been through yet, with an id above ``after``: one page
        of ``(id, meta)``, in id order."""
        if not states:
            return []
        marks = ", ".join("?" * len(states))
        rows = self._db.execute(
            f"SELECT id, meta FROM transmissions WHERE kind = ? AND state IN ({marks}) "
            "AND updated_at < ? AND meta_pseudonymised_at IS NULL AND id > ? "
            "ORDER BY id LIMIT ?",
            (kind, *states, before, after, limit),
        ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def pseudonymise_meta(
        self,
        changed: Sequence[tuple[int, str | None]],
        note: str,
        *,
        before: str,
        states: Collection[str],
    ) -> int:
        """Write ``(id, meta)`` and mark each transmission's meta as gone through (``meta``
        None: nothing in it to replace, only marked), one event for each whose meta changed
        (``note`` says why); how many changed. One transaction. A transmission changed since
        it was read (last changed before ``before`` no longer, or in none of the final
        ``states``) is left as it is now: what was read of it is stale."""
        stamp = now()
        marks = ", ".join("?" * len(states))
        done = 0
        with self.transaction():
            for transmission_id, meta in changed:
                written = self._db.execute(
                    "UPDATE transmissions SET meta = coalesce(?, meta), "
                    "meta_pseudonymised_at = ? WHERE id = ? AND meta_pseudonymised_at IS NULL "
                    f"AND updated_at < ? AND state IN ({marks})",
                    (meta, stamp, transmission_id, before, *states),
                ).rowcount
                if written and meta is not None:
                    self.note(transmission_id, note, at=stamp)
                    done += 1
        return done

    def expired_staging_copies(
        self, kind: str, before: str, states: Collection[str]
    ) -> list[tuple[int, str]]:
        """``(transmission id, local path)`` of the transmissions of ``kind`` in one of
        ``states``, last changed before ``before``, that still have a staging copy."""
        if not states:
            return []
        marks = ", ".join("?" * len(states))
        rows = self._db.execute(
            f"SELECT id, local_path FROM transmissions WHERE kind = ? AND state IN ({marks}) "
            "AND updated_at < ? AND local_path IS NOT NULL ORDER BY id",
            (kind, *states, before),
        ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def forget_staging_copy(self, transmission_id: int, reason: str) -> None:
        """The transmission has no staging copy any more (it was deleted): an event says why."""
        with self.transaction():
            self._db.execute(
                "UPDATE transmissions SET local_path = NULL WHERE id = ?", (transmission_id,)
            )
            self.note(transmission_id, reason)

    def pseudonymise_reads(self, before: str, pseudonym: Callable[[str], str]) -> int:
        """Replace the CPR numbers that reads before ``before`` name by their pseudonyms; how
        many. One transaction, read and written a page of subjects at a time."""
        done = 0
        after: tuple[int, str] = (0, "")
        with self.transaction():
            while True:
                rows = self._db.execute(
                    "SELECT s.read_id, s.subject FROM read_subjects s "
                    "JOIN reads r ON r.id = s.read_id "
                    "WHERE r.at < ? AND s.subject NOT LIKE 'ps:%' "
                    "AND (s.read_id > ? OR (s.read_id = ? AND s.subject > ?)) "
                    "ORDER BY s.read_id, s.subject LIMIT ?",
                    (before, after[0], after[0], after[1], _SUBJECTS_PAGE),
                ).fetchall()
                self._db.executemany(
                    "UPDATE read_subjects SET subject = ? WHERE read_id = ? AND subject = ?",
                    [(pseudonym(subject), read_id, subject) for read_id, subject in rows],
                )
                done += len(rows)
                if len(rows) < _SUBJECTS_PAGE:
                    return done
                after = (int(rows[-1][0]), str(rows[-1][1]))

    @contextmanager
    def scrubbing(self) -> Iterator[None]:
        """Overwrite what is deleted or replaced with zeros (SQLite's ``secure_delete``)
        while the block runs, so that replaced personal data is gone from the file's pages,
        not only from the tables; then :meth:`truncate_log`."""
        self._db.execute("PRAGMA secure_delete = ON")
        try:
            yield
        finally:
            self._db.execute("PRAGMA secure_delete = OFF")

    def truncate_log(self) -> bool:
        """Copy the write-ahead log into the file and empty it (its older frames still hold
        what was replaced). False when a reader held it: the next run tries again."""
        try:
            busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error:
            return False
        return not busy


_SUBJECTS_PAGE = 1_000  # read subjects pseudonymised at a time
