"""The bare baselines the stages are measured against (``bench/month_end.py``,
``bench/receive_g68.py``): the same G68 rows sliced at their fixed positions with nothing
checked, and inserted into a bare SQLite table in one WAL transaction; the same bundles built
with bare lxml and validated; the same answers parsed and validated; a bare ``GROUP BY``."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from toekgw.formats.nemkonto.answer import answer_document
from toekgw.formats.nemkonto.bundle import SCHEMA as BUNDLE_SCHEMA
from toekgw.formats.xmlcheck import load_schema

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


@dataclass
class Excluded:
    """The time a baseline spends on set-up it does not measure (wall and CPU apart: on a
    loaded machine one is several times the other)."""

    wall_s: float = 0.0
    cpu_s: float = 0.0


def queue_bodies(queues: Path, queue: str) -> list[bytes]:
    """The bodies of the messages on ``queue`` of a SQLite queue file, oldest first."""
    db = sqlite3.connect(queues)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    # the bodies apart since the twelfth session (a tree from before keeps them in the row)
    source = "message_body b JOIN message m USING (seq)" if "message_body" in tables else "message"
    rows = db.execute(
        f"SELECT body FROM {source} WHERE queue = ? ORDER BY seq",
        (queue,),
    ).fetchall()
    db.close()
    return [bytes(r[0]) for r in rows]


def bare_bundles(bodies: Iterable[bytes], excluded: Excluded) -> int:
    """Build each sent bundle again with bare lxml (element by element) and validate it."""
    schema = load_schema(BUNDLE_SCHEMA)
    count = 0
    for body in bodies:
        start, start_cpu = time.perf_counter(), time.process_time()
        source = etree.fromstring(body)  # reading the bundle is not part of the baseline
        excluded.wall_s += time.perf_counter() - start
        excluded.cpu_s += time.process_time() - start_cpu
        root = etree.Element(source.tag, dict(source.attrib), nsmap=source.nsmap)
        _copy(source, root)
        data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        assert schema.validate(etree.fromstring(data)), schema.error_log
        count += sum(1 for _ in root.iter("{*}CdtTrfTxInf"))
    return count


def _copy(source: etree._Element, target: etree._Element) -> None:
    for child in source:
        made = etree.SubElement(target, child.tag, dict(child.attrib))
        made.text = child.text
        _copy(child, made)


def bare_answers(bodies: Iterable[bytes]) -> int:
    """Parse each answer with bare lxml and validate it against its kind's schema."""
    count = 0
    for body in bodies:
        root = etree.fromstring(body)
        doc = answer_document(root)
        assert doc is not None, root.tag
        schema = load_schema(doc.schema)
        assert schema.validate(root), schema.error_log
        count += 1
    return count


def bare_group_by(journal: Path) -> int:
    """One ``GROUP BY carrier, state`` with count and sum over the journal's items."""
    db = sqlite3.connect(journal)
    rows = db.execute(
        "SELECT carrier_id, state, count(*), sum(amount_ore) FROM items GROUP BY 1, 2"
    ).fetchall()
    db.close()
    return sum(r[2] for r in rows)
