"""SftpTransport and the inbound pipeline against a real OpenSSH sshd on 127.0.0.1.

Runs whenever ``/usr/sbin/sshd`` exists (a temporary config, host key, client key and port);
skipped otherwise, unless ``TOEKGW_REQUIRE_SSHD=1`` (set by ``.ci/run``), which makes a missing
sshd a failure, so CI cannot silently skip it.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.crashkit import LineProcessor, delivery_bytes
from toekgw.adapters.serviceplatform import receive_pipeline
from toekgw.formats.serviceplatform import FileDescriptor, Trigger, build_trigger
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport import HostKeyError, SftpSettings, SftpTransport
from toekgw.simulators.serviceplatform import Platform, ensure_key

SSHD = (
    Path("/usr/sbin/sshd")
    if Path("/usr/sbin/sshd").exists()
    else Path(shutil.which("sshd") or "/usr/sbin/sshd")
)


@dataclass
class Sshd:
    port: int
    settings: SftpSettings
    home: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if not SSHD.exists():
        if os.environ.get("TOEKGW_REQUIRE_SSHD") == "1":
            pytest.fail(f"TOEKGW_REQUIRE_SSHD=1 but {SSHD} is not installed")
        pytest.skip(f"{SSHD} is not installed (apt-get install openssh-server)")
    base = tmp_path_factory.mktemp("sshd")
    host_key = base / "ssh_host_ed25519_key"
    host = ensure_key(host_key)
    client = base / "id_ed25519"
    ensure_key(client)
    authorized = base / "authorized_keys"
    authorized.write_text(Path(f"{client}.pub").read_text())
    port = _free_port()
    config = base / "sshd_config"
    config.write_text(
        f"""Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile none
AuthorizedKeysFile {authorized}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowUsers {getpass.getuser()}
Subsystem sftp internal-sftp
LogLevel ERROR
"""
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    proc = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                output = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"sshd exited with {proc.returncode}: {output}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("sshd did not start listening within 15 s")
                time.sleep(0.1)
        public = host.export_public_key("openssh").decode().split()
        known = base / "known_hosts"
        known.write_text(f"[127.0.0.1]:{port} {public[0]} {public[1]}\n")
        settings = SftpSettings(
            "127.0.0.1", port, getpass.getuser(), client, known, 10, 10, 1, 0.05
        )
        yield Sshd(port, settings, base)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_protocol_against_openssh(sshd: Sshd, tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    (remote / "OUT").mkdir(parents=True)
    local = tmp_path / "f.bin"
    local.write_bytes(os.urandom(3_000_000))
    with SftpTransport(sshd.settings) as t:
        t.put(local, f"{remote}/OUT/f.bin")  # temporary name, then posix-rename
        t.put_bytes(b"over", f"{remote}/OUT/f.bin")
        assert t.read_bytes(f"{remote}/OUT/f.bin", limit=10) == b"over"
        t.put(local, f"{remote}/OUT/f.bin")
        assert [(f.name, f.size) for f in t.list(f"{remote}/OUT")] == [("f.bin", 3_000_000)]
        fetched = t.fetch(f"{remote}/OUT/f.bin", tmp_path / "back.bin")
        assert (tmp_path / "back.bin").read_bytes() == local.read_bytes()
        assert fetched.size == 3_000_000
        t.rename(f"{remote}/OUT/f.bin", f"{remote}/OUT/g.bin")
        t.remove(f"{remote}/OUT/g.bin")
        assert t.stat(f"{remote}/OUT/g.bin") is None


def test_openssh_unknown_host_key_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    settings = SftpSettings(
        "127.0.0.1", sshd.port, sshd.settings.user, sshd.settings.key, empty, 10, 10, 0
    )
    with pytest.raises(HostKeyError, match="is not in"), SftpTransport(settings) as t:
        t.list(str(tmp_path))


def test_inbound_pipeline_over_openssh(sshd: Sshd, tmp_path: Path) -> None:
    platform = Platform(tmp_path / "platform")
    platform.add_party("ksd")
    inbox = platform.add_party("toek") / "IN"
    data = delivery_bytes("S9/00001", 500)
    out = platform.party_dir("ksd") / "OUT"
    (out / "G68_SSH.txt").write_bytes(data)
    trigger = Trigger(FileDescriptor("G68_SSH.txt", len(data), "ksd", ("toek",)))
    (out / "G68_SSH.txt.trigger").write_bytes(build_trigger(trigger))
    assert platform.scan() == 1
    journal = open_journal(tmp_path / "journal.sqlite")
    with SftpTransport(sshd.settings) as transport:
        pipeline = receive_pipeline(
            journal,
            transport,
            LineProcessor(),
            party="toek",
            senders=["ksd"],
            staging=tmp_path / "staging",
            in_dir=str(inbox),
        )
        assert [o.status for o in pipeline.poll_once()] == ["received"]
    assert journal.transmissions()[0].item_count == 500
    assert list(inbox.iterdir()) == []
