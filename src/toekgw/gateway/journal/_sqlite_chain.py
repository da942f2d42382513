"""The hash chain: the journal's trail, made tamper-evident.

Every commit that writes events, items or reads ends with one **link** in ``chain``: the
SHA-256 of the previous link's hash followed by every row the commit added, in id order:
the events (all their columns), the items' fixed columns (id, transmission, business key,
amount, creating event, municipality, disposition date) and the read log's rows (when, who,
which command, what, how many citizens). A link records up to which event, item and read id
it reaches, so the next one starts where it ends. Changing, inserting or removing any of
those rows afterwards breaks the recomputed hash of its link and of every later one;
:func:`verify_chain` (``toekgw doctor``) recomputes them all.

What the chain hashes is chosen so that retention never touches it: pseudonymisation
changes only the items' payloads (``data``, ``lookup``, ``fingerprint``) and the CPR numbers
in ``read_subjects``, which are not hashed, while the amounts, dates, states and the
events' texts (in which CPR numbers are masked when written) are. So a retention run keeps
the chain verifiable without re-anchoring it, and keeps amounts and dates provably unchanged.

One link per commit, not per row: a bulk move of 100,000 payments is one commit, and its
link is one row, so the chain grows with the number of commits rather than of rows while
covering every row. A journal from before the chain gets its first link, over its whole
history, from the migration that adds it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["GENESIS", "ChainReport", "has_chain", "seal", "verify_chain"]

GENESIS = "0" * 64

_SOURCES = (
    (
        b"E",
        "events",
        "id, at, transmission_id, item_id, scope, from_state, to_state, count, reason, actor",
    ),
    (
        b"I",
        "items",
        "id, transmission_id, business_key, amount_ore, created_event, municipality, "
        "disposition_date",
    ),
    (b"R", "reads", "id, at, actor, action, what, subjects"),
)


@dataclass(slots=True)
class ChainReport:
    links: int = 0
    rows: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)


#: A row as the chain hashes it: compact JSON. One encoder for all rows (``json.dumps`` with
#: options builds a new one per call, which cost more than the encoding itself).
_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def has_chain(db: sqlite3.Connection) -> bool:
    return (
        db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'chain'").fetchone()
        is not None
    )


def _last_link(db: sqlite3.Connection) -> tuple[str, tuple[int, int, int]]:
    row = db.execute(
        "SELECT hash, last_event, last_item, last_read FROM chain ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    return (GENESIS, (0, 0, 0)) if row is None else (row[0], (row[1], row[2], row[3]))


def _tops(db: sqlite3.Connection) -> tuple[int, int, int]:
    # max(id) of a rowid table is one step down the b-tree, not a scan.
    tops = [
        db.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0] for _m, t, _c in _SOURCES
    ]
    return tops[0], tops[1], tops[2]


def _rows(
    db: sqlite3.Connection, table: str, columns: str, after: int, upto: int
) -> Iterator[bytes]:
    cursor = db.execute(
        f"SELECT {columns} FROM {table} WHERE id > ? AND id <= ? ORDER BY id", (after, upto)
    )
    encode = _LINE.encode
    for row in cursor:
        yield encode(row).encode("utf-8")


def _digest(
    db: sqlite3.Connection, prev: str, start: tuple[int, int, int], end: tuple[int, int, int]
) -> tuple[str, int]:
    h = hashlib.sha256(prev.encode("ascii"))
    count = 0
    for (mark, table, columns), after, upto in zip(_SOURCES, start, end, strict=True):
        for line in _rows(db, table, columns, after, upto):
            h.update(mark + line + b"\n")
            count += 1
    return h.hexdigest(), count


def seal(db: sqlite3.Connection) -> None:
    """Add the link for what this transaction wrote (nothing when it wrote none). Called
    inside the transaction, just before it commits, so the link commits with the rows."""
    prev, start = _last_link(db)
    tops = _tops(db)
    end = (max(tops[0], start[0]), max(tops[1], start[1]), max(tops[2], start[2]))
    if end == start:
        return
    digest, _count = _digest(db, prev, start, end)
    db.execute(
        "INSERT INTO chain(at, last_event, last_item, last_read, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (datetime.now(UTC).isoformat(timespec="microseconds"), *end, prev, digest),
    )


def verify_chain(db: sqlite3.Connection) -> ChainReport:
    """Recompute every link; the problems found (empty: the trail is as it was written)."""
    report = ChainReport()
    prev, start = GENESIS, (0, 0, 0)
    for seq, prev_hash, stored, *end_values in db.execute(
        "SELECT seq, prev_hash, hash, last_event, last_item, last_read FROM chain ORDER BY seq"
    ).fetchall():
        end = (end_values[0], end_values[1], end_values[2])
        if prev_hash != prev:
            report.problems.append(f"link {seq} does not follow link {report.links}")
        digest, count = _digest(db, prev, start, end)
        if digest != stored:
            report.problems.append(
                f"link {seq} (events {start[0] + 1}–{end[0]}, items {start[1] + 1}–{end[1]}, "
                f"reads {start[2] + 1}–{end[2]}): the rows differ from what was written"
            )
        report.links += 1
        report.rows += count
        prev, start = stored, end
    report.head = prev
    tops = _tops(db)
    if tops != start:
        report.problems.append(
            f"rows after the last link are not chained (events up to {tops[0]}, items up to "
            f"{tops[1]}, reads up to {tops[2]}; the chain reaches {start[0]}, {start[1]}, "
            f"{start[2]})"
        )
    return report
