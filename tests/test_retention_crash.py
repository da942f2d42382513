"""`toekgw retention` SIGKILLed at each of its steps, then run again: every settled payment
pseudonymised once, the staging copy deleted and said so once, every answered stop request's
reason replaced and said so once, amounts unchanged, the chain verified, no CPR number (or
reason) left in the journal's files."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.configs import write_config
from tests.crashkit import child_env
from tests.journals import journal_bytes
from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import instruction
from tests.test_payments_cli import payments_config
from tests.test_retention import RETENTION
from toekgw.adapters.nemkonto.stops import STOP_KIND
from toekgw.gateway.journal import NewTransmission, open_journal

ROOT = Path(__file__).resolve().parent.parent
COUNT = 2_100  # three pages of a thousand
LONG_AGO = "2001-01-01T00:00:00+00:00"


def _world(tmp_path: Path) -> Path:
    config, tx = payments_config(tmp_path, [instruction(n) for n in range(1, COUNT + 1)], RETENTION)
    (tmp_path / "pseudonym.key").write_bytes(b"k" * 48)
    copy = tmp_path / "var" / "staging" / "ksd" / "received" / "G68_0001.txt"
    copy.parent.mkdir(parents=True)
    copy.write_text(cpr(1))
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    journal.update_transmission(tx, reason="kept", local_path=str(copy))
    journal.set_state(tx, "received", reason="remote copy removed", expect="journaled")
    ids = [item.id for item in journal.items(tx)]
    journal.set_items_state(ids, "pending", "recalled", reason="recalled by KSD")
    journal.close()
    # Long ago: the columns retention reads, none of which the hash chain covers.
    db = sqlite3.connect(tmp_path / "var" / "journal.sqlite")
    db.execute("UPDATE items SET updated_at = ?", (LONG_AGO,))
    db.execute("UPDATE transmissions SET updated_at = ?", (LONG_AGO,))
    db.commit()
    db.close()
    return config


def _retention(config: Path, crash_at: str | None) -> int:
    env = child_env(crash_at)
    done = subprocess.run(
        [sys.executable, "-m", "toekgw", "retention", "--config", str(config)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.returncode


@pytest.mark.parametrize(
    "crash_at", ["retention.after_delete", "retention.after_page", "retention.after_page:2"]
)
def test_killed_at_each_step_then_run_again(tmp_path: Path, crash_at: str) -> None:
    config = _world(tmp_path)
    path = tmp_path / "var" / "journal.sqlite"
    db = sqlite3.connect(path)
    amounts = db.execute("SELECT sum(amount_ore), count(*) FROM items").fetchone()
    db.close()

    assert _retention(config, crash_at) == -9
    assert _retention(config, None) == 0

    journal = open_journal(path)
    chain = journal.verify_chain()
    journal.close()
    assert chain.problems == []
    db = sqlite3.connect(path)
    assert db.execute("SELECT sum(amount_ore), count(*) FROM items").fetchone() == amounts
    done = db.execute("SELECT count(*) FROM items WHERE pseudonymised_at IS NOT NULL").fetchone()
    notes = [r[0] for r in db.execute("SELECT reason FROM events WHERE reason LIKE 'retention:%'")]
    db.close()
    assert done == (COUNT,)
    told = sum(int(n.split(" of ")[1].split()[0]) for n in notes if "personal data" in n)
    assert told == COUNT  # each item said once, whatever page the kill fell in
    assert sum("staging copy" in n for n in notes) == 1
    assert not (tmp_path / "var" / "staging" / "ksd" / "received" / "G68_0001.txt").exists()
    data = journal_bytes(path)
    assert not [n for n in range(1, COUNT + 1, 97) if cpr(n).encode() in data]


def test_an_item_a_flow_moves_on_while_retention_holds_its_page_stays_in_clear(
    tmp_path: Path,
) -> None:
    """Retention read a page of payments at the bank; before it writes, the bank reports one
    failed (NemKonto's answers move it to ``fail-requested``: it is to be paid again, to the
    same person). That one keeps its recipient in clear; the others are pseudonymised."""
    from tests.crashkit import paused_at, resumed

    config, tx = payments_config(tmp_path, [instruction(n) for n in (1, 2, 3)], RETENTION)
    (tmp_path / "pseudonym.key").write_bytes(b"k" * 48)
    path = tmp_path / "var" / "journal.sqlite"
    journal = open_journal(path)
    ids = [item.id for item in journal.items(tx)]
    steps = ("pending", "released", "sent", "received", "accepted", "at-bank")
    for before, state in itertools.pairwise(steps):
        journal.set_items_state(ids, before, state, reason="paid")
    journal.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE items SET updated_at = ?", (LONG_AGO,))
    db.commit()
    db.close()

    held = paused_at(["retention"], config, "retention.page_read")
    journal = open_journal(path)
    journal.set_item_state(ids[1], "fail-requested", reason="the bank reports it failed")
    journal.close()
    done = resumed(held)
    assert done.returncode == 0, done.stderr
    assert "2 items pseudonymised" in done.stdout

    journal = open_journal(path)
    moved = journal.get_item(ids[1])
    others = [journal.get_item(i) for i in (ids[0], ids[2])]
    journal.close()
    assert moved.state == "fail-requested" and (moved.data or {})["beneficiary"].endswith(cpr(2))
    assert all(str((o.data or {})["beneficiary"]).startswith("ps:") for o in others)
    db = sqlite3.connect(path)
    notes = [r[0] for r in db.execute("SELECT reason FROM events WHERE reason LIKE 'retention:%'")]
    db.close()
    assert [n for n in notes if "personal data" in n] == [
        "retention: personal data of 2 items replaced by pseudonyms (older than 30 days)"
    ]


META_RETENTION = (
    '\n[retention]\nkey_file = "pseudonym.key"\n\n[retention.kinds]\nnemkonto-stop = 30\n'
)


def _stop_reason(n: int) -> str:
    return f"stop-reason-{n:05d}-x"


def _stops_world(tmp_path: Path) -> Path:
    """:data:`COUNT` stop requests NemKonto answered long ago (three pages), each with its
    operator's reason in its metadata."""
    config = write_config(tmp_path, META_RETENTION)
    (tmp_path / "pseudonym.key").write_bytes(b"k" * 48)
    journal = open_journal(tmp_path / "journal.sqlite")
    journal.define_kind(STOP_KIND)
    with journal.transaction():
        for n in range(1, COUNT + 1):
            tx = journal.create_transmission(
                NewTransmission(
                    counterpart="nemkonto", kind=STOP_KIND.name, state="prepared",
                    ref=f"STOP-B-{n}-1", meta={"payment_id": f"P-{n}", "reason": _stop_reason(n)},
                    reason="stop requested",
                )
            )  # fmt: skip
            journal.set_state(tx.id, "sent", reason="put")
            journal.set_state(tx.id, "stopped", reason="Retursvar 5: stopped")
    journal.close()
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    db.execute("UPDATE transmissions SET updated_at = ?", (LONG_AGO,))
    db.commit()
    db.close()
    return config


