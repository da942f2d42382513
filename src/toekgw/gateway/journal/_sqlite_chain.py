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

Both back ends keep the same chain with this one body of code (SQLite's spelling, run
through the :mod:`~toekgw.gateway.journal._sql` seam), so a journal copied into PostgreSQL
(``toekgw journal migrate-to``) carries its links and verifies the same there. Every row is
hashed as the JSON array of its values, which both back ends return alike (integers and
text). The chain stays one linear sequence with several writers at once: :func:`link` reads
the chain's head under a lock held to the commit - the journal's writer lock (SQLite's
``BEGIN IMMEDIATE``; PostgreSQL's advisory lock from ``BEGIN``), or where a link is written
without it (a migration) the dialect's chain lock - and a link's ranges end at the ids the
commit sees, which holds because the journal's writer lock makes ids rise in commit order
(ids taken by two transactions at once could commit out of order and leave one unchained;
``tests/test_hash_chain.py`` runs concurrent writers and verifies). Rows are read back as a
stream (:meth:`~toekgw.gateway.journal._sql.Dialect.stream`: one query, rows arriving in
pages), so sealing a million-row commit or verifying a large journal holds one page in memory
and reads each row once.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from toekgw.gateway.journal._sql import Database, Dialect

__all__ = [
    "CHAINED_COLUMNS",
    "GENESIS",
    "ChainReport",
    "encode_row",
    "has_chain",
    "link",
    "seal",
    "verify_chain",
]

GENESIS = "0" * 64


def _row_encoder() -> Callable[[object], str]:
    """The link format's encoder: compact JSON, non-ASCII as it is. Its text is what every
    link hashes: keep it.

    ``JSONEncoder.encode`` makes the standard library's C encoder anew at each call (3.5 µs a
    row of the events' width, most of it that making); a row is a flat tuple of integers,
    text and NULLs, so one C encoder made once, without the circular-reference check a flat
    row cannot need, writes the same text in about a third of the time. An interpreter
    without the C encoder gets ``JSONEncoder.encode`` itself."""
    options = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return options.encode
    chunks = make(
        None, options.default, json.encoder.encode_basestring, None,
        options.key_separator, options.item_separator, False, False, True,
    )  # fmt: skip
    return lambda value: "".join(chunks(value, 0))


_encode = _row_encoder()

_SOURCES = (
    (
        "E",
        "events",
        "id, at, transmission_id, item_id, scope, from_state, to_state, count, reason, actor",
    ),
    (
        "I",
        "items",
        "id, transmission_id, business_key, amount_ore, created_event, municipality, "
        "disposition_date",
    ),
    ("R", "reads", "id, at, actor, action, what, subjects"),
)


#: Each chained table's columns, in the order a link hashes them.
CHAINED_COLUMNS = {table: columns for _mark, table, columns in _SOURCES}

#: A row as a link hashes it (the values in :data:`CHAINED_COLUMNS` order).
encode_row = _encode

#: Rows this transaction inserted, as a link hashes them, by table and id (what an INSERT's
#: RETURNING gave): a link uses them instead of reading the rows back where they are exactly
#: the rows of its range.
Known = Mapping[str, Mapping[int, str]]


@dataclass(slots=True)
class ChainReport:
    links: int = 0
    rows: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)


def has_chain(db: Database, dialect: Dialect) -> bool:
    return dialect.has_table(db, "chain")


_TOPS = "SELECT " + ", ".join(
    f"(SELECT coalesce(max(id), 0) FROM {table})" for _m, table, _c in _SOURCES
)


#: The newest link (NULLs before the first) and the tables' tops, in one statement (one round
#: trip to a server).
_HEAD = (
    "SELECT c.seq, c.hash, c.last_event, c.last_item, c.last_read, "
    + _TOPS.removeprefix("SELECT ")
    + " FROM (SELECT 1) AS one LEFT JOIN (SELECT seq, hash, last_event, last_item, last_read "
    "FROM chain ORDER BY seq DESC LIMIT 1) AS c ON 1 = 1"
)


def _head(db: Database) -> tuple[int, str, tuple[int, int, int], tuple[int, int, int]]:
    """The newest link's number, hash and ends (0, the genesis, 0s before the first link),
    and the tables' tops now."""
    row = db.execute(_HEAD).fetchone()
    tops = (int(row[5]), int(row[6]), int(row[7]))
    if row[0] is None:
        return 0, GENESIS, (0, 0, 0), tops
    return int(row[0]), str(row[1]), (int(row[2]), int(row[3]), int(row[4])), tops


def _tops(db: Database) -> tuple[int, int, int]:
    # max(id) is one step down the primary key's b-tree, not a scan, on both back ends; the
    # three in one statement (one round trip to a server).
    row = db.execute(_TOPS).fetchone()
    return int(row[0]), int(row[1]), int(row[2])


_PAGE = 5_000  # rows hashed in one update


#: Values of every kind the chain hashes (integers, NULL, text with each character JSON
#: escapes, non-ASCII, beyond the BMP): the database's JSON of them must be ours byte for byte.
_PROBE = (0, -(2**62), None, "".join(map(chr, range(0x20))) + '"\\/ \x7f æøå € \U0001f600')


#: The probe's answer per dialect: one database library per dialect in a process, so it is
#: asked once, not at every link.
_LIKE_US: dict[type[Dialect], bool] = {}


