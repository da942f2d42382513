"""The hash chain: every commit's events, items and reads are linked to the previous link;
`toekgw doctor` recomputes it; a change made behind the journal's back (an event's text, an
amount, a read) breaks it; a journal from before the chain gets one from the migration."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.test_nemkonto_flow_cli import CONFIG
from toekgw.cli.main import cli
from toekgw.gateway.journal import _sqlite_chain, open_journal
from toekgw.gateway.journal import _sqlite_connection as connection
from toekgw.gateway.journal.migrations import LATEST, MIGRATIONS


def _filled(path: Path) -> None:
    journal = open_journal(path)
    tx = journal_delivery(journal, [instruction(n) for n in range(1, 21)])
    item = next(journal.items(tx))
    journal.set_item_state(item.id, "blocked", reason="blocked by anna: asked")
    journal.record_read("status --item", f"item {item.business_key}", ["0101701234"])
    journal.close()


def _counts(path: Path) -> int:
    db = sqlite3.connect(path)
    total = sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("events", "items", "reads"))  # fmt: skip
    db.close()
    return total


def test_every_commit_is_a_link_and_the_chain_verifies(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    _filled(path)
    journal = open_journal(path)
    report = journal.verify_chain()
    links = journal._db.execute("SELECT count(*) FROM chain").fetchone()[0]
    journal.close()
    assert report.problems == []
    assert report.rows == _counts(path) and report.links == links >= 3
    assert len(report.head) == 64


@pytest.mark.parametrize(
    ("tamper", "trigger"),
    [
        ("UPDATE events SET reason = 'nothing happened' WHERE id = 2", "events_no_update"),
        ("UPDATE items SET amount_ore = amount_ore + 100 WHERE id = 3", None),
        ("UPDATE reads SET actor = 'somebody else'", "reads_no_update"),
        ("DELETE FROM events WHERE id = (SELECT max(id) FROM events)", "events_no_delete"),
    ],
)
def test_a_change_behind_the_journals_back_breaks_the_chain(
    tmp_path: Path, tamper: str, trigger: str | None
) -> None:
    path = tmp_path / "journal.sqlite"
    _filled(path)
    db = sqlite3.connect(path, isolation_level=None)
    if trigger:
        db.execute(f"DROP TRIGGER {trigger}")
    db.execute(tamper)
    db.close()
    journal = open_journal(path)
    report = journal.verify_chain()
    journal.close()
    assert report.problems, tamper
    assert "differ from what was written" in report.problems[0]


def test_the_chain_itself_is_append_only(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    _filled(path)
    db = sqlite3.connect(path)
    for statement in ("UPDATE chain SET hash = prev_hash", "DELETE FROM chain"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)
    db.close()


def test_a_journal_from_before_the_chain_gets_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite"
    before = next(n for n, name, _ in MIGRATIONS if name.startswith("the hash chain")) - 1
    with monkeypatch.context() as patch:
        patch.setattr(connection, "MIGRATIONS", MIGRATIONS[:before])
        patch.setattr(connection, "LATEST", before)
        _filled(path)
    journal = open_journal(path)
    assert journal.schema_version() == LATEST
    report = journal.verify_chain()
    journal.close()
    assert report.problems == [] and report.links == 1 and report.rows == _counts(path)


def test_doctor_verifies_the_chain_and_says_when_it_is_broken(tmp_path: Path) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    path = tmp_path / "var" / "journal.sqlite"
    _filled(path)
    shown = CliRunner().invoke(cli, ["doctor", "--config", str(config)]).output
    assert f"ok   hash chain: 3 links over {_counts(path)} events, items and reads verified" in (
        shown
    ), shown
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("UPDATE items SET amount_ore = 1 WHERE id = 1")
    db.close()
    broken = CliRunner().invoke(cli, ["doctor", "--config", str(config)])
    assert broken.exit_code == 2
    assert "FAIL hash chain: 3 links" in broken.output and "BROKEN: link 1" in broken.output


def test_each_link_is_the_documented_digest_of_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link is SHA-256 of the previous hash, then per row its mark, its columns as compact
    JSON and a newline; read a few rows at a time, the digest is the same."""
    monkeypatch.setattr(_sqlite_chain, "_PAGE", 3)
    path = tmp_path / "journal.sqlite"
    _filled(path)
    db = sqlite3.connect(path)
    prev, start = _sqlite_chain.GENESIS, (0, 0, 0)
    links = db.execute("SELECT prev_hash, hash, last_event, last_item, last_read FROM chain "
                       "ORDER BY seq").fetchall()  # fmt: skip
    for prev_hash, stored, *end in links:
        h = hashlib.sha256(prev.encode("ascii"))
        for (mark, table, columns), after, upto in zip(
            _sqlite_chain._SOURCES, start, end, strict=True
        ):
            for row in db.execute(f"SELECT {columns} FROM {table} WHERE id > ? AND id <= ? "
                                  "ORDER BY id", (after, upto)):  # fmt: skip
                text = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
                h.update(mark + text.encode("utf-8") + b"\n")
        assert prev_hash == prev and stored == h.hexdigest()
        prev, start = stored, tuple(end)
    db.close()
    assert len(links) >= 3
