"""The error list: what the gateway could not process, with its findings, until someone resolves it.

An entry names the counterpart, what it concerns (a file, a transmission, a single payment by
business key) and the findings that explain it; it stays open until it is resolved with a note
of how. ``toekgw errors`` lists it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.journal._sqlite_connection import JournalConnection, now
from toekgw.gateway.journal.model import ErrorEntry, JournalError

__all__ = ["ErrorList"]


class ErrorList(JournalConnection):
    """The error list: the part of :class:`~toekgw.gateway.journal.sqlite.SqliteJournal` that
    keeps what needs a person."""

    def add_error(
        self,
        *,
        counterpart: str,
        subject: str,
        findings: Sequence[Finding],
        transmission_id: int | None = None,
        file_name: str | None = None,
        business_key: str | None = None,
    ) -> int:
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO error_entries(at, counterpart, transmission_id, file_name, subject, "
                "business_key) VALUES (?, ?, ?, ?, ?, ?)",
                (now(), counterpart, transmission_id, file_name, subject, business_key),
            )
            entry = int(cur.lastrowid or 0)
            self._db.executemany(
                "INSERT INTO error_findings(entry_id, code, severity, message, line, columns, "
                "field, expected, found, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        entry,
                        f.code,
                        f.severity.value,
                        f.message,
                        f.line,
                        f.columns_text or None,
                        f.field,
                        f.expected,
                        f.found,
                        f.path,
                    )
                    for f in findings
                ),
            )
        return entry

    def resolve_error(self, entry_id: int, resolution: str) -> None:
        with self.transaction():
            done = self._db.execute(
                "UPDATE error_entries SET state = 'resolved', resolution = ?, resolved_at = ? "
                "WHERE id = ? AND state = 'open'",
                (resolution, now(), entry_id),
            ).rowcount
            if not done:
                raise JournalError(f"no open error-list entry #{entry_id}")

    def errors(
        self,
        *,
        include_resolved: bool = False,
        counterpart: str | None = None,
        subject: str | None = None,
    ) -> list[ErrorEntry]:
        """The entries, oldest first, with their findings (see :meth:`iter_errors`)."""
        return list(
            self.iter_errors(
                include_resolved=include_resolved, counterpart=counterpart, subject=subject
            )
        )

    def iter_errors(
        self,
        *,
        include_resolved: bool = False,
        counterpart: str | None = None,
        subject: str | None = None,
    ) -> Iterator[ErrorEntry]:
        """The open entries (``include_resolved``: every entry), oldest first, only those of
        ``counterpart`` and about ``subject`` where given, each with its findings: read a page
        of entries at a time, so that a long list is not held at once."""
        where, args = _where(include_resolved, counterpart, subject)
        after = 0
        while True:
            entries = self._db.execute(
                "SELECT id, at, counterpart, transmission_id, file_name, subject, business_key, "
                f"state, resolution FROM error_entries WHERE {where} AND id > ? "
                "ORDER BY id LIMIT ?",
                (*args, after, _ENTRIES_PAGE),
            ).fetchall()
            for row in entries:
                yield self._entry(row)
            if len(entries) < _ENTRIES_PAGE:
                return
            after = int(entries[-1][0])

    def error_count(
        self,
        *,
        include_resolved: bool = False,
        counterpart: str | None = None,
        subject: str | None = None,
    ) -> int:
        """How many entries :meth:`iter_errors` lists with the same arguments."""
        where, args = _where(include_resolved, counterpart, subject)
        row = self._db.execute(f"SELECT count(*) FROM error_entries WHERE {where}", args)
        return int(row.fetchone()[0])

    def _entry(self, row: Sequence[Any]) -> ErrorEntry:
        found = self._db.execute(
            "SELECT code, severity, message, line, columns, field, expected, found, path "
            "FROM error_findings WHERE entry_id = ? ORDER BY id",
            (row[0],),
        ).fetchall()
        findings = tuple(
            Finding(
                code=f[0],
                severity=Severity(f[1]),
                message=f[2],
                line=f[3],
                columns=_columns(f[4]),
                field=f[5],
                expected=f[6],
                found=f[7],
                path=f[8],
                file=row[4],
            )
            for f in found
        )
        return ErrorEntry(
            id=row[0],
            at=row[1],
            counterpart=row[2],
            transmission_id=row[3],
            file_name=row[4],
            subject=row[5],
            business_key=row[6],
            state=row[7],
            resolution=row[8],
            findings=findings,
        )


_ENTRIES_PAGE = 500  # entries read at a time by iter_errors


def _where(
    include_resolved: bool, counterpart: str | None, subject: str | None
) -> tuple[str, list[Any]]:
    where = ["1 = 1"]
    args: list[Any] = []
    if not include_resolved:
        where.append("state = 'open'")
    for column, value in (("counterpart", counterpart), ("subject", subject)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    return " AND ".join(where), args


def _columns(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    start, _, end = text.partition("-")
    return int(start), int(end or start)
