"""Staged bodies (migration 16): the bytes an outbound transmission was built as.

A flow that builds and validates a document when it journals the transmission (the NemKonto
release) stages the bytes with it, in the same transaction; its send reads them back instead
of building the document again, and drops them in the transaction that records it sent. The
row is a cache, never the record: the transmission's SHA-256 (in the hash chain) says which
bytes are right, and a transmission without a staged body (journaled before migration 16, or
whose body was dropped) is built again from the journal.
"""

from __future__ import annotations

from toekgw.gateway.journal._sqlite_connection import JournalConnection
from toekgw.gateway.journal.model import JournalError

__all__ = ["StagedBodies"]


class StagedBodies(JournalConnection):
    """The staged bodies: the part of :class:`~toekgw.gateway.journal.sqlite.SqliteJournal`."""

    def stage_body(self, transmission_id: int, body: bytes) -> None:
        """Keep ``body`` as the bytes of transmission ``transmission_id`` (replacing any)."""
        with self.transaction():
            try:
                self._db.execute(
                    "INSERT INTO staged_bodies (transmission_id, body) VALUES (?, ?) "
                    "ON CONFLICT (transmission_id) DO UPDATE SET body = excluded.body",
                    (transmission_id, body),
                )
            except self._dialect.integrity_error as exc:
                raise JournalError(
                    f"no transmission #{transmission_id} to stage a body for ({exc})"
                ) from exc

    def staged_body(self, transmission_id: int) -> bytes | None:
        """The staged bytes of the transmission; None when it has none."""
        row = self._db.execute(
            "SELECT body FROM staged_bodies WHERE transmission_id = ?", (transmission_id,)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def drop_staged_body(self, transmission_id: int) -> bool:
        """Forget the transmission's staged bytes; whether it had any."""
        with self.transaction():
            cur = self._db.execute(
                "DELETE FROM staged_bodies WHERE transmission_id = ?", (transmission_id,)
            )
        return cur.rowcount > 0
