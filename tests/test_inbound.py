"""The generic inbound pipeline against the SFTP simulator (asyncssh on 127.0.0.1)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from tests.crashkit import LineProcessor, Rig, delivery_bytes
from toekgw.adapters.serviceplatform import (
    open_transport,
    receive_pipeline,
    receive_profile,
    serviceplatform_settings,
)
from toekgw.formats.findings import Severity
from toekgw.formats.serviceplatform import NS
from toekgw.gateway.inbound import InboundPipeline, Outcome
from toekgw.gateway.journal import SqliteJournal, open_journal
from toekgw.gateway.transport import LocalDirTransport


def _pipeline(rig: Rig, journal: SqliteJournal) -> InboundPipeline:
    settings = rig.settings
    return receive_pipeline(
        journal,
        open_transport(serviceplatform_settings(settings)),
        LineProcessor(receive_profile(settings, "lines")),
        party="toek",
        senders=["ksd"],
        staging=settings.staging,
    )


def _poll(rig: Rig) -> list[Outcome]:
    journal = open_journal(rig.settings.journal)
    pipeline = _pipeline(rig, journal)
    try:
        return pipeline.poll_once()
    finally:
        pipeline.transport.close()
        journal.close()


def _counts(rig: Rig) -> tuple[int, int, int]:
    db = sqlite3.connect(rig.settings.journal)
    return tuple(  # type: ignore[return-value]
        db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("transmissions", "items", "error_entries")
    )


def test_receives_straks_first_journals_items_then_removes_remote(rig: Rig) -> None:
    rig.deliver("G68_A.txt", delivery_bytes("S1/00001", 30))
    rig.deliver("STRAKS_B.txt", delivery_bytes("S1/00002", 5, prefix="Q"))
    outcomes = _poll(rig)
    assert [(o.name, o.status) for o in outcomes] == [
        ("STRAKS_B.txt", "received"),
        ("G68_A.txt", "received"),
    ]
    assert sorted(p.name for p in rig.inbox().iterdir()) == []
    journal = open_journal(rig.settings.journal)
    txs = journal.transmissions()
    assert [(t.file_name, t.state, t.item_count) for t in txs] == [
        ("STRAKS_B.txt", "received", 5),
        ("G68_A.txt", "received", 30),
    ]
    kept = Path(txs[1].local_path or "")
    assert kept.read_bytes() == delivery_bytes("S1/00001", 30)
    history = journal.item_history(journal.find_items("P0000007")[0].id)
    reasons = [e.reason for e in history.events]
    # In time order: metadata, download, validation, items, remote clean-up.
    assert reasons[0].startswith("metadata G68_A.txt.metadata read: transfer")
    assert reasons[1].startswith("downloaded IN/G68_A.txt")
    assert reasons[2].startswith("validated: 30 payments")
    assert reasons[-1].startswith("remote copy removed")


def test_duplicates_by_file_and_by_delivery_are_refused_and_add_nothing(rig: Rig) -> None:
    data = delivery_bytes("S1/00001", 10)
    rig.deliver("G68_A.txt", data)
    _poll(rig)
    before = _counts(rig)
    rig.deliver("G68_A.txt", data)  # the same file again (a new transfer)
    rig.deliver("G68_A_renamed.txt", data)  # the same file under another name
    other_bytes = delivery_bytes("S1/00001", 10, prefix="R")  # same delivery, new content
    rig.deliver("G68_C.txt", other_bytes)
    outcomes = _poll(rig)
    assert {o.name: o.status for o in outcomes} == {
        "G68_A.txt": "duplicate",
        "G68_A_renamed.txt": "duplicate",
        "G68_C.txt": "duplicate",
    }
    messages = {o.name: o.message for o in outcomes}
    assert "already received as transmission #1 'G68_A.txt'" in messages["G68_A_renamed.txt"]
    assert (
        "delivery 'S1/00001' of ksd was already received as transmission #1"
        in (messages["G68_C.txt"])
    )
    assert _counts(rig)[:2] == before[:2]
    assert list(rig.inbox().iterdir()) == []
    duplicates = rig.settings.staging / "ksd" / "duplicates"
    assert sorted(p.name.split("-", 5)[-1] for p in duplicates.iterdir()) == [
        "G68_A.txt",
        "G68_A_renamed.txt",
        "G68_C.txt",
    ]


def test_invalid_delivery_goes_on_the_error_list_with_all_findings(rig: Rig) -> None:
    bad = delivery_bytes("S1/00003", 4).replace(b"P0000001;101", b"P0000001;1x1")
    bad = bad.replace(b"END 4", b"END 9")
    rig.deliver("G68_BAD.txt", bad)
    (outcome,) = _poll(rig)
    assert outcome.status == "rejected"
    journal = open_journal(rig.settings.journal)
    (tx,) = journal.transmissions()
    assert (tx.state, tx.item_count, tx.delivery_key) == ("error-listed", 0, None)
    (entry,) = journal.errors()
    assert [f.code for f in entry.findings] == ["T-RECORD", "T-TOTALS"]
    assert entry.findings[0].line == 3 and entry.findings[0].file == "G68_BAD.txt"
    assert Path(tx.local_path or "").read_bytes() == bad
    # A corrected delivery may reuse the number: the rejected one did not claim it.
    rig.deliver("G68_FIXED.txt", delivery_bytes("S1/00003", 4))
    assert [o.status for o in _poll(rig)] == ["received"]


def test_duplicate_payment_control_across_deliveries(rig: Rig) -> None:
    rig.deliver("ONE.txt", delivery_bytes("S1/00010", 3))
    _poll(rig)
    # Same beneficiary and amount, new payment keys: a likely duplicate, reported.
    again = delivery_bytes("S1/00011", 3).replace(b"P000", b"X000")
    rig.deliver("TWO.txt", again)
    assert [o.status for o in _poll(rig)] == ["received"]
    journal = open_journal(rig.settings.journal)
    (entry,) = journal.errors()
    assert entry.subject == "record" and len(entry.findings) == 3
    finding = entry.findings[0]
    assert finding.severity is Severity.WARNING and finding.code == "JOURNAL-DUP-PAYMENT"
    assert (
        "'X0000000' matches item 'P0000000'" in finding.message and "'ONE.txt'" in finding.message
    )


def test_incomplete_hostile_or_foreign_files_are_left_untouched(rig: Rig) -> None:
    inbox = rig.inbox()
    (inbox / "NOMETA.txt").write_bytes(b"x")
    (inbox / "EVIL.txt").write_bytes(b"x")
    (inbox / "EVIL.txt.metadata").write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE FileMetadata [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<FileMetadata xmlns="' + NS.encode() + b'"><FileTransferUUID>&e;</FileTransferUUID>'
        b"</FileMetadata>"
    )
    (inbox / "bad\\name.txt").write_bytes(b"x")
    rig.deliver("FORERP.txt", delivery_bytes("E/1", 1), sender="erp")
    outcomes = {o.name: (o.status, o.message) for o in _poll(rig)}
    assert outcomes["NOMETA.txt"] == ("waiting", "no metadata yet (not complete)")
    assert outcomes["EVIL.txt"][0] == "refused"
    assert "DOCTYPE is not allowed" in outcomes["EVIL.txt"][1]
    assert outcomes["'bad\\\\name.txt'"][0] == "refused"
    assert "contains a '\\'" in outcomes["'bad\\\\name.txt'"][1]
    assert "FORERP.txt" not in outcomes  # another sender's file: not ours to touch
    # The two refused files are on the error list, once however often they are met.
    assert _counts(rig) == (0, 0, 2)
    _poll(rig)
    assert _counts(rig) == (0, 0, 2)
    assert len(list(inbox.iterdir())) == 6


def test_damaged_file_is_rejected_and_redelivery_is_refused(tmp_path: Path) -> None:
    from toekgw.simulators.serviceplatform import Faults

    rig = Rig(tmp_path, Faults(corrupt="truncate", deliver_twice=True)).start()
    try:
        rig.deliver("CUT.txt", delivery_bytes("S1/00020", 50))
        (outcome,) = _poll(rig)
        assert outcome.status == "rejected"
        journal = open_journal(rig.settings.journal)
        (entry,) = journal.errors()
        assert entry.findings[0].code == "INBOUND-SIZE"
        rig.sim.platform.scan()  # the platform delivers the same transfer a second time
        (again,) = _poll(rig)
        assert again.status == "duplicate" and "transfer" in again.message
        assert _counts(rig)[0] == 1
    finally:
        rig.stop()


# paramiko's read-ahead thread may fail when the connection drops: no traceback of it (the
# warning pytest gives for an exception no hook took) - tests/test_sftp_read_ahead.py.
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_dropped_connection_mid_transfer_is_retried(tmp_path: Path) -> None:
    from toekgw.gateway.transport._read_ahead import _ReadAheadHook
    from toekgw.simulators.serviceplatform import Faults

    rig = Rig(tmp_path, Faults(drop_after_bytes=200_000, drops=1)).start()
    try:
        rig.deliver("BIG.txt", delivery_bytes("S1/00030", 20_000))
        (outcome,) = _poll(rig)
        assert outcome.status == "received", outcome
        assert rig.sim.faults.drops == 0  # the fault did fire
        assert isinstance(threading.excepthook, _ReadAheadHook)  # the fetch quieted it
        assert _counts(rig)[1] == 20_000
    finally:
        rig.stop()


def test_pipeline_runs_on_a_local_directory_too(tmp_path: Path, rig: Rig) -> None:
    rig.deliver("LOCAL.txt", delivery_bytes("S1/00040", 3))
    journal = open_journal(tmp_path / "j.sqlite")
    pipeline = receive_pipeline(
        journal,
        LocalDirTransport(rig.sim.platform.party_dir("toek")),
        LineProcessor(),
        party="toek",
        senders=["ksd"],
        staging=tmp_path / "staging",
        after_receive="archive",
        archive_dir="IN/archive",
    )
    (rig.inbox() / "archive").mkdir()
    assert [o.status for o in pipeline.poll_once()] == ["received"]
    assert sorted(p.name for p in (rig.inbox() / "archive").iterdir()) == [
        "LOCAL.txt",
        "LOCAL.txt.metadata",
    ]


def test_a_second_receive_of_the_same_counterpart_is_refused_while_one_runs(rig: Rig) -> None:
    import fcntl

    from toekgw.gateway.errors import GatewayError

    journal = open_journal(rig.settings.journal)
    pipeline = _pipeline(rig, journal)
    with (pipeline.root / ".lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(GatewayError, match="another receive for ksd is running"):
            pipeline.poll_once()
    assert pipeline.poll_once() == []
