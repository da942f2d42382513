"""SqliteQueue beyond the MQ contract: processes, SIGKILL, its inspection and its file.

The protocol's behaviour (syncpoint, ids, order, waits, backout counts, the backout queue,
close) is asserted once for both implementations in tests/test_mq_contract.py."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from toekgw.gateway.transport.mq import SqliteQueue, message_id

Q = "NKS.REQUEST"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "queues.sqlite"


def test_inspection_sees_held_messages_in_place_and_the_twins_error_queue(db: Path) -> None:
    """What the contract (tests/test_mq_contract.py) cannot see through the protocol: the
    twin's inspection (``depth``, ``browse``, ``error_queue``) and that a poison message keeps
    its backout count on the error queue (IBM MQ's put there starts it again at 0)."""
    with SqliteQueue(db, backout_threshold=3) as q:
        for body in (b"1", b"2", b"3"):
            q.put(Q, body)
        q.commit()
        got = q.get(Q)
        assert got is not None and got.body == b"1"
        assert q.depth(Q) == 2  # the held one is not counted
        q.backout()
        assert [m.body for m in q.browse(Q)] == [b"1", b"2", b"3"]  # back in its place
        for _ in range(2):
            assert q.get(Q) is not None
            q.backout()
        assert [m.body for m in q.browse(Q)] == [b"2", b"3"]
        assert q.error_queue(Q) == "NKS.REQUEST.BACKOUT"
        poisoned = q.browse(q.error_queue(Q))
        assert [(m.body, m.backout_count) for m in poisoned] == [(b"1", 3)]
        for _ in range(2):
            assert q.get(Q) is not None
        q.commit()
        assert q.depth(Q) == 0
    with SqliteQueue(db, backout_queues={Q: "DEAD"}) as q:
        assert q.error_queue(Q) == "DEAD"


def _child(db: Path, code: str) -> subprocess.Popen[str]:
    script = textwrap.dedent(
        f"""
        import sys, time
        from toekgw.gateway.transport.mq import SqliteQueue
        q = SqliteQueue({str(db)!r})
        """
    ) + textwrap.dedent(code)
    return subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_sigkill_before_commit_gives_the_message_back(db: Path) -> None:
    with SqliteQueue(db) as q:
        q.put(Q, b"payment bundle")
        q.commit()
        child = _child(
            db,
            f"""
            m = q.get({Q!r})
            q.put("REPLY", b"answer that must vanish")
            print(m.body.decode(), flush=True)
            time.sleep(60)
            """,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "payment bundle"
        assert q.get(Q) is None  # held by the live child
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        m = q.get(Q, wait=5)
        assert m is not None
        assert (m.body, m.backout_count) == (b"payment bundle", 1)
        assert q.get("REPLY") is None
        q.commit()
    assert not list((db.parent / (db.name + ".owners")).glob("*.lock"))


def test_a_live_slow_owner_keeps_its_message(db: Path) -> None:
    with SqliteQueue(db) as q:
        q.put(Q, b"m")
        q.commit()
        child = _child(
            db,
            f"""
            m = q.get({Q!r})
            print("got", flush=True)
            time.sleep(1.0)
            q.commit()
            print("done", flush=True)
            """,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "got"
        assert q.get(Q, wait=0.3) is None
        assert child.stdout.readline().strip() == "done"
        assert child.wait(timeout=10) == 0
        assert q.get(Q) is None


def test_two_processes_consume_each_message_exactly_once(db: Path) -> None:
    n = 60
    with SqliteQueue(db) as q:
        for i in range(n):
            q.put(Q, str(i).encode())
        q.commit()
    consumer = f"""
        seen = []
        while True:
            m = q.get({Q!r}, wait=0.5)
            if m is None:
                break
            seen.append(m.body.decode())
            q.commit()
        print(" ".join(seen), flush=True)
        q.close()
        """
    children = [_child(db, consumer) for _ in range(2)]
    outputs = [c.communicate(timeout=60)[0].split() for c in children]
    assert all(c.returncode == 0 for c in children)
    assert sorted(int(x) for out in outputs for x in out) == list(range(n))


# -- the bodies apart from the rows that change ---------------------------------------------

_OLD_SCHEMA = """
CREATE TABLE message (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, msg_id BLOB NOT NULL,
    correl_id BLOB, body BLOB NOT NULL, put_at REAL NOT NULL,
    backout_count INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('ready', 'put', 'got')), owner TEXT,
    priority INTEGER NOT NULL DEFAULT 0, properties TEXT
);
CREATE INDEX message_ready ON message (queue, state, seq);
CREATE INDEX message_owner ON message (owner);
CREATE TABLE owner (token TEXT PRIMARY KEY, pid INTEGER NOT NULL, started_at REAL NOT NULL);
"""


def test_a_queue_file_of_the_older_layout_keeps_its_messages(db: Path) -> None:
    old = sqlite3.connect(db)
    old.executescript(_OLD_SCHEMA)
    rows = [
        (Q, message_id("a"), b"first", "ready", None, 0, None),
        (Q, message_id("b"), b"urgent", "ready", None, 5, '{"kind": "stop"}'),
        (Q, message_id("c"), b"put, never committed", "put", "dead", 0, None),
    ]
    old.executemany(
        "INSERT INTO message (queue, msg_id, correl_id, body, put_at, state, owner, priority, "
        "properties) VALUES (?, ?, NULL, ?, 0, ?, ?, ?, ?)",
        [(q, m, b, s, o, p, props) for q, m, b, s, o, p, props in rows],
    )
    old.commit()
    old.close()
    with SqliteQueue(db) as a:
        assert [(m.body, m.properties) for m in a.browse(Q)] == [
            (b"first", {}),
            (b"urgent", {"kind": "stop"}),
        ]
        got = a.get(Q)
        assert got is not None and (got.msg_id, got.body) == (message_id("b"), b"urgent")
        a.commit()
    with SqliteQueue(db) as b:  # opened again: nothing moved twice
        got = b.get(Q)
        assert got is not None and got.body == b"first"
        b.commit()
        assert b.get(Q) is None
    check = sqlite3.connect(db)
    assert "body" not in {r[1] for r in check.execute("PRAGMA table_info(message)")}
    # the put that was never committed stays invisible, and its body goes with its row
    assert check.execute("SELECT count(*) FROM message_body").fetchone()[0] == 1


def test_a_get_and_a_backout_do_not_write_the_body_again(db: Path) -> None:
    """SQLite writes a row whose size changes anew, overflow pages and all: with the body in
    the row, each state change of a message of megabytes wrote all of it to the WAL."""
    body = os.urandom(4_000_000)
    with SqliteQueue(db) as a:
        a.put(Q, body)
        a.commit()
        wal = db.with_name(db.name + "-wal")
        sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert wal.stat().st_size == 0
        got = a.get(Q)
        assert got is not None and got.body == body
        a.backout()
        got = a.get(Q)
        assert got is not None and got.body == body
        assert wal.stat().st_size < 200_000, wal.stat().st_size
        a.commit()
        assert a.get(Q) is None
    left = sqlite3.connect(db).execute("SELECT count(*) FROM message_body").fetchone()[0]
    assert left == 0


def test_a_removed_body_is_gone_from_the_file(db: Path) -> None:
    """A committed get removes the message, and its body's bytes (a payment's CPR numbers)
    with it: overwritten in the file's pages, not only unlinked from the tables, whatever the
    SQLite build's default for ``secure_delete``."""
    marker = b"CPR 0101701234 of a recipient "
    with SqliteQueue(db) as q:
        q.put(Q, marker * 2_000)  # 60 kB: the body fills overflow pages
        q.commit()
        sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert marker in db.read_bytes()  # the check below can see it
        got = q.get(Q)
        assert got is not None
        q.commit()
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    for path in db.parent.glob(db.name + "*"):
        if path.is_file():
            assert marker not in path.read_bytes(), path


@pytest.mark.parametrize(
    "content", [bytes(range(256)) * 16, b"hello, not a database\n"], ids=["binary", "text"]
)
def test_a_file_that_is_not_sqlite_is_named_and_leaves_no_session(
    tmp_path: Path, content: bytes
) -> None:
    from toekgw.gateway.errors import GatewayError

    db = tmp_path / "queues.sqlite"
    db.write_bytes(content)
    with pytest.raises(GatewayError) as caught:
        SqliteQueue(db)
    assert str(caught.value) == f"{db}: not a SQLite database (file is not a database)"
    assert list((tmp_path / "queues.sqlite.owners").iterdir()) == []
    assert db.read_bytes() == content


@pytest.mark.parametrize(
    "simulator",
    [
        ["nemkonto", "--max-seconds", "1"],
        ["eindkomst", "--max-seconds", "1"],
        ["fagsystem", "--municipality", "29189846", "--count", "1"],
    ],
    ids=["nemkonto", "eindkomst", "fagsystem"],
)
def test_the_simulators_name_a_queue_db_that_is_not_sqlite(
    tmp_path: Path, simulator: list[str]
) -> None:
    from click.testing import CliRunner

    from toekgw.cli.main import cli

    db = tmp_path / "queues.sqlite"
    db.write_bytes(bytes(range(256)) * 16)
    kind, *rest = simulator
    result = CliRunner().invoke(cli, ["simulate", kind, "--queue-db", str(db), *rest])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"toekgw: error: {db}: not a SQLite database (file is not a database)"
    )
