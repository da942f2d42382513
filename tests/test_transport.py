"""The file-transport protocol on both implementations, host-key pinning, faults, names."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.crashkit import Rig
from toekgw.adapters.serviceplatform import serviceplatform_settings
from toekgw.gateway.transport import (
    FileTransport,
    HostKeyError,
    LocalDirTransport,
    LoginError,
    RemoteNameError,
    SftpTransport,
    TransportError,
    check_remote_name,
)
from toekgw.simulators.serviceplatform import ensure_key


def _sftp(rig: Rig, **changes: object) -> SftpTransport:
    sftp = serviceplatform_settings(rig.settings).sftp
    assert sftp is not None
    return SftpTransport(replace(sftp, retry_wait=0.05, **changes))  # type: ignore[arg-type]


@pytest.fixture(params=["sftp", "localdir"])
def transport(request: pytest.FixtureRequest, rig: Rig) -> Iterator[FileTransport]:
    if request.param == "sftp":
        chosen: FileTransport = _sftp(rig)
    else:
        chosen = LocalDirTransport(rig.sim.platform.party_dir("toek"))
    with chosen:
        yield chosen


def test_protocol_round_trip(transport: FileTransport, tmp_path: Path) -> None:
    local = tmp_path / "up.bin"
    local.write_bytes(bytes(range(256)) * 10_000)
    transport.put(local, "OUT/up.bin")
    listed = transport.list("OUT")
    assert [(f.name, f.size) for f in listed] == [("up.bin", 2_560_000)]
    transport.put_bytes(b"second", "OUT/up.bin")  # replaces, through a temporary name
    assert transport.read_bytes("OUT/up.bin", limit=100) == b"second"
    with pytest.raises(TransportError, match="larger than 3 bytes"):
        transport.read_bytes("OUT/up.bin", limit=3)
    transport.put(local, "OUT/up.bin")
    fetched = transport.fetch("OUT/up.bin", tmp_path / "down.bin")
    assert (tmp_path / "down.bin").read_bytes() == local.read_bytes()
    assert fetched.size == 2_560_000 and len(fetched.sha256) == 64
    transport.rename("OUT/up.bin", "IN/moved.bin")
    assert transport.stat("OUT/up.bin") is None
    stat = transport.stat("IN/moved.bin")
    assert stat is not None and stat.size == 2_560_000
    transport.remove("IN/moved.bin")
    with pytest.raises(FileNotFoundError):
        transport.remove("IN/moved.bin")
    assert [f.name for f in transport.list("OUT")] == []  # no temporary left behind


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("..", "a directory reference"),
        (".", "a directory reference"),
        ("../etc/passwd", "a '/'"),
        ("a/b", "a '/'"),
        ("a\\b", "a '\\'"),
        ("a\x00b", "a NUL byte"),
        ("a\nb", "a control char"),
        ("", "empty"),
    ],
)
def test_unsafe_remote_names_are_refused(name: str, why: str) -> None:
    with pytest.raises(RemoteNameError, match="refused remote file name") as info:
        check_remote_name(name)
    assert why in str(info.value)


def test_transports_refuse_traversal_in_paths(transport: FileTransport, tmp_path: Path) -> None:
    with pytest.raises(RemoteNameError):
        transport.stat("IN/../../etc/passwd")
    with pytest.raises(RemoteNameError):
        transport.fetch("IN/..", tmp_path / "x")


def test_unknown_host_key_is_refused_with_fingerprint(rig: Rig, tmp_path: Path) -> None:
    other = tmp_path / "known_hosts"
    other.write_text("")
    with pytest.raises(HostKeyError, match="is not in") as info, _sftp(rig, known_hosts=other) as t:
        t.list("IN")
    assert rig.sim.fingerprint() in str(info.value)
    assert "toekgw doctor" in str(info.value)


def test_changed_host_key_is_refused(rig: Rig, tmp_path: Path) -> None:
    impostor = ensure_key(tmp_path / "impostor")
    line = impostor.export_public_key("openssh").decode().split()
    pinned = tmp_path / "known_hosts"
    pinned.write_text(f"[127.0.0.1]:{rig.sim.port} {line[0]} {line[1]}\n")
    with (
        pytest.raises(HostKeyError, match="has CHANGED") as info,
        _sftp(rig, known_hosts=pinned) as t,
    ):
        t.list("IN")
    assert rig.sim.fingerprint() in str(info.value)


def test_missing_known_hosts_is_refused(rig: Rig, tmp_path: Path) -> None:
    with pytest.raises(HostKeyError, match="no known_hosts file"):
        _sftp(rig, known_hosts=tmp_path / "none").list("IN")


def test_refused_login_is_permanent_not_retried(rig: Rig) -> None:
    rig.sim.faults.refuse_logins = 5
    with pytest.raises(LoginError, match="refused the login"), _sftp(rig, retries=3) as t:
        t.list("IN")
    assert rig.sim.faults.refuse_logins == 4  # one attempt only


def test_dropped_upload_is_retried_on_a_new_connection(rig: Rig, tmp_path: Path) -> None:
    rig.sim.faults.drop_after_bytes = 100_000
    local = tmp_path / "up.bin"
    local.write_bytes(b"z" * 600_000)
    with _sftp(rig) as t:
        t.put(local, "OUT/up.bin")
        assert rig.sim.faults.drops == 0
        stat = t.stat("OUT/up.bin")
    assert stat is not None and stat.size == 600_000


def test_slow_server_times_out_after_bounded_retries(rig: Rig) -> None:
    rig.sim.faults.delay = 3.0
    rig.sim.platform.party_dir("toek").joinpath("IN", "f").write_bytes(b"x" * 10)
    with (
        pytest.raises(TransportError, match="failed after 2 attempts"),
        _sftp(rig, timeout=0.3, retries=1) as t,
    ):
        t.read_bytes("IN/f", limit=100)


def test_a_local_directory_that_is_missing_or_a_file_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(TransportError, match=r"/missing does not exist$"):
        LocalDirTransport(tmp_path / "missing")
    with pytest.raises(TransportError, match=r"/file is not a directory$"):
        LocalDirTransport(tmp_path / "file")
