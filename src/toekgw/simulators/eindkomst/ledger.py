"""The eIndkomst simulator's ledger: which deliveries and reports SKAT registered.

A durable SQLite file (WAL, ``synchronous=FULL``). Recording a delivery is one transaction
and idempotent by main report id and report ids: a delivery seen before is answered again
from the ledger (the same bytes) and registered once. ``report`` has the report id as its
primary key - the proof that no report is registered twice. The accepted deliveries are kept
whole, so the simulator's history (for the correction and nil-report rules) is rebuilt from
the ledger after a restart.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from toekgw.gateway.sqlite import connect, write

__all__ = ["Decided", "Ledger", "Recorded"]

_SELECT = "SELECT main_id, answer, cards, rejected, advice FROM delivery WHERE main_id = ?"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery (
    main_id     TEXT PRIMARY KEY,
    received_at REAL NOT NULL,
    deliveries  INTEGER NOT NULL DEFAULT 1,
    body        BLOB NOT NULL,
    answer      BLOB NOT NULL,             -- the sum receipts (7100)
    cards       BLOB,
    advice      BLOB,                      -- the error/advice file, when there is one
    rejected    TEXT NOT NULL              -- JSON: report ids SKAT rejected
);
CREATE TABLE IF NOT EXISTS report (
    report_id   TEXT PRIMARY KEY,
    main_id     TEXT NOT NULL,
    status      TEXT NOT NULL,             -- G accepted, A rejected
    count_6000  INTEGER NOT NULL,
    amount_sum  INTEGER NOT NULL,
    deliveries  INTEGER NOT NULL DEFAULT 1
);
"""


@dataclass(frozen=True, slots=True)
class Decided:
    """What SKAT makes of a new delivery: the answer messages and the reports' outcomes."""

    answer: bytes
    cards: bytes | None
    reports: tuple[tuple[str, str, int, int], ...]  # report id, status, count, sum
    rejected: frozenset[str] = field(default_factory=frozenset)
    advice: bytes | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    main_id: str
    answer: bytes
    cards: bytes | None
    duplicate: bool
    rejected: frozenset[str]
    advice: bytes | None = None


class Ledger:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._db = connect(path, _SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(delivery)")}
        if "advice" not in columns:  # a ledger from before the error/advice file
            with write(self._db) as db:
                db.execute("ALTER TABLE delivery ADD COLUMN advice BLOB")

    def close(self) -> None:
        self._db.close()

    def record(
        self,
        main_id: str,
        report_ids: list[str],
        body: bytes,
        decide: Callable[[], Decided],
        *,
        now: float,
    ) -> Recorded:
        """Register a delivery once; a repeat (same main id, or only known report ids) is
        answered from the ledger."""
        with write(self._db) as db:
            row = db.execute(
                _SELECT,
                (main_id,),
            ).fetchone()
            if row is None and report_ids:
                owners = set()
                for rid in report_ids:
                    owner = db.execute(
                        "SELECT main_id FROM report WHERE report_id = ?", (rid,)
                    ).fetchone()
                    owners.add(owner[0] if owner else None)
                if len(owners) == 1 and None not in owners:
                    row = db.execute(
                        _SELECT,
                        (owners.pop(),),
                    ).fetchone()
            if row is not None:
                db.execute(
                    "UPDATE delivery SET deliveries = deliveries + 1 WHERE main_id = ?", (row[0],)
                )
                db.execute(
                    "UPDATE report SET deliveries = deliveries + 1 WHERE main_id = ?", (row[0],)
                )
                rejected = frozenset(json.loads(row[3]))
                return Recorded(row[0], row[1], row[2], True, rejected, row[4])
            decided = decide()
            db.execute(
                "INSERT INTO delivery (main_id, received_at, body, answer, cards, rejected, advice)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    main_id,
                    now,
                    body,
                    decided.answer,
                    decided.cards,
                    json.dumps(sorted(decided.rejected)),
                    decided.advice,
                ),
            )
            db.executemany(
                "INSERT INTO report (report_id, main_id, status, count_6000, amount_sum) "
                "VALUES (?, ?, ?, ?, ?)",
                [(rid, main_id, status, n, s) for rid, status, n, s in decided.reports],
            )
            return Recorded(
                main_id, decided.answer, decided.cards, False, decided.rejected, decided.advice
            )

    def accepted_deliveries(self) -> Iterator[tuple[bytes, frozenset[str]]]:
        """Every registered delivery (oldest first) with the ids of its rejected reports."""
        for body, rejected in self._db.execute(
            "SELECT body, rejected FROM delivery ORDER BY rowid"
        ).fetchall():
            yield body, frozenset(json.loads(rejected))

    def reports(self) -> dict[str, tuple[str, int, int, int]]:
        """report id -> (status, count, sum, deliveries)."""
        return {
            r[0]: (r[1], r[2], r[3], r[4])
            for r in self._db.execute(
                "SELECT report_id, status, count_6000, amount_sum, deliveries FROM report"
            )
        }

    def deliveries(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT main_id, deliveries FROM delivery").fetchall())
