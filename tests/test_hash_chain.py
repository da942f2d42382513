"""The hash chain, on both back ends: every commit's events, items and reads are linked to the
previous link; `toekgw doctor` recomputes it; a change made behind the journal's back (an
event's text, an amount, a read) breaks it; a journal from before the chain gets one from the
migration; several writers at once keep one linear chain (PostgreSQL); a journal copied with
`toekgw journal migrate-to` carries its chain and verifies the same."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from tests.journals import INTEGRITY_ERRORS, raw_execute
from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.old_schema import schema_before, unmigrated
from tests.servers import PostgresServer
from tests.test_nemkonto_flow_cli import CONFIG
from toekgw.cli.main import cli
from toekgw.gateway.journal import (
    JournalLocation,
    JournalUrl,
    _sqlite_chain,
    open_journal,
)
from toekgw.gateway.journal.copy import copy_to_postgres
from toekgw.gateway.journal.migrations import LATEST, MIGRATIONS
from toekgw.gateway.journal.postgres import PostgresJournal


def _filled(where: JournalLocation, first: int = 1) -> None:
    journal = open_journal(where)
    payments = [instruction(n) for n in range(first, first + 20)]
    tx = journal_delivery(journal, payments, delivery=first)
    item = next(journal.items(tx))
    journal.set_item_state(item.id, "blocked", reason="blocked by anna: asked")
    journal.record_read("status --item", f"item {item.business_key}", ["0101701234"])
    journal.close()


def _counts(where: JournalLocation) -> int:
    journal = open_journal(where)
    total = sum(
        journal._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("events", "items", "reads")
    )
    journal.close()
    return int(total)


def _links(where: JournalLocation) -> list[tuple[int, str, str]]:
    rows = raw_execute(open_journal(where), "SELECT seq, prev_hash, hash FROM chain ORDER BY seq")
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def test_every_commit_is_a_link_and_the_chain_verifies(journal_at: JournalLocation) -> None:
    _filled(journal_at)
    journal = open_journal(journal_at)
    report = journal.verify_chain()
    journal.close()
    links = _links(journal_at)
    assert report.problems == []
    assert report.rows == _counts(journal_at) and report.links == len(links) >= 3
    assert report.head == links[-1][2] and len(report.head) == 64


def _drop_trigger(journal_at: JournalLocation, table: str, trigger: str) -> str:
    on = f" ON {table}" if isinstance(journal_at, JournalUrl) else ""
    return f"DROP TRIGGER {trigger}{on}"


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
    journal_at: JournalLocation, tamper: str, trigger: str | None
) -> None:
    _filled(journal_at)
    journal = open_journal(journal_at)
    if trigger:
        raw_execute(journal, _drop_trigger(journal_at, trigger.split("_")[0], trigger))
    raw_execute(journal, tamper)
    report = journal.verify_chain()
    journal.close()
    assert report.problems, tamper
    assert "differ from what was written" in report.problems[0]


def test_the_chain_itself_is_append_only(journal_at: JournalLocation) -> None:
    _filled(journal_at)
    journal = open_journal(journal_at)
    for statement in ("UPDATE chain SET hash = prev_hash", "DELETE FROM chain"):
        with pytest.raises(INTEGRITY_ERRORS, match="append-only"):
            raw_execute(journal, statement)
    journal.close()


def test_a_journal_from_before_the_chain_gets_one(
    journal_at: JournalLocation, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal_at = unmigrated(journal_at, request)
    chain = next(n for n, name, _ in MIGRATIONS if name.startswith("the hash chain"))
    with monkeypatch.context() as patch:
        schema_before(patch, chain)
        _filled(journal_at)
    journal = open_journal(journal_at)
    assert journal.schema_version() == LATEST
    report = journal.verify_chain()
    journal.close()
    assert report.problems == [] and report.links == 1 and report.rows == _counts(journal_at)


def test_several_writers_at_once_keep_one_linear_chain(postgresql: PostgresServer) -> None:
    url = postgresql.fresh()
    try:
        open_journal(JournalUrl(url)).close()
        failures: list[BaseException] = []

        def writer(n: int) -> None:
            try:
                for round_ in range(3):
                    _filled(JournalUrl(url), first=1_000 * n + 100 * round_)
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        journal = open_journal(JournalUrl(url))
        report = journal.verify_chain()
        journal.close()
        links = _links(JournalUrl(url))
        assert report.problems == [] and report.rows == _counts(JournalUrl(url))
        assert [seq for seq, _p, _h in links] == list(range(1, len(links) + 1))
        assert all(links[n][1] == links[n - 1][2] for n in range(1, len(links)))
        assert report.links == len(links) >= 4 * 3 * 3
    finally:
        postgresql.drop(url)


def test_migrate_to_carries_the_chain(tmp_path: Path, postgresql: PostgresServer) -> None:
    source = tmp_path / "journal.sqlite"
    _filled(source)
    before = open_journal(source).verify_chain()
    url = postgresql.fresh()
    try:
        copy_to_postgres(source, JournalUrl(url))
        copied = PostgresJournal(url)
        after = copied.verify_chain()
        assert after.problems == [] and (after.head, after.links, after.rows) == (
            before.head,
            before.links,
            before.rows,
        )
        copied.close()
        _filled(JournalUrl(url), first=500)  # and goes on, one chain across both back ends
        copied = PostgresJournal(url)
        went_on = copied.verify_chain()
        copied.close()
        assert went_on.problems == [] and went_on.links == before.links + 3
        assert _links(JournalUrl(url))[before.links][1] == before.head
    finally:
        postgresql.drop(url)


def _config(tmp_path: Path, journal_at: JournalLocation) -> Path:
    config = tmp_path / "toekgw.toml"
    text = CONFIG
    if isinstance(journal_at, JournalUrl):
        text = text.replace('path = "var/journal.sqlite"', f'url = "{journal_at.url}"')
    config.write_text(text, encoding="utf-8")
    return config


def test_doctor_verifies_the_chain_and_says_when_it_is_broken(
    tmp_path: Path, journal_at: JournalLocation
) -> None:
    where = journal_at if isinstance(journal_at, JournalUrl) else tmp_path / "var/journal.sqlite"
    config = _config(tmp_path, where)
    _filled(where)
    shown = CliRunner().invoke(cli, ["doctor", "--config", str(config)]).output
    assert f"ok   hash chain: 3 links over {_counts(where)} events, items and reads verified" in (
        shown
    ), shown
    raw_execute(open_journal(where), "UPDATE items SET amount_ore = 1 WHERE id = 1")
    broken = CliRunner().invoke(cli, ["doctor", "--config", str(config)])
    assert broken.exit_code == 2
    assert "FAIL hash chain: 3 links" in broken.output and "BROKEN: link 1" in broken.output


def test_a_commit_while_the_chain_is_verified_is_not_taken_for_a_break(
    journal_at: JournalLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """doctor verifies one snapshot: rows another writer commits meanwhile (with their link)
    are neither in the links read nor in the rows counted."""
    _filled(journal_at)
    digest = _sqlite_chain._digest
    writes: list[int] = []

    def digest_while_another_writes(*args: object, **kwargs: object) -> tuple[str, int]:
        if not writes:
            writes.append(1)
            _filled(journal_at, first=100)
        return digest(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_sqlite_chain, "_digest", digest_while_another_writes)
    journal = open_journal(journal_at)
    report = journal.verify_chain()
    journal.close()
    assert writes and report.problems == []
    monkeypatch.undo()
    after = open_journal(journal_at)
    assert after.verify_chain().links > report.links
    after.close()


def _check_documented_digests(path: Path) -> int:
    """Recompute every link of the SQLite journal at ``path`` as documented (Python's
    ``json``), assert each equals the stored one; the number of links."""
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
                h.update(f"{mark}{text}\n".encode())
        assert prev_hash == prev and stored == h.hexdigest()
        prev, start = stored, tuple(end)
    db.close()
    return len(links)


def test_each_link_is_the_documented_digest_of_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link is SHA-256 of the previous hash, then per row its mark, its columns as compact
    JSON and a newline; read a few rows at a time, the digest is the same."""
    monkeypatch.setattr(_sqlite_chain, "_PAGE", 3)
    path = tmp_path / "journal.sqlite"
    _filled(path)
    assert _check_documented_digests(path) >= 3


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.text(),
)


