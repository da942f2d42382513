"""SIGKILL at each step of a receive and of a send; a restart neither loses nor doubles.

The child is ``python -m tests.crashkit`` (the same code path as ``toekgw receive``/``send``),
killed by itself at a named crash point (``TOEKGW_CRASH_AT``), so the kill lands exactly at the
step under test rather than somewhere near it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.crashkit import Rig, delivery_bytes, killed, run_child
from toekgw.gateway.journal import open_journal

COUNT = 2_000


def _items(rig: Rig) -> list[tuple[str, int]]:
    db = sqlite3.connect(rig.settings.journal)
    return db.execute("SELECT business_key, amount_ore FROM items ORDER BY business_key").fetchall()


@pytest.mark.parametrize(
    ("point", "journaled_after_kill"),
    [
        ("inbound.after_download", 0),
        ("inbound.after_commit", COUNT),
        ("inbound.after_remote_dispose", COUNT),
    ],
)
def test_receive_killed_then_restarted_journals_each_payment_once(
    rig: Rig, point: str, journaled_after_kill: int
) -> None:
    data = delivery_bytes("S1/00001", COUNT)
    rig.deliver("G68_CRASH.txt", data)
    first = run_child(rig, ["receive"], crash_at=point)
    assert killed(first), first.stderr
    assert len(_items(rig)) == journaled_after_kill
    if point != "inbound.after_remote_dispose":
        assert (rig.inbox() / "G68_CRASH.txt").read_bytes() == data  # nothing lost

    again = run_child(rig, ["receive"])
    assert again.returncode == 0, again.stderr
    outcome = json.loads(again.stdout.splitlines()[0])
    assert outcome["status"] == ("received" if journaled_after_kill == 0 else "resumed")

    items = _items(rig)
    assert len(items) == COUNT and len({k for k, _ in items}) == COUNT
    assert sum(a for _, a in items) == sum(100 + i % 5000 for i in range(COUNT))
    journal = open_journal(rig.settings.journal)
    (tx,) = journal.transmissions()
    assert tx.state == "received"
    assert Path(tx.local_path or "").read_bytes() == data
    assert list(rig.inbox().iterdir()) == []
    assert not list((rig.settings.staging / "ksd" / "incoming").iterdir())
    # A third run finds nothing to do.
    assert run_child(rig, ["receive"]).stdout == ""


@pytest.mark.parametrize("point", ["transport.put.mid", "outbound.after_upload"])
def test_send_killed_then_restarted_delivers_once(rig: Rig, tmp_path: Path, point: str) -> None:
    payload = tmp_path / "SF1590_A_0001.xml"
    payload.write_bytes(b"<voucher/>\n" * 300_000)  # 3.3 MB: several chunks
    first = run_child(rig, ["send", str(payload), "--to", "erp"], crash_at=point)
    assert killed(first), first.stderr
    journal = open_journal(rig.settings.journal)
    (tx,) = journal.transmissions()
    assert tx.state == "prepared"  # journaled before the upload began
    out = rig.sim.platform.party_dir("toek") / "OUT"
    if point == "transport.put.mid":
        assert [p.name for p in out.iterdir()] == [".SF1590_A_0001.xml.part"]
        assert rig.sim.platform.deliveries() == []

    again = run_child(rig, ["send", str(payload), "--to", "erp"])
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["state"] == "receipted"
    (tx,) = journal.transmissions()
    assert tx.state == "receipted" and tx.transfer_id
    (delivery,) = rig.sim.platform.deliveries()
    assert delivery.transfer_uuid == tx.transfer_id and delivery.recipients == ("erp",)
    assert (rig.inbox("erp") / payload.name).read_bytes() == payload.read_bytes()
    # Sending it once more is refused, naming the first.
    third = run_child(rig, ["send", str(payload), "--to", "erp"])
    assert third.returncode != 0 and "already sent as transmission #1" in third.stderr
