"""A damaged journal is never trusted (issue 11, cases 5, 6 and part of 12).

A garbled journal fails ``PRAGMA quick_check``: ``toekgw doctor`` says so, and the commands
that move money refuse to run on it. An existing empty or foreign file is not taken for a
fresh install: that would forget every delivery, file and payment already journaled.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.test_nemkonto_flow_cli import CONFIG
from toekgw.cli.main import cli
from toekgw.gateway.journal import JournalError, open_journal

PAGE = 4096


def _run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(config)], obj={"debug": False})


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "toekgw.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def _journal_path(config: Path) -> Path:
    return config.parent / "var" / "journal.sqlite"


def _garble(path: Path) -> None:
    """Junk over the b-tree pages of the second half of the file (page 1 stays readable)."""
    data = bytearray(path.read_bytes())
    pages = len(data) // PAGE
    assert pages > 8, "the journal must span several pages for this test"
    for page in range(pages // 2, pages):
        data[page * PAGE : page * PAGE + 64] = b"\xa5" * 64
    path.write_bytes(bytes(data))


def test_a_garbled_journal_fails_doctor_and_money_does_not_move(config: Path) -> None:
    journal = open_journal(_journal_path(config))
    journal_delivery(journal, [instruction(n) for n in range(1, 301)])
    assert journal.integrity_problems() == []
    journal.close()
    _garble(_journal_path(config))

    doctor = _run(config, "doctor")
    assert doctor.exit_code == 2
    assert "FAIL journal" in doctor.output and "integrity check" in doctor.output

    for command in (["nemkonto", "release", "--today", "2026-11-23"], ["nemkonto", "send"]):
        result = _run(config, *command)
        assert result.exit_code == 2, result.output
        assert "fails its integrity check" in result.stderr and "nothing was done" in result.stderr
        assert "Traceback" not in result.output + result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    with pytest.raises(JournalError, match="integrity check"):
        open_journal(_journal_path(config), verify=True)


def test_a_sound_journal_passes_doctor_with_the_time_it_took(config: Path) -> None:
    open_journal(_journal_path(config)).close()
    doctor = _run(config, "doctor")
    assert "integrity check passed in" in doctor.output, doctor.output


def test_a_zero_length_journal_is_refused_not_taken_for_a_new_one(config: Path) -> None:
    path = _journal_path(config)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    with pytest.raises(JournalError, match="empty file"):
        open_journal(path)
    result = _run(config, "nemkonto", "release", "--today", "2026-11-23")
    assert result.exit_code == 2 and "is an empty file (0 bytes)" in result.stderr
    assert path.stat().st_size == 0  # left as it was, for the operator to restore


@pytest.mark.parametrize(
    "content",
    [b"\x00\xff binary junk \x01" * 100, b"[journal]\npath = 'x'\n"],
    ids=["binary", "text"],
)
def test_a_foreign_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "journal.sqlite"
    path.write_bytes(content)
    with pytest.raises(JournalError, match="not a SQLite database"):
        open_journal(path)
    assert path.read_bytes() == content


def test_somebody_elses_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers(id INTEGER)")
    db.close()
    with pytest.raises(JournalError, match="not a toekgw journal"):
        open_journal(path)


def test_a_journal_path_under_a_file_is_one_clear_line(config: Path) -> None:
    blocker = config.parent / "var"
    blocker.write_text("not a directory")
    status = _run(config, "status")
    assert status.exit_code == 2
    assert "cannot open the journal" in status.stderr
    assert "var is a file, not a directory" in status.stderr
    release = _run(config, "nemkonto", "release", "--today", "2026-11-23")
    assert release.exit_code == 2 and "var is a file, not a directory" in release.stderr
    for result in (status, release):
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


_OPEN = "import sys; from toekgw.gateway.journal import open_journal; open_journal(sys.argv[1])"


def _open_as_another_user(journal: Path) -> subprocess.CompletedProcess[str]:
    """Open ``journal`` in a process that may not write it: as uid 65534 when this runs as
    root (root may write any file), else as this user."""
    prefix = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    return subprocess.run(
        [*prefix, sys.executable, "-c", _OPEN, str(journal)],
        capture_output=True, text=True, env=os.environ | {"PYTHONPATH": _SOURCES},
    )  # fmt: skip


_SOURCES = str(Path(__file__).resolve().parents[1] / "src")


@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_journal_this_user_may_not_write_is_not_called_damaged(what: str) -> None:
    """A journal the user may not write (or whose directory it may not write: the -wal and
    -shm files are made there) was reported as damaged, with the advice to restore it from a
    backup: the wrong diagnosis, and harmful advice."""
    where = Path(tempfile.mkdtemp())  # not under pytest's tmp_path: that is private to us
    try:
        journal = where / "journal.sqlite"
        open_journal(journal).close()
        where.chmod(0o755 if what == "file" else 0o555)
        journal.chmod(0o444 if what == "file" else 0o666)
        done = _open_as_another_user(journal)
        assert done.returncode == 1, done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert f"the journal {journal} cannot be written: attempt to write a readonly" in last
        assert (
            f"may not {'read and write the file' if what == 'file' else 'write its directory'}"
            in last
        )
        assert "damaged" not in last and "backup" not in last
    finally:
        where.chmod(0o755)
        shutil.rmtree(where)
