"""receive g68 end to end against a real OpenSSH sshd on 127.0.0.1 (skipped without sshd,
unless TOEKGW_REQUIRE_SSHD=1: see tests/test_transport_openssh.py, whose sshd this uses)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from tests.g68_receive_helpers import TODAY, excluded_lines, generate
from tests.test_transport_openssh import Sshd, sshd  # noqa: F401  (the module's fixture)
from toekgw.adapters.g68 import G68Processor
from toekgw.adapters.serviceplatform import ReceiveSettings, receive_pipeline
from toekgw.formats.serviceplatform import FileDescriptor, Trigger, build_trigger
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport import SftpTransport
from toekgw.simulators.serviceplatform import Platform


def test_receive_g68_over_openssh(sshd: Sshd, tmp_path: Path) -> None:  # noqa: F811
    platform = Platform(tmp_path / "platform")
    platform.add_party("ksd")
    inbox = platform.add_party("toek") / "IN"
    out = platform.party_dir("ksd") / "OUT"
    data, expected = generate(tmp_path, "ssh.g68", count=2_000, error_rate=0.02, seed=31)
    straks, _ = generate(tmp_path, "straks.g68", count=5, straks=True, delivery_number=2, seed=4)
    for name, body in (("G68_SSH.txt", data), ("G68_STRAKS.txt", straks)):
        (out / name).write_bytes(body)
        trigger = Trigger(FileDescriptor(name, len(body), "ksd", ("toek",)))
        (out / f"{name}.trigger").write_bytes(build_trigger(trigger))
    assert platform.scan() == 2
    journal = open_journal(tmp_path / "journal.sqlite")
    processor = partial(G68Processor, today=TODAY)(ReceiveSettings("g68", ("ksd",), "ksd"))
    with SftpTransport(sshd.settings) as transport:
        pipeline = receive_pipeline(
            journal,
            transport,
            processor,
            party="toek",
            senders=["ksd"],
            staging=tmp_path / "staging",
            in_dir=str(inbox),
        )
        outcomes = pipeline.poll_once()
        assert [(o.name, o.status) for o in outcomes] == [
            ("G68_STRAKS.txt", "received"),
            ("G68_SSH.txt", "received"),
        ]
        # The same file once more: refused, nothing added.
        (out / "G68_SSH.txt").write_bytes(data)
        trigger = Trigger(FileDescriptor("G68_SSH.txt", len(data), "ksd", ("toek",)))
        (out / "G68_SSH.txt.trigger").write_bytes(build_trigger(trigger))
        platform.scan()
        assert [o.status for o in pipeline.poll_once()] == ["duplicate"]
    txs = journal.transmissions()
    assert [t.item_count for t in txs] == [5, 2_000 - len(excluded_lines(expected))]
    (entry,) = journal.errors()
    assert len(entry.findings) == sum(expected.values())
    assert list(inbox.iterdir()) == []
