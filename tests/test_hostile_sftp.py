"""A hostile counterpart's IN/ over real SFTP (the asyncssh simulator): each bad entry is
refused alone, on the error list, left in place; the good delivery beside them is received
(issue 11, cases 1, 2, 3 and 11).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from tests.crashkit import Rig, delivery_bytes
from tests.test_inbound import _poll
from toekgw.gateway.journal import open_journal

GOOD = "GOOD.txt"


def _metadata_of(inbox: Path, name: str) -> bytes:
    return (inbox / f"{name}.metadata").read_bytes()


def _plant(rig: Rig) -> Path:
    """A good delivery, and beside it every kind of bad entry this suite knows."""
    inbox = rig.inbox()
    rig.deliver(GOOD, delivery_bytes("G/1", 3))
    rig.deliver("TEMPLATE.txt", delivery_bytes("T/1", 1))
    template = _metadata_of(inbox, "TEMPLATE.txt")
    for name in ("TEMPLATE.txt", "TEMPLATE.txt.metadata"):
        (inbox / name).unlink()
    # 1: a stray element with a prefix of its own in the metadata.
    stray = template.replace(b"TEMPLATE.txt", b"STRAY.txt")
    at = stray.index(b">", stray.index(b"<FileMetadata")) + 1
    (inbox / "STRAY.txt").write_bytes(b"x")
    (inbox / "STRAY.txt.metadata").write_bytes(
        stray[:at] + b'<x:note xmlns:x="urn:x">hi</x:note>' + stray[at:]
    )
    # 2: metadata over 1 MiB.
    (inbox / "BIG.txt").write_bytes(b"x")
    (inbox / "BIG.txt.metadata").write_bytes(b" " * (2 << 20))
    # 3: a name that is not UTF-8, and one with a right-to-left override.
    os.close(os.open(bytes(inbox) + b"/LATIN\xe6.txt", os.O_CREAT | os.O_WRONLY, 0o644))
    os.close(os.open(bytes(inbox) + b"/LATIN\xe6.txt.metadata", os.O_CREAT | os.O_WRONLY, 0o644))
    (inbox / "G68\u202etxt.exe").write_bytes(b"x")
    # 11: a symbolic link as the file, and as its metadata.
    secret = rig.base / "secret.txt"
    secret.write_bytes(b"not for the platform")
    (inbox / "LINK.txt").symlink_to(secret)
    (inbox / "LINK.txt.metadata").write_bytes(template.replace(b"TEMPLATE.txt", b"LINK.txt"))
    (inbox / "LINKMETA.txt").write_bytes(b"x")
    (inbox / "LINKMETA.txt.metadata").symlink_to(secret)
    return inbox


def test_each_bad_entry_is_refused_alone_and_the_good_one_is_received(rig: Rig) -> None:
    inbox = _plant(rig)
    before = sorted(os.listdir(bytes(inbox)))  # noqa: PTH208 (names as the bytes they are)
    outcomes = {o.name: o for o in _poll(rig)}

    assert outcomes[GOOD].status == "received"
    refused = {name: o.message for name, o in outcomes.items() if o.status == "refused"}
    assert "not expected" in refused["STRAY.txt"] and "note" in refused["STRAY.txt"]
    assert "larger than" in refused["BIG.txt"]
    assert any("not valid UTF-8" in m for m in refused.values())
    assert any("invisible format character" in m for m in refused.values())
    assert "symbolic link" in refused["LINK.txt"] and "symbolic link" in refused["LINKMETA.txt"]

    # Left in place, all but the good delivery (and its metadata), which was received.
    after = sorted(os.listdir(bytes(inbox)))  # noqa: PTH208
    assert after == [n for n in before if not n.startswith(GOOD.encode())]
    journal = open_journal(rig.settings.journal)
    entries = journal.errors()
    journal.close()
    listed = {e.file_name for e in entries}
    assert {"STRAY.txt", "BIG.txt", "LINK.txt", "LINKMETA.txt"} <= listed
    assert len(entries) == len(refused)
    # The next poll meets them again and lists none twice.
    _poll(rig)
    db = sqlite3.connect(rig.settings.journal)
    assert db.execute("SELECT count(*) FROM error_entries").fetchone()[0] == len(refused)
