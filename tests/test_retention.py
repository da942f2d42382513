"""Retention: past its period a settled payment's personal data is replaced by keyed
pseudonyms and the staging copy deleted; amounts, dates and the verified hash chain stay; the
CPR numbers are gone from the database file's bytes; the read log still finds the citizen."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.configs import write_config
from tests.journals import journal_bytes
from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import instruction
from tests.test_payments_cli import K, _cycle, payments_config
from toekgw.adapters.config import load_settings
from toekgw.cli.main import cli
from toekgw.gateway.journal import open_journal
from toekgw.gateway.journal._item_rows import lookup_key
from toekgw.gateway.kinds import kind_names
from toekgw.gateway.retention import run_retention
from toekgw.gateway.retention_config import RETENTION_SECTION

RETENTION = """
[retention]
key_file = "pseudonym.key"
reads = 30

[retention.kinds]
g68-delivery = 30
payment-follow-up = 30
"""
PAYMENTS = range(1, 7)
REJECTED = 2  # failed and not handled: its recipient is still needed, kept in clear


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path, tx = payments_config(tmp_path, [instruction(n) for n in PAYMENTS], RETENTION)
    (tmp_path / "pseudonym.key").write_bytes(b"k" * 48)
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    copy = tmp_path / "var" / "staging" / "ksd" / "received" / "G68_0001.txt"
    copy.parent.mkdir(parents=True)
    copy.write_text("".join(f"{cpr(n)}\n" for n in PAYMENTS))
    journal.update_transmission(tx, reason="kept", local_path=str(copy))
    journal.set_state(tx, "received", reason="remote copy removed", expect="journaled")
    journal.close()
    _cycle(path, tmp_path, rejected=(REJECTED,))
    return path


def _run(config: Path, *args: str) -> Result:
    return CliRunner(env={"TOEKGW_USER": "anna"}).invoke(cli, [*args, "--config", str(config)])


def _files(config: Path) -> bytes:
    return journal_bytes(config.parent / "var" / "journal.sqlite")


def _money(config: Path) -> list[tuple[str, int, str]]:
    db = sqlite3.connect(config.parent / "var" / "journal.sqlite")
    rows = db.execute(
        "SELECT business_key, amount_ore, disposition_date FROM items ORDER BY id"
    ).fetchall()
    db.close()
    return rows


def test_retention_leaves_amounts_and_chain_and_no_cpr_in_the_file(config: Path) -> None:
    assert _run(config, "status", "--item", K[1]).exit_code == 0  # a read naming cpr(1)
    money = _money(config)
    settled = [cpr(n) for n in PAYMENTS if n != REJECTED]
    assert all(number.encode() in _files(config) for number in settled)

    settings = load_settings(config)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    journal = open_journal(settings.journal)
    report = run_retention(journal, settings.require(RETENTION_SECTION), later)
    chain = journal.verify_chain()
    again = run_retention(journal, settings.require(RETENTION_SECTION), later)
    journal.close()

    assert (report.items, report.staging_copies, report.reads) == (5, 1, 1), report
    assert (again.items, again.staging_copies, again.reads) == (0, 0, 0)
    assert report.log_emptied
    assert chain.problems == [] and chain.rows > 0
    assert _money(config) == money
    data = _files(config)
    for number in settled:
        assert number.encode() not in data, f"{number} still in the journal's files"
    assert cpr(REJECTED).encode() in data  # still to be handled: kept
    # A pseudonymised look-up key is indexed by its own digest: found as written now.
    db = sqlite3.connect(config.parent / "var" / "journal.sqlite")
    keys = db.execute(
        "SELECT lookup, lookup_key FROM items WHERE pseudonymised_at IS NOT NULL"
    ).fetchall()
    db.close()
    assert len(keys) == 5 and all(lookup is not None for lookup, _ in keys)
    assert all(key == lookup_key(lookup) for lookup, key in keys)
    assert not list((config.parent / "var" / "staging" / "ksd" / "received").iterdir())

    shown = _run(config, "status", "--item", K[1])
    assert "retention: personal data of 5 items replaced by pseudonyms" in shown.output
    assert "staging copy G68_0001.txt deleted" in shown.output
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    reads = _run(config, "audit", "reads", "--cpr", cpr(1), "--month", month)
    assert "status --item" in reads.stdout, reads.output


def test_the_command_runs_it_and_a_missing_key_is_one_line(config: Path) -> None:
    result = _run(config, "retention")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("retention: 0 items pseudonymised, 0 staging copies")
    (config.parent / "pseudonym.key").write_bytes(b"short")
    short = _run(config, "retention")
    assert short.exit_code == 2
    assert "pseudonym.key: 5 bytes, expected at least 32" in short.output


@pytest.mark.parametrize("command", ["retention", "doctor"])
def test_a_misspelt_kind_is_a_configuration_error(tmp_path: Path, command: str) -> None:
    config = write_config(tmp_path, RETENTION.replace("g68-delivery = 30", "g68-delivry = 5"))
    (tmp_path / "pseudonym.key").write_bytes(b"k" * 48)
    result = _run(config, command)
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "ok" not in result.stdout
    assert line.startswith(
        f"toekgw: error: {config}: [retention.kinds] g68-delivry: not a transmission kind "
        "(did you mean 'g68-delivery'?); known: "
    )
    assert set(line.split("; known: ")[1].split(", ")) == set(kind_names())
    assert {"g68-delivery", "payment-follow-up", "tok-payments"} <= set(kind_names())


# Loads only the configuration module, then every adapter module: each kind an adapter
# defines must have been known before, or a retention period for it would be refused.
_EVERY_KIND = """
import importlib, pkgutil
import toekgw.adapters
import toekgw.adapters.config
from toekgw.gateway.journal import KindSpec
from toekgw.gateway.kinds import kind_names
known = set(kind_names())
defined = set()
for module in pkgutil.walk_packages(toekgw.adapters.__path__, "toekgw.adapters."):
    for value in vars(importlib.import_module(module.name)).values():
        values = value.values() if isinstance(value, dict) else [value]
        defined |= {v.name for v in values if isinstance(v, KindSpec)}
print(sorted(defined - known), sorted(known - defined), len(defined))
"""


def test_the_configuration_knows_every_kind_an_adapter_defines() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _EVERY_KIND], capture_output=True, text=True, check=True
    ).stdout
    unknown, count = out.rsplit(" ", 1)
    assert unknown == "[] []", out  # none defined unknown; none known but not defined
    assert int(count) >= 20