@given(st.lists(st.one_of(_VALUES, st.lists(_VALUES, max_size=3)), max_size=12))
def test_a_row_is_encoded_as_the_documented_json(values: list[object]) -> None:
    """The rows PostgreSQL returns are hashed as ``encode_row`` writes them (a C encoder made
    once): byte for byte what ``json.dumps`` writes with the documented options, for any
    text (control characters, quotes, U+2028, astral planes), integer, float or NULL."""
    row = tuple(values)
    documented = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    assert _sqlite_chain.encode_row(row) == documented
    assert _sqlite_chain.encode_row(values) == documented


AWKWARD = 'quote " backslash \\ nul \x00 tab \t newline \n cr \r \x01\x1f\x7f øæå € \u2028 😀 /'


def test_sqlite_writes_awkward_text_as_pythons_json_does(tmp_path: Path) -> None:
    """SQLite seals with its own json_array: a reason with quotes, backslashes, control and
    non-ASCII characters hashes as the documented (Python) text, so a journal sealed before,
    or copied to PostgreSQL (which encodes in Python), verifies the same."""
    path = tmp_path / "journal.sqlite"
    _filled(path)
    journal = open_journal(path)
    item = next(journal.items(journal.transmissions()[0].id))
    journal.set_item_state(item.id, "pending", reason=AWKWARD)
    journal.record_read("status --item", AWKWARD, ["0101701234"])
    reasons = raw_execute(journal, "SELECT reason FROM events ORDER BY id DESC LIMIT 1")
    journal.close()
    assert reasons[0][0] == AWKWARD
    assert _check_documented_digests(path) >= 4


def test_verifying_reads_the_links_a_page_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``toekgw doctor`` over a journal of ten times the commits (ten times the links) peaks
    at about the same memory: the links are read a page at a time, not all at once."""
    monkeypatch.setattr(_sqlite_chain, "_LINKS_PAGE", 50)
    peaks = []
    for n in (300, 3_000):
        journal = open_journal(tmp_path / f"{n}.sqlite")
        journal._db.execute("PRAGMA synchronous = OFF")  # the commits, not their durability
        for i in range(n):
            journal.record_read("status --item", f"item {i} of a long journal", ())
        assert journal.verify_chain().problems == []  # once untraced: caches, statements
        tracemalloc.start()
        report = journal.verify_chain()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        journal.close()
        assert report.problems == [] and report.links >= n
    # ten times the links, not more memory (the slack: cyclic garbage the collector leaves)
    assert peaks[1] < peaks[0] * 1.25 + 100_000, peaks
