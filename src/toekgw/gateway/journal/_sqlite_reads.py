"""The read log: who looked up which citizen's data, when, and with which command.

Data protection asks that reads of personal data can be accounted for, not only changes:
every command that shows a citizen's data (an item's history, a payment search or view, the
error list) records one row before it prints: the acting identity, the command, what it asked
for (CPR numbers masked) and the citizens whose data it showed (``read_subjects``: the CPR
number, replaced by its keyed pseudonym when retention passes the read's period). The rows
are append-only and part of the journal's hash chain.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.identity import acting_identity
from toekgw.gateway.journal._sqlite_connection import JournalConnection, chunks, now

__all__ = ["ReadEntry", "ReadLog"]


@dataclass(frozen=True, slots=True)
class ReadEntry:
    id: int
    at: str
    actor: str
    action: str
    what: str
    subjects: int


class ReadLog(JournalConnection):
    """The read log: the part of :class:`~toekgw.gateway.journal.sqlite.SqliteJournal`."""

    def record_read(self, action: str, what: str, subjects: Iterable[str]) -> int:
        """Log that the acting identity read ``what`` with ``action``, showing the data of
        ``subjects`` (CPR numbers); the row's id."""
        people = sorted(set(subjects))
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO reads(at, actor, action, what, subjects) VALUES (?, ?, ?, ?, ?)",
                (now(), acting_identity(), action, mask_cpr_in_text(what), len(people)),
            )
            read_id = int(cur.lastrowid or 0)
            self._db.executemany(
                "INSERT INTO read_subjects(read_id, subject) VALUES (?, ?)",
                [(read_id, subject) for subject in people],
            )
        return read_id

    def reads(
        self, *, since: str, until: str, subjects: Collection[str] | None = None
    ) -> Iterator[ReadEntry]:
        """The reads from ``since`` up to (not including) ``until`` (ISO 8601 texts), oldest
        first; with ``subjects``, only those that showed one of them. Without ``subjects`` the
        log is read a page at a time (a month's reads grow with the journal's use); with them,
        the reads of those citizens are gathered and sorted first."""
        columns = "r.id, r.at, r.actor, r.action, r.what, r.subjects"
        if subjects is None:
            after = 0
            while True:
                rows = self._db.execute(
                    f"SELECT {columns} FROM reads r WHERE r.at >= ? AND r.at < ? AND r.id > ? "
                    "ORDER BY r.id LIMIT ?",
                    (since, until, after, _READS_PAGE),
                ).fetchall()
                yield from (ReadEntry(*r) for r in rows)
                if len(rows) < _READS_PAGE:
                    return
                after = int(rows[-1][0])
        found: dict[int, ReadEntry] = {}
        for chunk in chunks(sorted(set(subjects))):
            marks = ", ".join("?" * len(chunk))
            for row in self._db.execute(
                f"SELECT DISTINCT {columns} FROM reads r JOIN read_subjects s ON s.read_id = r.id "
                f"WHERE s.subject IN ({marks}) AND r.at >= ? AND r.at < ?",
                (*chunk, since, until),
            ):
                found[row[0]] = ReadEntry(*row)
        yield from (found[k] for k in sorted(found))


_READS_PAGE = 1_000  # reads listed at a time
