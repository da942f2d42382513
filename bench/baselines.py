"""The bare baselines the G68 receiver is measured against (``bench/month_end.py``,
``bench/receive_g68.py``): the same rows sliced at their fixed positions with nothing checked,
and inserted into a bare SQLite table in one WAL transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

Row = tuple[bytes, int, bytes, bytes, str]


def _amount(digits: bytes) -> int:
    try:
        return int(digits)
    except ValueError:  # a planted error: the bare slicer does not care
        return 0


def g68_rows(deliveries: Iterable[Path]) -> Iterator[Row]:
    """The payment rows of the G68 files (fast form), sliced bare at their fixed positions."""
    for delivery in deliveries:
        with delivery.open("rb") as handle:
            for line in handle:
                if line[3:6] == b"G68":
                    yield (
                        line[20:38],
                        _amount(line[38:49]),
                        line[50:66],
                        line[66:74],
                        line[94:256].decode("latin-1"),
                    )


def bare_slicing(deliveries: Iterable[Path]) -> int:
    return sum(1 for _ in g68_rows(deliveries))


def bare_sqlite(deliveries: Iterable[Path], path: Path) -> int:
    """``executemany`` of the rows in one transaction, then one batched state update."""
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, key BLOB, amount INTEGER, ident BLOB, "
        "day BLOB, texts TEXT, state TEXT)"
    )
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO items(key, amount, ident, day, texts, state) "
        "VALUES (?, ?, ?, ?, ?, 'pending')",
        g68_rows(deliveries),
    )
    db.execute("COMMIT")
    db.execute("BEGIN")
    count = db.execute("SELECT max(id) FROM items").fetchone()[0] or 0
    for start in range(0, count, 10_000):
        db.execute(
            "UPDATE items SET state = 'released' WHERE id > ? AND id <= ?", (start, start + 10_000)
        )
    db.execute("COMMIT")
    db.close()
    return int(count)
