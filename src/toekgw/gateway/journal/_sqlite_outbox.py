"""The :class:`~toekgw.gateway.journal.outbox.StatusOutbox` on the SQLite journal."""

from __future__ import annotations

from collections.abc import Sequence

from toekgw.gateway.journal._sqlite_connection import JournalConnection, now
from toekgw.gateway.journal.outbox import DueStatus

__all__ = ["Outbox"]


class Outbox(JournalConnection):
    def due_statuses(
        self, kinds: Sequence[str], *, limit: int = 1000, after: int = 0
    ) -> list[DueStatus]:
        if not kinds:
            return []
        marks = ", ".join("?" for _ in kinds)
        rows = self._db.execute(
            "SELECT i.id, i.transmission_id, i.business_key, i.seq, i.state, "  # noqa: S608 (only ?s)
            "coalesce(o.sequence, 0) + 1 FROM items i "
            "JOIN transmissions t ON t.id = i.transmission_id "
            "LEFT JOIN status_outbox o ON o.item_id = i.id "
            f"WHERE t.kind IN ({marks}) AND i.id > ? "
            "AND (o.item_id IS NULL OR o.published_state <> i.state) ORDER BY i.id LIMIT ?",
            (*kinds, after, limit),
        ).fetchall()
        return [DueStatus(*row) for row in rows]

    def still_due(self, due: Sequence[DueStatus]) -> list[DueStatus]:
        if not due:
            return []
        marks = ", ".join("?" for _ in due)
        told = dict(
            self._db.execute(
                f"SELECT item_id, sequence FROM status_outbox WHERE item_id IN ({marks})",  # noqa: S608
                [d.item_id for d in due],
            ).fetchall()
        )
        return [d for d in due if told.get(d.item_id, 0) < d.sequence]

    def mark_published(self, due: DueStatus) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT INTO status_outbox (item_id, published_state, sequence, published_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (item_id) DO UPDATE SET "
                "published_state = excluded.published_state, sequence = excluded.sequence, "
                "published_at = excluded.published_at "
                "WHERE status_outbox.sequence < excluded.sequence",
                (due.item_id, due.state, due.sequence, now()),
            )
