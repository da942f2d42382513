"""The simulated platform validates triggers as strictly as the schema says, and its faults."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.crashkit import LineProcessor, Rig, delivery_bytes
from toekgw.formats.serviceplatform import (
    NS,
    ROUTING_RECIPIENT,
    FileContent,
    FileDescriptor,
    RoutingInfo,
    Trigger,
    build_trigger,
    parse_metadata,
    parse_technical_receipt,
)
from toekgw.simulators.serviceplatform import Faults, Platform


def _platform(tmp_path: Path, faults: Faults | None = None) -> Platform:
    platform = Platform(tmp_path / "sp", faults or Faults(), {"urn:oio:cvr-nr:11111111": "toek"})
    for party in ("ksd", "toek"):
        platform.add_party(party)
    return platform


def _upload(platform: Platform, name: str, data: bytes, trigger: bytes) -> None:
    platform.upload("ksd", name, data, trigger)


def _receipt(platform: Platform, name: str):  # type: ignore[no-untyped-def]
    path = platform.party_dir("ksd") / "IN" / f"{name}.sftpreceipt"
    return parse_technical_receipt(path.read_bytes())


def test_trigger_with_external_entity_gets_an_error_receipt_and_nothing_moves(
    tmp_path: Path,
) -> None:
    platform = _platform(tmp_path)
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE Trigger [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Trigger xmlns="' + NS.encode() + b'"><FileDescriptor><FileName>&x;</FileName>'
        b"</FileDescriptor></Trigger>"
    )
    _upload(platform, "A.txt", b"data", evil)
    platform.scan()
    receipt = _receipt(platform, "A.txt")
    (error,) = receipt.errors
    assert error.code == 100 and "DOCTYPE is not allowed" in error.description
    assert list((platform.party_dir("toek") / "IN").iterdir()) == []
    assert platform.deliveries() == []
    assert (platform.party_dir("ksd") / "OUT" / "A.txt").exists()  # the file is not lost


def test_trigger_checks_size_sender_and_name(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    for name, fd, code in (
        ("S.txt", FileDescriptor("S.txt", 99, "ksd", ("toek",)), 102),
        ("W.txt", FileDescriptor("W.txt", 4, "toek", ("toek",)), 103),
        ("N.txt", FileDescriptor("other.txt", 4, "ksd", ("toek",)), 105),
    ):
        _upload(platform, name, b"data", build_trigger(Trigger(fd)))
        platform.scan()
        assert _receipt(platform, name).errors[0].code == code
    assert platform.deliveries() == []


def _routing() -> RoutingInfo:
    """A G68 file's routing to the authority urn:oio:cvr-nr:11111111 (dynamic routing)."""
    return RoutingInfo(
        inf_ref="G68",
        sender_it_system="aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
        sender_authority="urn:oio:cvr-nr:22222222",
        transaction_id="11111111-2222-4333-8444-555555555555",
        sender_timestamp=datetime(2026, 11, 23, tzinfo=UTC),
        recipient_authority="urn:oio:cvr-nr:11111111",
    )


