"""Who did what: every journal event names the acting identity - the person ($TOEKGW_USER, else
the OS user) or, for what ``toekgw run`` does, the service's configured identity."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.service_world import World
from tests.test_nemkonto_flow_cli import CONFIG
from toekgw.cli.main import cli
from toekgw.gateway.journal import open_journal


def test_every_event_names_who(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOEKGW_USER", "anna")
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    tx = journal_delivery(journal, [instruction(n) for n in range(1, 3)])
    monkeypatch.setenv("TOEKGW_USER", "bo")
    journal.set_state(tx, "received", reason="remote copy removed", expect="journaled")
    events = journal.events(tx)
    item = next(journal.items(tx))
    story = journal.item_history(item.id)
    journal.close()
    assert [e.actor for e in events] == ["anna"] * (len(events) - 1) + ["bo"]
    assert {e.actor for e in story.events} == {"anna", "bo"}
    shown = CliRunner().invoke(
        cli, ["status", "--item", item.business_key, "--config", str(config)]
    )
    assert "(by anna)" in shown.output and "(by bo)" in shown.output, shown.output


def test_the_service_acts_as_its_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOEKGW_USER", "someone")  # restored after the test
    world = World(tmp_path)
    config = world.write_config('\n[run]\nmetrics_port = 0\nidentity = "toekgw-service"\n')
    now = dt.datetime.now(dt.UTC)
    world.plan(now, 1, count=5, straks=True)
    world.arrive(now)
    result = CliRunner().invoke(cli, ["run", "--once", "--config", str(config)])
    assert "receive-g68: 1 received" in result.output, result.output
    db = sqlite3.connect(world.var / "journal.sqlite")
    actors = {row[0] for row in db.execute("SELECT actor FROM events")}
    db.close()
    assert actors == {"toekgw-service"}


def test_the_service_receive_job_counts_the_records_with_errors(tmp_path: Path) -> None:
    """The receive job's line says how many errors a delivery put on the error list."""
    world = World(tmp_path)
    config = world.write_config("\n[run]\nmetrics_port = 0\n")
    now = dt.datetime.now(dt.UTC)
    world.plan(now, 1, count=300)
    world.arrive(now)
    result = CliRunner().invoke(cli, ["run", "--once", "--config", str(config)])
    db = sqlite3.connect(world.var / "journal.sqlite")
    (errors,) = db.execute(
        "SELECT count(*) FROM error_findings WHERE severity = 'error'"
    ).fetchone()
    db.close()
    assert errors > 0  # the delivery plants errors (2 %)
    line = f"receive-g68: 1 received; {errors} errors on the error list"
    assert line in result.output, result.output
