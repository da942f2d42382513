"""The index simulator's ledger: every effectuation it took, once per object, in SQLite.

An effectuation is the index's object with its UUID; a second import of the same object (a
caller repeating a call whose answer it never saw) is counted as a repeat, not a second
effectuation. The file is durable (WAL, synchronous FULL), so what the simulator answered 20
for survives it, and a test or ``toekgw simulate ydelsesindeks --show`` reads it afterwards.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from pathlib import Path

from toekgw.formats.ydelsesindeks import Effektuering

__all__ = ["IndexLedger", "Reported"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS effektuering (
    object_id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    cvr TEXT NOT NULL,
    amount_ore INTEGER NOT NULL,
    disposition_date TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1
)
"""


@dataclasses.dataclass(frozen=True, slots=True)
class Reported:
    object_id: str
    key: str
    cvr: str
    amount_ore: int
    disposition_date: str
    deliveries: int


class IndexLedger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()

    def take(self, effektuering: Effektuering) -> bool:
        """Record it; False when the object was taken before (counted as a repeat)."""
        e = effektuering
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO effektuering (object_id, key, cvr, amount_ore, disposition_date)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (object_id)"
                " DO UPDATE SET deliveries = deliveries + 1 RETURNING deliveries",
                (e.object_id, e.key, e.municipality_cvr, e.amount_ore, str(e.disposition_date)),
            )
            (deliveries,) = cursor.fetchone()
        return bool(deliveries == 1)

    def reported(self) -> list[Reported]:
        with self._lock:
            rows = self._db.execute(
                "SELECT object_id, key, cvr, amount_ore, disposition_date, deliveries"
                " FROM effektuering ORDER BY key"
            ).fetchall()
        return [Reported(*row) for row in rows]

    def close(self) -> None:
        self._db.close()
