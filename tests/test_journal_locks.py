"""Several connections to one SQLite journal in one process (the service's jobs, a callback
server beside the CLI): opening another must not drop the locks the first holds. POSIX drops
all of a process's locks on a file when any of its descriptors on that file is closed; a
process closing its connection then takes itself for the last one and deletes the WAL under
the first connection, whose next commits nobody else sees (sqlite.org/howtocorrupt.html 2.2).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.nemkonto_flow_data import instruction, journal_delivery
from toekgw.gateway.journal import JournalError, SqliteJournal, open_journal

_COUNT = (
    "import sys; from toekgw.gateway.journal import open_journal; "
    "j = open_journal(sys.argv[1]); "
    "print(j._db.execute('SELECT count(*) FROM items').fetchone()[0]); j.close()"
)


def _items_seen_by_another_process(path: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _COUNT, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_a_second_connection_in_the_process_keeps_the_first_ones_commits_visible(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    first = open_journal(path)
    journal_delivery(first, [instruction(n) for n in range(1, 4)], delivery=1)
    open_journal(path).close()  # e.g. a job of the service opening and closing the journal
    assert _items_seen_by_another_process(path) == 3  # another process opens and closes it
    journal_delivery(first, [instruction(n) for n in range(4, 6)], delivery=2)
    assert _items_seen_by_another_process(path) == 5
    assert (tmp_path / "journal.sqlite-wal").exists()
    first.close()


def test_a_write_lock_held_too_long_is_busy_not_damaged(tmp_path: Path) -> None:
    """Another process holding the journal's write lock past the wait (a long release, one
    stopped mid-step) used to be reported as a damaged journal to restore from a backup,
    which would throw that process's work away; it is one line saying the journal is busy."""
    path = tmp_path / "journal.sqlite"
    open_journal(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(JournalError) as opening:
            SqliteJournal(path, busy_timeout=0.05)  # opening migrates: a write
        holder.execute("ROLLBACK")
        journal = SqliteJournal(path, busy_timeout=0.05)
        try:
            holder.execute("BEGIN IMMEDIATE")
            with pytest.raises(JournalError) as writing, journal.transaction():
                pass
            holder.execute("ROLLBACK")
            with journal.transaction():  # free again: the journal is usable as it was
                pass
        finally:
            journal.close()
    finally:
        holder.close()
    for refused in (opening.value, writing.value):
        text = str(refused)
        assert "is busy: another process has held its write lock" in text, text
        assert "damaged" not in text and "backup" not in text
        assert refused.exit_code == 2
