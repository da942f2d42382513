"""SIGKILL the eIndkomst gateway and SKAT's simulator at each step of the SF0770_B route:
nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.eik_config import CLI, ROOT, toekgw, write_request
from tests.eik_helpers import SE, cpr
from toekgw.adapters.config import load_settings
from toekgw.adapters.eindkomst import COUNTERPART, DELIVERY, RECEIPTS
from toekgw.adapters.eindkomst.runtime import open_eindkomst
from toekgw.gateway.journal import open_journal
from toekgw.simulators.eindkomst import EindkomstFileSimulator
from toekgw.simulators.serviceplatform import Platform

SKAT = "skat-eindkomst"


def _config(base: Path) -> Path:
    platform = Platform(base / "platform")
    for party in ("toek", SKAT):
        platform.add_party(party)
    config = base / "toekgw.toml"
    config.write_text(
        f"""
[journal]
path = "var/journal.sqlite"

[staging]
dir = "var/staging"

[serviceplatform]
party = "toek"
transport = "localdir"
receipt_timeout = 0.2

[serviceplatform.localdir]
root = "platform/parties/toek"

[eindkomst]
sender_se = "{SE}"
route = "serviceplatform"
skat_party = "{SKAT}"
""",
        encoding="utf-8",
    )
    return config


def _skat_answers(base: Path) -> None:
    """The platform routes what was uploaded, SKAT answers, the platform routes the answers."""
    platform = Platform(base / "platform")
    platform.scan()
    sim = EindkomstFileSimulator(
        platform.party_dir(SKAT), base / "platform" / "eindkomst-ledger.sqlite", party=SKAT
    )
    try:
        sim.scan_once()
    finally:
        sim.ledger.close()
    platform.scan()


def _finish(base: Path, config: Path) -> None:
    """After the crash: what the next runs of the gateway, the platform and SKAT do."""
    with open_eindkomst(load_settings(config)) as gw:
        gw.send_pending()
    _skat_answers(base)
    with open_eindkomst(load_settings(config)) as gw:
        gw.receive()


def _registered(base: Path) -> dict[str, int]:
    with sqlite3.connect(base / "platform" / "eindkomst-ledger.sqlite") as db:
        return dict(db.execute("SELECT report_id, deliveries FROM report").fetchall())


def _check_once(base: Path, config: Path) -> None:
    journal = open_journal(base / "var" / "journal.sqlite")
    try:
        (delivery,) = journal.transmissions(counterpart=COUNTERPART, kind=DELIVERY.name)
        assert delivery.state == "receipted"
        rids = [str(r) for r in delivery.meta["report_ids"]]  # type: ignore[attr-defined]
        for rid in rids:
            (report,) = journal.find_items(rid, COUNTERPART)
            assert report.state == "accepted"
        assert len(journal.transmissions(counterpart=COUNTERPART, kind=RECEIPTS.name)) == 1
        assert journal.errors(counterpart=COUNTERPART) == []
    finally:
        journal.close()
    assert sorted(_registered(base)) == sorted(rids)  # each registered exactly once
    assert not list((base / "platform" / "parties" / "toek" / "IN").iterdir())
    again = toekgw("eindkomst", "send", str(base / "request.json"), "--config", str(config))
    assert again.returncode == 1 and "duplicate refused" in again.stderr


@pytest.mark.parametrize(
    ("point", "platform_first"),
    [
        ("eindkomst.send.after_journal", False),
        ("eindkomst.sf0770.after_upload", False),  # the upload is made again, same bytes
        ("eindkomst.sf0770.after_upload", True),  # its receipt tells the journal
    ],
)
def test_send_killed_at_each_step(tmp_path: Path, point: str, platform_first: bool) -> None:
    config = _config(tmp_path)
    request = write_request(tmp_path, {cpr(i): 100_000 + i for i in range(20)})
    killed = toekgw("eindkomst", "send", str(request), "--config", str(config), crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if platform_first:
        Platform(tmp_path / "platform").scan()
    _finish(tmp_path, config)
    _check_once(tmp_path, config)
    assert len(Platform(tmp_path / "platform").deliveries()) == 2  # ours once, SKAT's answer


def test_receive_killed_between_journal_and_removal(tmp_path: Path) -> None:
    config = _config(tmp_path)
    request = write_request(tmp_path, {cpr(i): 100_000 + i for i in range(5)})
    assert toekgw("eindkomst", "send", str(request), "--config", str(config)).returncode == 0
    _skat_answers(tmp_path)
    killed = toekgw(
        "eindkomst", "receive", "--config", str(config), crash_at="eindkomst.receive.after_journal"
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with open_eindkomst(load_settings(config)) as gw:
        got = gw.receive()
    assert got.messages == 1 and got.duplicates == 1  # journaled before: dropped, removed
    _check_once(tmp_path, config)


def test_skat_killed_between_its_ledger_and_its_answer(tmp_path: Path) -> None:
    config = _config(tmp_path)
    request = write_request(tmp_path, {cpr(i): 100_000 + i for i in range(5)})
    assert toekgw("eindkomst", "send", str(request), "--config", str(config)).returncode == 0
    Platform(tmp_path / "platform").scan()
    root = str(tmp_path / "platform")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CLI,
            "simulate",
            "eindkomst-sf0770",
            "--root",
            root,
            "--delay",
            "30",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not _recorded(tmp_path):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the simulator did not record the delivery"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    _finish(tmp_path, config)  # SKAT again: answered from its ledger
    _check_once(tmp_path, config)
    with sqlite3.connect(tmp_path / "platform" / "eindkomst-ledger.sqlite") as db:
        assert db.execute("SELECT deliveries FROM delivery").fetchone()[0] == 2


def _recorded(base: Path) -> bool:
    try:
        return bool(_registered(base))
    except sqlite3.OperationalError:
        return False