def test_dynamic_routing_delivers_by_recipient_authority(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    routing = _routing()
    fd = FileDescriptor("R.txt", 4, "ksd", (ROUTING_RECIPIENT,), "mine-1")
    _upload(platform, "R.txt", b"data", build_trigger(Trigger(fd, FileContent(routing))))
    platform.scan()
    receipt = _receipt(platform, "R.txt")
    assert receipt.ok and receipt.senders_file_id == "mine-1"
    inbox = platform.party_dir("toek") / "IN"
    metadata = parse_metadata((inbox / "R.txt.metadata").read_bytes())
    assert metadata.transfer_uuid == receipt.transfer_uuid
    assert metadata.content.routing == routing
    assert (inbox / "R.txt").read_bytes() == b"data"


def test_file_without_metadata_is_never_taken(tmp_path: Path) -> None:
    from toekgw.cli.receive._common import receive_once

    rig = Rig(tmp_path, Faults(without_metadata=True)).start()
    try:
        rig.deliver("NOMETA.txt", delivery_bytes("S1/1", 2))
        (outcome,) = receive_once(rig.settings, "lines", LineProcessor)
        assert outcome.status == "waiting"
        assert [p.name for p in rig.inbox().iterdir()] == ["NOMETA.txt"]
    finally:
        rig.stop()


def test_flipped_byte_of_the_right_size_is_caught_by_the_format(tmp_path: Path) -> None:
    from toekgw.cli.receive._common import receive_once
    from toekgw.gateway.journal import open_journal

    rig = Rig(tmp_path, Faults(corrupt="flip")).start()
    try:
        rig.deliver("FLIP.txt", delivery_bytes("S1/2", 3))
        (outcome,) = receive_once(rig.settings, "lines", LineProcessor)
        assert outcome.status == "rejected"
        (entry,) = open_journal(rig.settings.journal).errors()
        assert entry.findings  # the control totals or a record no longer add up
    finally:
        rig.stop()


def test_a_scan_while_an_upload_is_written_sees_no_half_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The simulator's scanner runs in a thread of its own: it must never take a trigger
    that is still being written (it would refuse it as invalid, and the file never comes)."""
    platform = _platform(tmp_path)
    real_open = Path.open
    during: list[int] = []

    def open_then_scan(path: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(path, mode, *args, **kwargs)
        if "w" in mode and path.parent.name == "OUT":
            during.append(platform.scan())  # the scanner, as a file is being written
        return handle

    monkeypatch.setattr(Path, "open", open_then_scan)
    data = delivery_bytes("S1/00001", 3)
    trigger = build_trigger(Trigger(FileDescriptor("G68_1.txt", len(data), "ksd", ("toek",))))
    platform.upload("ksd", "G68_1.txt", data, trigger)
    assert during == [0, 0]
    assert platform.scan() == 1
    assert (platform.party_dir("toek") / "IN" / "G68_1.txt").read_bytes() == data
    assert not _receipt(platform, "G68_1.txt").errors


def test_a_route_to_a_party_not_on_the_platform_gets_an_error_receipt(tmp_path: Path) -> None:
    """``--route KEY=PARTY`` naming no party of the platform: the sender gets an error receipt
    (unknown recipient), as for a named recipient, and the platform goes on routing."""
    platform = _platform(tmp_path)
    platform.routes["urn:oio:cvr-nr:11111111"] = "nobody"
    routing = _routing()
    fd = FileDescriptor("R.txt", 4, "ksd", (ROUTING_RECIPIENT,), "mine-1")
    _upload(platform, "R.txt", b"data", build_trigger(Trigger(fd, FileContent(routing))))
    next_one = FileDescriptor("N.txt", 4, "ksd", ("toek",))
    _upload(platform, "N.txt", b"next", build_trigger(Trigger(next_one)))
    assert platform.scan() == 2
    (error,) = _receipt(platform, "R.txt").errors
    assert error.code == 104 and "nobody" in error.description
    assert (platform.party_dir("ksd") / "OUT" / "R.txt").exists()  # the file is not lost
    assert not (platform.root / "parties" / "nobody").exists()
    assert (platform.party_dir("toek") / "IN" / "N.txt").read_bytes() == b"next"


def test_a_party_another_simulator_made_without_in_gets_its_receipt(tmp_path: Path) -> None:
    """`toekgw simulate klassifikation --root ROOT` on a platform started with its default
    parties makes parties/klassifikation/OUT only: its delivery is routed and its receipt
    written to an IN/ made for it (the pick-up used to fail there, for every file after)."""
    from click.testing import CliRunner

    from toekgw.cli.main import cli

    platform = _platform(tmp_path)
    published = CliRunner().invoke(cli, [
        "simulate", "klassifikation", "--root", str(platform.root),
        "--sortiment", "0b5b6c1e-2f51-4c5e-8f38-6a3a3b0c9d11", "--code", "5.57.72/1/5.2",
        "--start", "2026-12-01",
    ])  # fmt: skip
    assert published.exit_code == 0, published.output
    next_one = FileDescriptor("N.txt", 4, "ksd", ("toek",))
    _upload(platform, "N.txt", b"next", build_trigger(Trigger(next_one)))
    assert platform.scan() == 2
    name = "SORTIMENT_0b5b6c1e-2f51-4c5e-8f38-6a3a3b0c9d11_000001.xml"
    home = platform.root / "parties" / "klassifikation"
    assert parse_technical_receipt((home / "IN" / f"{name}.sftpreceipt").read_bytes()).ok
    inbox = platform.party_dir("toek") / "IN"
    assert sorted(p.name for p in inbox.iterdir()) == sorted(
        [name, f"{name}.metadata", "N.txt", "N.txt.metadata"]
    )


def test_the_pick_up_goes_on_after_a_scan_that_failed(tmp_path: Path) -> None:
    """An error in one pick-up (a disk error, a party's directory gone) is logged; the
    server's scanner scans again, and stopping the simulator raises nothing."""
    import threading

    from toekgw.simulators.serviceplatform import ServiceplatformSimulator

    sim = ServiceplatformSimulator(tmp_path / "sp", parties=("ksd", "toek"), scan_interval=0.01)
    calls: list[int] = []
    again = threading.Event()

    def scan() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        again.set()
        return 0

    sim.platform.scan = scan  # type: ignore[method-assign]
    with sim:
        assert again.wait(10), "the scanner stopped after the failed scan"
