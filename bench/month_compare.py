"""Compare a month-end through two code trees: journals row by row, except ids and times.

    .venv/bin/python bench/month_compare.py --payments 30000 --other ../main-checkout/src

A performance change must leave every outcome as it was. This runs the same month (the
generator's seeded deliveries, the simulators, the release at a fixed time, so the bundles'
bytes and ids are the same) once with this tree's code and once with the ``--other`` tree's
(``PYTHONPATH``), then compares the two journals: transmissions (kind, ref, state, file
name, size, SHA-256, counts, sums, their meta without the send time), items (by business key:
state, amount, municipality, date, carrier, payload), memberships, the transmissions' events
in order (their transmission, scope, states, count, reason, actor), each item's history as
that tree's own ``item_history`` tells it (every move: states, reason, actor - whether the
journal wrote it as one event for the item or as one for its bundle), the error list with its
findings, and that each journal's hash chain verifies with the other tree's code. It prints
the first differences and exits 1 when there are any. Ids, times and the chain's hashes
(which cover times) differ between any two runs and are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# A transmission's name that is the same in every run: a delivery's ref is a fresh UUID (the
# platform's), its delivery key is KSD's; a bundle's ref is its id (derived from its content).
_T = "coalesce(t.delivery_key, t.ref)"
_C = "coalesce(c.delivery_key, c.ref)"

# The journal's contents that must not change, each row keyed by what is stable between runs.
QUERIES = {
    "transmissions": (
        f"SELECT kind, {_T}, counterpart, direction, state, file_name, size, sha256, delivery_key, "
        "item_count, total_ore, json_remove(meta, '$.sent_at') FROM transmissions t ORDER BY id"
    ),
    "items": (
        f"SELECT i.counterpart, i.business_key, {_T}, i.amount_ore, i.seq, i.fingerprint, "
        f"i.state, i.data, i.lookup, i.municipality, i.disposition_date, {_C} "
        "FROM items i JOIN transmissions t ON t.id = i.transmission_id "
        "LEFT JOIN transmissions c ON c.id = i.carrier_id ORDER BY i.counterpart, i.business_key"
    ),
    "members": (
        f"SELECT {_T}, m.seq, m.member_key, i.business_key FROM transmission_members m "
        "JOIN transmissions t ON t.id = m.transmission_id JOIN items i ON i.id = m.item_id "
        "ORDER BY t.ref, m.seq"
    ),
    # The items' moves are compared as each item's history (a bundle's move of all its
    # members may be one event, or one per item, and each tree reads back what it wrote).
    "events": (
        f"SELECT {_T}, e.scope, e.from_state, e.to_state, e.count, e.reason, e.actor "
        "FROM events e JOIN transmissions t ON t.id = e.transmission_id "
        "WHERE e.scope = 'transmission' ORDER BY e.id"
    ),
    "errors": (
        f"SELECT e.counterpart, {_T}, e.file_name, e.subject, e.business_key, e.state, "
        "e.resolution, f.code, f.severity, f.message, f.line, f.field, f.expected, f.found, "
        "f.path FROM error_entries e LEFT JOIN transmissions t ON t.id = e.transmission_id "
        "LEFT JOIN error_findings f ON f.entry_id = e.id ORDER BY e.id, f.id"
    ),
}


def month(work: Path, payments: int, per_delivery: int) -> None:
    """The month's stages, in this process (with whichever code ``PYTHONPATH`` gives)."""
    import datetime as dt

    import month_end as m  # bench/, with the code on the path

    from toekgw.adapters.nemkonto import release, send_bundles
    from toekgw.gateway.transport.mq import SqliteQueue

    m.generate(work, payments, per_delivery)
    m.stage_send(work)
    m.stage_receive_g68(work)
    at = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)  # the bundles' CreDtTm: their bytes
    release(m._journal(work), m.SETTINGS, m.RELEASE_DAY, now=at)
    send_bundles(m._journal(work), SqliteQueue(work / "queues.sqlite"), m.SETTINGS)
    m.stage_answers(work)
    m.stage_receive_nemkonto(work)
    m.stage_status(work)


def verify(journal: Path) -> None:
    from toekgw.gateway.journal import open_journal
    from toekgw.gateway.journal.migrations import LATEST

    report = open_journal(_as_known(journal, LATEST)).verify_chain()
    assert report.problems == [], report.problems
    print(json.dumps({"links": report.links, "rows": report.rows}))


def histories(journal: Path, out: Path) -> None:
    """Each item's moves as this tree's ``item_history`` tells them, one JSON line per item
    in business key order (times and ids left out)."""
    from toekgw.gateway.journal import open_journal
    from toekgw.gateway.journal.migrations import LATEST

    opened = open_journal(_as_known(journal, LATEST))
    db = sqlite3.connect(journal)
    with out.open("w") as lines:
        for item_id, counterpart, key in db.execute(
            "SELECT id, counterpart, business_key FROM items ORDER BY counterpart, business_key"
        ):
            moves = [
                (e.from_state, e.to_state, e.reason, e.actor)
                for e in opened.item_history(item_id).events
                if e.scope != "transmission"
            ]
            lines.write(json.dumps([counterpart, key, moves]) + "\n")
    db.close()


