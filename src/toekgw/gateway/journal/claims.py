"""Claiming items per worker: several workers share one piece of work, none does an item twice.

A flow that scales out (the status publisher: every worker publishes part of the outbox) reads
what is due, claims the items it will handle, handles them, records that in the journal and
releases the claims. Another worker's claim on an item makes it skip the item; a claim dies with
its holder.

- :class:`DatabaseClaims` (a PostgreSQL journal): a session advisory lock per item, taken with
  ``pg_try_advisory_lock`` on a connection of the claimer's own. A taken lock is skipped, not
  waited for (the advisory-lock form of ``SELECT ... FOR UPDATE SKIP LOCKED``, without holding
  a transaction or a row lock while the broker is talked to). The server drops every lock of a
  session when its connection ends, so a SIGKILLed worker's claims are free for the next
  worker at once: no lease to expire, nothing to clean up.
- :class:`LocalClaims` (a SQLite journal, one machine): every item is claimable; the flow's
  lock file already lets one process at a time run the flow.

A claimer re-reads an item's journal state after claiming it: another worker may have finished
the item between the read and the claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from toekgw.gateway.errors import GatewayError
from toekgw.gateway.journal.location import JournalLocation, JournalUrl

__all__ = ["DatabaseClaims", "ItemClaims", "LocalClaims", "open_claims"]

#: The advisory-lock key space of item claims: the namespace in the high bits, the item id in
#: the low 40 (flow locks use hashed keys, which land here with negligible probability).
_ID_BITS = 40


class ItemClaims(Protocol):
    def claim(self, item_ids: Sequence[int]) -> set[int]:
        """The ids of ``item_ids`` now claimed by this claimer (those free or already its own);
        the others are another worker's."""
        ...

    def release(self) -> None:
        """Release every claim of this claimer."""
        ...

    def close(self) -> None: ...


class LocalClaims:
    """Every item is this process's (one machine; the flow's lock file makes it single-flight)."""

    def claim(self, item_ids: Sequence[int]) -> set[int]:
        return set(item_ids)

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass


class DatabaseClaims:
    """Claims in a PostgreSQL database, in the namespace ``namespace`` (0..8,388,607): a
    session advisory lock per item on a connection of its own."""

    def __init__(self, url: str, namespace: int) -> None:
        import psycopg  # the extra "postgres", present wherever a PostgreSQL journal is

        if not 0 <= namespace < 1 << (63 - _ID_BITS):
            raise ValueError(f"claim namespace {namespace} out of range")
        self._base = namespace << _ID_BITS
        try:
            self._connection: Any = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise GatewayError(f"cannot open a connection for claims: {exc}") from exc

    def claim(self, item_ids: Sequence[int]) -> set[int]:
        if any(not 0 < i < 1 << _ID_BITS for i in item_ids):
            raise ValueError("an item id does not fit the claims' key space")
        rows = self._connection.execute(
            "SELECT id FROM unnest(%s::bigint[]) AS id WHERE pg_try_advisory_lock(%s + id)",
            (list(item_ids), self._base),
        ).fetchall()
        return {int(row[0]) for row in rows}

    def release(self) -> None:
        self._connection.execute("SELECT pg_advisory_unlock_all()")

    def close(self) -> None:
        self._connection.close()


def open_claims(location: JournalLocation, namespace: int) -> ItemClaims:
    """Claims that hold across every worker sharing the journal at ``location``."""
    if isinstance(location, JournalUrl):
        return DatabaseClaims(location.url, namespace)
    return LocalClaims()
