"""``toekgw journal migrate-to``: a SQLite journal copied into PostgreSQL, verified by counts
and sums, into an empty database only; the copy goes on working as the journal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from tests.configs import write_config
from tests.nemkonto_flow_data import SETTINGS, TODAY, instruction, journal_delivery
from tests.oir_data import load_sortiment, settings
from tests.servers import PostgresServer
from toekgw.adapters.nemkonto import release
from toekgw.adapters.oir.vouchers import build_vouchers
from toekgw.cli.main import cli
from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.flowlock import flow_lock, lock_path, service_lock
from toekgw.gateway.journal import JournalError, JournalUrl, NewTransmission, open_journal
from toekgw.gateway.journal import copy as journal_copy
from toekgw.gateway.journal.copy import copy_to_postgres


def _run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(config)])


def _filled(path: Path) -> None:
    journal = open_journal(path)
    load_sortiment(journal)
    for delivery in (1, 2):
        payments = [instruction(n + 10 * delivery, amount=1_000 + n) for n in range(7)]
        journal_delivery(journal, payments, delivery=delivery)
    build_vouchers(journal, settings())
    release(journal, SETTINGS, TODAY)  # a prepared bundle, its bytes staged (migration 16)
    journal.add_error(
        counterpart="ksd",
        subject="record",
        findings=[Finding("G68-001", Severity.ERROR, "amount not digits", line=3)],
        business_key="P9",
    )
    journal.add_action(
        month="2026-11",
        difference="d",
        amount_oere=100_000,
        cause="c",
        owner="o",
        deadline=dt.date(2026, 12, 1),
        by="anna",
    )
    journal.close()


def _story(where: Path | JournalUrl) -> list[object]:
    journal = open_journal(where)
    try:
        story: list[object] = []
        for tx in journal.transmissions():
            story.append(tx)
            story.extend(journal.events(tx.id))
            story.extend(journal.items(tx.id))
            story.append(journal.staged_body(tx.id))
        story.extend(journal.errors(include_resolved=True))
        story.extend(journal.actions())
        story.extend(journal.class_versions())
        story.extend(journal.voucher_events(1))
        return story
    finally:
        journal.close()


def test_the_copy_is_the_same_journal_and_goes_on(
    tmp_path: Path, postgresql: PostgresServer
) -> None:
    config = write_config(tmp_path, "")
    _filled(tmp_path / "journal.sqlite")
    url = postgresql.fresh()
    try:
        result = _run(config, "journal", "migrate-to", url)
        assert result.exit_code == 0, result.output
        assert "counts and sums agree" in result.output
        assert "items: 14 rows" in result.output
        assert "staged_bodies: 1 rows" in result.output
        assert _story(JournalUrl(url)) == _story(tmp_path / "journal.sqlite")
        # Identities continue after the copied ids; the constraints came along.
        journal = open_journal(url)
        before = max(t.id for t in journal.transmissions())
        later = journal.create_transmission(NewTransmission("ksd", "g68-delivery", "journaled"))
        assert later.id == before + 1
        assert journal.integrity_problems() == []
        journal.close()
        # The planner starts from the copied tables' statistics (-1: never analysed).
        with psycopg.connect(url) as server:
            (items,) = server.execute(
                "SELECT reltuples FROM pg_class WHERE relname = 'items'"
            ).fetchone() or (None,)
        assert items == 14
        again = _run(config, "journal", "migrate-to", url)
        assert again.exit_code == 2 and "is not empty (table" in again.output
    finally:
        postgresql.drop(url)


def test_a_copy_that_does_not_add_up_commits_nothing(
    tmp_path: Path, postgresql: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _filled(tmp_path / "journal.sqlite")
    url = postgresql.fresh()
    real_rows = journal_copy._rows

    def losing_one(db, table, columns):  # type: ignore[no-untyped-def]
        rows = real_rows(db, table, columns)
        if table == "items":
            next(rows)  # a row lost on the way
        yield from rows

    monkeypatch.setattr(journal_copy, "_rows", losing_one)
    try:
        with pytest.raises(JournalError, match=r"table items .* does not add up"):
            copy_to_postgres(tmp_path / "journal.sqlite", JournalUrl(url))
        assert open_journal(url).transmissions() == []  # all or nothing
    finally:
        postgresql.drop(url)


def test_a_url_that_is_not_postgresql_is_a_usage_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    result = _run(config, "journal", "migrate-to", "mysql://u:secret@h/db")
    assert result.exit_code == 2 and "expected a PostgreSQL URL" in result.output
    assert "secret" not in result.output


def test_a_copy_whose_tables_cannot_be_analysed_is_kept_with_a_warning(
    tmp_path: Path,
    postgresql: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _filled(tmp_path / "journal.sqlite")
    url = postgresql.fresh()
    real = psycopg.Connection.execute

    def refuse_analyze(self: psycopg.Connection[Any], query: Any, *args: Any, **kw: Any) -> Any:
        text = query.as_string(self) if hasattr(query, "as_string") else str(query)
        if text.startswith("ANALYZE"):
            raise psycopg.errors.InsufficientPrivilege("must be owner of table items")
        return real(self, query, *args, **kw)

    monkeypatch.setattr(psycopg.Connection, "execute", refuse_analyze)
    try:
        copied = copy_to_postgres(tmp_path / "journal.sqlite", JournalUrl(url))
        monkeypatch.undo()
        assert any(c.table == "items" and c.rows == 14 for c in copied)
        assert "could not be analysed (must be owner of table items)" in caplog.text
        assert _story(JournalUrl(url)) == _story(tmp_path / "journal.sqlite")
    finally:
        postgresql.drop(url)


def test_migrate_to_is_refused_while_a_flow_runs(
    tmp_path: Path, postgresql: PostgresServer
) -> None:
    """ "Stop every toekgw process first" was only advice: a send that journaled after the
    copy had read its tables was missing from the PostgreSQL journal the configuration then
    named (sent there, "not sent" here: sent again)."""
    config = write_config(tmp_path, "")
    _filled(tmp_path / "journal.sqlite")
    url = postgresql.fresh()
    staging = tmp_path / "staging"
    try:
        with flow_lock(lock_path(staging, "oir-send"), "oir send"):
            refused = _run(config, "journal", "migrate-to", url)
        assert refused.exit_code == 2, refused.output
        assert "toekgw: error: oir-send is running (it holds " in refused.output
        assert "before a copy of the journal; nothing was done" in refused.output
        assert open_journal(url).transmissions() == []
        with service_lock(staging):
            refused = _run(config, "journal", "migrate-to", url)
        assert "toekgw run is running" in refused.output
        assert _run(config, "journal", "migrate-to", url).exit_code == 0
    finally:
        postgresql.drop(url)


def test_a_commit_during_the_copy_is_not_half_in_it(
    tmp_path: Path, postgresql: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer no flow lock keeps out (an operator's payment action, the callback service)
    commits while the copy runs: the copy is the journal as of one moment. Each table read
    on its own took what was committed meanwhile into the tables read after it only: a copy
    of no single moment (a delivery's items without its transmission, had that table been
    read before the commit)."""
    source = tmp_path / "journal.sqlite"
    _filled(source)
    before = _story(source)
    url = postgresql.fresh()
    real_rows = journal_copy._rows
    written: list[str] = []

    def with_a_writer(db, table, columns):  # type: ignore[no-untyped-def]
        if not written:  # the first table is read: another process commits a delivery
            written.append(table)
            journal = open_journal(source)
            journal_delivery(journal, [instruction(90 + n) for n in range(3)], delivery=3)
            journal.close()
        yield from real_rows(db, table, columns)

    monkeypatch.setattr(journal_copy, "_rows", with_a_writer)
    try:
        copy_to_postgres(source, JournalUrl(url))
        assert written and _story(JournalUrl(url)) == before
        assert open_journal(url).integrity_problems() == []
    finally:
        postgresql.drop(url)