def _writes_like_us(db: Database, dialect: Dialect) -> bool:
    """Whether the database's row JSON is :data:`_encode`'s text for :data:`_PROBE` (another
    SQLite's escaping would seal links that Python, and so PostgreSQL, cannot verify)."""
    known = _LIKE_US.get(type(dialect))
    if known is None:
        probe = dialect.json_row(", ".join("?" * len(_PROBE)))
        answer = probe is not None and db.execute(f"SELECT {probe}", _PROBE).fetchone()[0]
        known = _LIKE_US[type(dialect)] = answer == _encode(_PROBE)
    return known


def _rows(
    db: Database, dialect: Dialect, table: str, columns: str, after: int, upto: int
) -> Iterator[list[str]]:
    """The rows' JSON texts, a page at a time: written by the database where it can
    (SQLite's ``json_array`` gives Python's text several times faster), else encoded here."""
    where = f"FROM {table} WHERE id > ? AND id <= ? ORDER BY id"
    expression = dialect.json_row(columns) if _writes_like_us(db, dialect) else None
    texts: Iterator[str]
    if expression is None:
        texts = map(_encode, dialect.stream(db, f"SELECT {columns} {where}", (after, upto)))
    else:
        rows = dialect.stream(db, f"SELECT {expression} {where}", (after, upto))
        texts = (row[0] for row in rows)
    while page := list(itertools.islice(texts, _PAGE)):
        yield page


def _known_rows(known: Known | None, table: str, after: int, upto: int) -> list[str] | None:
    """The texts of ``table``'s rows ``after``..``upto`` when ``known`` holds exactly those
    (every id of the range, none outside it), in id order; else ``None``."""
    rows = (known or {}).get(table)
    if rows is None or len(rows) != upto - after or not all(after < i <= upto for i in rows):
        return None
    return [rows[i] for i in range(after + 1, upto + 1)]


def _digest(
    db: Database,
    dialect: Dialect,
    prev: str,
    start: tuple[int, int, int],
    end: tuple[int, int, int],
    known: Known | None = None,
) -> tuple[str, int]:
    h = hashlib.sha256(prev.encode("ascii"))
    count = 0
    for (mark, table, columns), after, upto in zip(_SOURCES, start, end, strict=True):
        if upto <= after:
            continue  # nothing of this table: no query (a round trip to a server)
        texts = _known_rows(known, table, after, upto)
        pages: Iterator[list[str]]
        if texts is None:
            pages = _rows(db, dialect, table, columns, after, upto)
        else:
            pages = (texts[n : n + _PAGE] for n in range(0, len(texts), _PAGE))
        for lines in pages:
            # each row hashed as mark + its JSON + newline, a page in one update
            h.update((mark + f"\n{mark}".join(lines) + "\n").encode("utf-8"))
            count += len(lines)
    return h.hexdigest(), count


def seal(db: Database, dialect: Dialect) -> None:
    """Add the link for what this transaction wrote (nothing when it wrote none). Called
    inside the transaction, just before it commits, so the link commits with the rows; the
    chain's head is read under the chain lock, held until that commit."""
    insert = link(db, dialect)
    if insert is not None:
        db.execute(*insert)


def link(
    db: Database, dialect: Dialect, *, locked: bool = False, known: Known | None = None
) -> tuple[str, tuple[object, ...]] | None:
    """The statement that adds this transaction's link (``None``: it wrote nothing chained),
    for the caller to run before it commits (a server's connection sends it with the
    ``COMMIT``): the chain's head read under the chain lock (``locked``: the caller holds a
    lock to its commit that orders every chained write, the journal's writer lock), the new
    rows hashed (those ``known`` to the caller as they are, the rest read back)."""
    if not locked:
        dialect.lock_chain(db)
    seq, prev, start, tops = _head(db)
    end = (max(tops[0], start[0]), max(tops[1], start[1]), max(tops[2], start[2]))
    if end == start:
        return None
    digest, _count = _digest(db, dialect, prev, start, end, known)
    return (
        "INSERT INTO chain(seq, at, last_event, last_item, last_read, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq + 1, datetime.now(UTC).isoformat(timespec="microseconds"), *end, prev, digest),
    )


_LINKS_PAGE = 1_000  # links read at a time by verify_chain


def _chain_links(db: Database) -> Iterator[tuple[Any, ...]]:
    """The chain's links in order, a page at a time: a journal of many commits has as many
    links, and their list would grow with it."""
    after = 0
    while True:
        page = db.execute(
            "SELECT seq, prev_hash, hash, last_event, last_item, last_read FROM chain "
            "WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, _LINKS_PAGE),
        ).fetchall()
        yield from page
        if len(page) < _LINKS_PAGE:
            return
        after = int(page[-1][0])


def verify_chain(db: Database, dialect: Dialect) -> ChainReport:
    """Recompute every link; the problems found (empty: the trail is as it was written)."""
    report = ChainReport()
    prev, start = GENESIS, (0, 0, 0)
    for seq, prev_hash, stored, *end_values in _chain_links(db):
        end = (end_values[0], end_values[1], end_values[2])
        if prev_hash != prev:
            report.problems.append(f"link {seq} does not follow link {report.links}")
        digest, count = _digest(db, dialect, prev, start, end)
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