def _as_known(journal: Path, latest: int) -> Path:
    """``journal``, or, when a tree with newer migrations wrote it (a branch's new table,
    which this tree would refuse to open), a copy that records only the migrations up to
    ``latest``: the chain covers the tables and columns both trees know."""
    db = sqlite3.connect(journal)
    newest = db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    if newest <= latest:
        db.close()
        return journal
    copy = journal.with_name(f"{journal.stem}-as-{latest}.sqlite")
    copy.unlink(missing_ok=True)
    target = sqlite3.connect(copy)
    db.backup(target)
    db.close()
    target.execute("DELETE FROM schema_migrations WHERE version > ?", (latest,))
    target.commit()
    target.close()
    return copy


def run_in(src: Path, script: str, *args: str) -> str:
    """What ``script ARGS`` prints, run in a child process that imports toekgw from ``src``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(ROOT / "bench")])}
    done = subprocess.run(
        [sys.executable, script, *args], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def cross_check(base: Path, other: Path) -> None:
    """Each tree's journal (``base``/ours, ``base``/theirs) has its chain verified by the other
    tree's code, then the journals are compared row by row; exit 1 when they differ."""
    ours, theirs = base / "ours" / "journal.sqlite", base / "theirs" / "journal.sqlite"
    for name, src, journal in (("ours", other, ours), ("theirs", ROOT / "src", theirs)):
        verified = run_in(src, __file__, "--verify", str(journal)).strip()
        print(f"chain ({name}, verified by the other tree): {verified}")
    differences = compare(ours, theirs)
    told = []
    for src, journal in ((ROOT / "src", ours), (other, theirs)):
        out = journal.with_name("histories.jsonl")
        run_in(src, __file__, "--histories", str(journal), str(out))
        stable = _stable(journal)
        told.append(
            [tuple(stable(v) for v in _rows_of(line)) for line in out.read_text().splitlines()]
        )
    differences += _differ("histories", told[0], told[1], differences)
    print(f"{differences} differences ({base})")
    sys.exit(1 if differences else 0)


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")


def _rows(journal: Path, sql: str) -> list[tuple[object, ...]]:
    """The rows, with what differs in every run named alike (:func:`_stable`)."""
    stable = _stable(journal)
    db = sqlite3.connect(journal)
    rows = [tuple(stable(v) for v in row) for row in db.execute(sql)]
    db.close()
    return rows


def _stable(journal: Path) -> Callable[[object], object]:
    """A value with what differs in every run named alike: each delivery's transfer UUID
    (the platform's) by its delivery key, the run's directory as ``<work>``, times in texts
    as ``<time>``."""
    db = sqlite3.connect(journal)
    # A refused delivery has its key in the meta only, and a ref (a fresh UUID) for a name.
    key = "coalesce(delivery_key, json_extract(meta, '$.delivery_key'))"
    names = db.execute(
        f"SELECT transfer_id, {key} FROM transmissions WHERE transfer_id IS NOT NULL "
        f"UNION ALL SELECT ref, {key} FROM transmissions "
        "WHERE delivery_key IS NULL AND transfer_id IS NOT NULL"
    ).fetchall()
    names.append((str(journal.parent), "<work>"))

    def stable(value: object) -> object:
        if isinstance(value, str):
            for old, new in names:
                value = value.replace(old, new)
            value = _TIME.sub("<time>", value)  # a finding names when the first was journaled
        return value

    db.close()
    return stable


def _rows_of(line: str) -> list[object]:
    counterpart, key, moves = json.loads(line)
    return [counterpart, key, *(value for move in moves for value in move)]


def compare(a: Path, b: Path, limit: int = 10) -> int:
    differences = 0
    for table, sql in QUERIES.items():
        differences += _differ(table, _rows(a, sql), _rows(b, sql), differences, limit)
    return differences


def _differ(
    table: str,
    left: list[tuple[object, ...]],
    right: list[tuple[object, ...]],
    before: int,
    limit: int = 10,
) -> int:
    """The rows that differ (the first printed, up to ``limit`` in all)."""
    differences = 0
    if len(left) != len(right):
        print(f"{table}: {len(left)} rows against {len(right)}")
        differences += 1
    for n, (x, y) in enumerate(zip(left, right, strict=False)):
        if x != y:
            differences += 1
            if before + differences <= limit:
                print(f"{table} row {n}:\n  {x}\n  {y}")
    print(f"{table}: {len(left)} rows compared")
    return differences


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=30_000)
    parser.add_argument("--per-delivery", type=int, default=10_000)
    parser.add_argument("--other", type=Path, required=False, help="the other tree's src/")
    parser.add_argument("--month", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--verify", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--histories", type=Path, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.histories:
        histories(*args.histories)
        return
    if args.month:
        month(args.month, args.payments, args.per_delivery)
        return
    if args.verify:
        verify(args.verify)
        return
    if args.other is None:
        parser.error("--other is required")
    base = Path(tempfile.mkdtemp(prefix="bench-month-compare-"))
    sizes = ["--payments", str(args.payments), "--per-delivery", str(args.per_delivery)]
    for work, src in ((base / "ours", ROOT / "src"), (base / "theirs", args.other)):
        run_in(src, __file__, "--month", str(work), *sizes)
    cross_check(base, args.other)


if __name__ == "__main__":
    main()
