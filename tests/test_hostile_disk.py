"""A full disk: one clear line naming the path and the cause, no retry, and no partial or
staged file left behind to keep the disk full (issue 11, case 9).

Runs on a tiny tmpfs where the tests run as root (CI and this project's machines); elsewhere
the same paths are driven by an injected ENOSPC, and the test says which ran.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.crashkit import Rig, delivery_bytes
from tests.test_inbound import _poll
from toekgw.gateway.journal import JournalError, open_journal
from toekgw.gateway.transport.files import LocalDiskError


@contextmanager
def tiny_disk(path: Path, size: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``path`` on a tmpfs of ``size``; without root, writes there fail with ENOSPC by
    injection. Yields which of the two ran."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = os.geteuid() == 0 and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            capture_output=True,
        ).returncode
        == 0
    )
    if not mounted:
        real_fsync = os.fsync

        def full(fd: int) -> None:
            if str(Path(f"/proc/self/fd/{fd}").readlink()).startswith(str(path)):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", full)
    try:
        yield "tmpfs" if mounted else "injected ENOSPC"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=True)


def test_a_full_staging_disk_is_one_line_and_leaves_no_part_file(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.deliver("BIG.txt", delivery_bytes("B/1", 20_000))  # about 560 KB
    staging = rig.base / "var" / "staging"
    with tiny_disk(staging, "256k", monkeypatch) as how:
        print(f"disk full by {how}")
        with pytest.raises(LocalDiskError) as info:
            _poll(rig)
        leftovers = [p for p in staging.rglob("*") if p.is_file() and p.name != ".lock"]
    message = str(info.value)
    assert "no space left on the device (the disk is full)" in message, message
    assert str(staging) in message
    assert leftovers == []
    assert (rig.inbox() / "BIG.txt").exists()  # still there for the next poll
    journal = open_journal(rig.settings.journal)
    assert journal.transmissions() == []
    journal.close()
    (outcome,) = _poll(rig)  # with room again, the same file is received
    assert outcome.status == "received"


def test_a_full_journal_disk_is_one_line_and_leaves_nothing_staged(rig: Rig) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs a tmpfs (root) to fill the journal's own disk")
    var = rig.base / "var"
    rig.deliver("MANY.txt", delivery_bytes("M/1", 3_000))  # about 90 KB, 3,000 items
    open_journal(rig.settings.journal).close()
    journal_bytes = (var / "journal.sqlite").read_bytes()
    with tiny_disk(var, "400k", pytest.MonkeyPatch()):
        (var / "journal.sqlite").write_bytes(journal_bytes)
        with pytest.raises(JournalError, match="the disk is full") as info:
            _poll(rig)
        staged = [p for p in (var / "staging").rglob("*") if p.is_file() and p.name != ".lock"]
        wal = var / "journal.sqlite-wal"
        wal_size = wal.stat().st_size if wal.exists() else 0
        journal = open_journal(rig.settings.journal)
        assert journal.transmissions() == []
        journal.close()
    assert "nothing of this step was journaled" in str(info.value)
    assert staged == []
    assert wal_size < 64 * 1024, wal_size  # the WAL gave back what the failed step took
