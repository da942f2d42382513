"""The payments no mark names yet: a generic read for a flow that marks what it handled by
an item of its own (``<prefix><item id>`` under its counterpart), such as eIndkomst's report
of paid benefits. The part of :class:`~toekgw.gateway.journal.sqlite.SqliteJournal` (and of
the PostgreSQL journal, through its dialect) that finds them in SQL: the typed columns (state,
disposition date) and each one's mark in the business key's unique index, so that neither the
items marked already nor their payloads are read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from toekgw.gateway.journal._sql import waiting
from toekgw.gateway.journal._sqlite_connection import JournalConnection
from toekgw.gateway.journal.model import DateTotal, Unmarked

__all__ = ["UnmarkedItems"]


class UnmarkedItems(JournalConnection):
    """Items no mark names yet, summed per date or read a page at a time."""

    def _unmarked(self, which: Unmarked, ids: tuple[int, int] | None) -> tuple[str, list[Any]]:
        """``FROM ...`` the items ``which`` selects (``ids``: from ``ids[0]`` to ``ids[1]``),
        as ``u`` (id, kind, day, data), and its arguments. Inside: the typed columns (state,
        disposition date) and each one's mark looked up in the business key's unique index
        (counterpart, business_key); outside that (fenced off), the payload's fields, so that
        the JSON of the items marked already is never read."""
        text = self._dialect.json_text
        kinds = ", ".join("?" * len(which.kinds))
        equal = " AND ".join(f"{text('u.data', '?')} = ?" for _ in which.equal)
        sql = (
            "FROM (SELECT i.id AS id, t.kind AS kind, i.disposition_date AS day, i.data AS data "
            "FROM items i JOIN transmissions t ON t.id = i.transmission_id "
            f"WHERE t.kind IN ({kinds}) AND i.state = ?{waiting('i.state', which.state)} "
            "AND i.disposition_date >= ? AND i.disposition_date < ?"
            f"{' AND i.id BETWEEN ? AND ?' if ids is not None else ''} "
            "AND NOT EXISTS (SELECT 1 FROM items m WHERE m.counterpart = ? "
            f"AND m.business_key = ? || CAST(i.id AS TEXT)){self._dialect.fence}) u"
            f"{' WHERE ' + equal if equal else ''}"
        )
        args: list[Any] = [
            *which.kinds, which.state, *(d.isoformat() for d in which.dates), *(ids or ()),
            which.mark_counterpart, which.mark_prefix, *(v for pair in which.equal for v in pair),
        ]  # fmt: skip
        return sql, args

    def unmarked_dates(
        self, which: Unmarked, *, ids: tuple[int, int] | None = None
    ) -> list[DateTotal]:
        found, args = self._unmarked(which, ids)
        value = self._dialect.json_text("u.data", "?")
        rows = self._db.execute(
            f"SELECT u.kind, u.day, count(*), sum(CAST({value} AS BIGINT)), min(u.id), "
            f"max(u.id) {found} GROUP BY u.kind, u.day ORDER BY u.kind, u.day",
            (which.value, *args),
        ).fetchall()
        return [
            DateTotal(kind, dt.date.fromisoformat(day), count, int(total), first, last)
            for kind, day, count, total, first, last in rows
        ]

    def unmarked_items(
        self,
        which: Unmarked,
        *,
        order: tuple[str, int] | None = None,
        ids: tuple[int, int] | None = None,
        after: tuple[str, int] | None = None,
        limit: int,
    ) -> list[tuple[str, int, int]]:
        found, args = self._unmarked(which, ids)
        text = self._dialect.json_text
        start, last = after if after is not None else ("", 0)
        key, key_args = "''", []
        if order is not None:
            field = text("u.data", "?")
            key = self._dialect.bytewise(
                f"CASE WHEN length({field}) > ? THEN substr({field}, length({field}) - ?) "
                f"ELSE {field} END"
            )
            key_args = [order[0], order[1], order[0], order[0], order[1] - 1, order[0]]
        page = "s.id > ? ORDER BY s.id" if order is None else (
            "(s.k > ? OR (s.k = ? AND s.id > ?)) ORDER BY s.k, s.id"
        )  # fmt: skip
        rows = self._db.execute(
            f"SELECT s.k, s.id, s.v FROM (SELECT {key} AS k, u.id AS id, "
            f"CAST({text('u.data', '?')} AS BIGINT) AS v {found}) s WHERE {page} LIMIT ?",
            (
                *key_args, which.value, *args,
                *((last,) if order is None else (start, start, last)), limit,
            ),
        ).fetchall()  # fmt: skip
        return [(k, i, int(v)) for k, i, v in rows]