@pytest.mark.parametrize("crash_at", ["retention.after_meta_page", "retention.after_meta_page:2"])
def test_killed_while_pseudonymising_metadata_then_run_again(tmp_path: Path, crash_at: str) -> None:
    config = _stops_world(tmp_path)
    path = tmp_path / "journal.sqlite"

    assert _retention(config, crash_at) == -9
    db = sqlite3.connect(path)
    (partly,) = db.execute(
        "SELECT count(*) FROM transmissions WHERE meta_pseudonymised_at IS NOT NULL"
    ).fetchone()
    db.close()
    assert 0 < partly < COUNT  # killed between pages: some committed, not all
    assert _retention(config, None) == 0

    journal = open_journal(path)
    chain = journal.verify_chain()
    journal.close()
    assert chain.problems == []
    db = sqlite3.connect(path)
    done = db.execute(
        "SELECT count(*) FROM transmissions WHERE meta_pseudonymised_at IS NOT NULL "
        'AND meta LIKE \'%"reason": "ps:%\''
    ).fetchone()
    notes = [r[0] for r in db.execute("SELECT reason FROM events WHERE reason LIKE 'retention:%'")]
    db.close()
    assert done == (COUNT,)
    assert len(notes) == COUNT  # each transmission said once, whatever page the kill fell in
    data = journal_bytes(path)
    assert not [n for n in range(1, COUNT + 1, 97) if _stop_reason(n).encode() in data]
