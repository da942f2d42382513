"""The read log: a look-up of a citizen's data (an item's history, a payment search or view,
the error list) is a journal row naming who and what; `toekgw audit reads --cpr --month`
lists them, CPR numbers masked; the log is append-only."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import toekgw.gateway.journal._sqlite_reads as reads_module
from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import instruction
from tests.test_payments_cli import K, payments_config
from toekgw.cli.main import cli
from toekgw.gateway.danish_time import danish_today


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return payments_config(tmp_path, [instruction(n) for n in range(1, 4)])[0]


def _run(config: Path, who: str, *args: str) -> Result:
    result = CliRunner(env={"TOEKGW_USER": who}).invoke(cli, [*args, "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result


def test_reads_of_a_citizen_are_logged_and_listed_masked(config: Path) -> None:
    this_month = danish_today().strftime("%Y-%m")
    _run(config, "anna", "status", "--item", K[1])
    _run(config, "bo", "payments", "find", "--recipient", f"cpr:{cpr(1)}")
    _run(config, "carl", "payments", "show", K[2])
    _run(config, "dorte", "errors")

    mine = _run(config, "erik", "audit", "reads", "--cpr", cpr(1), "--month", this_month)
    lines = mine.stdout.splitlines()
    assert len(lines) == 2, mine.output
    assert "anna" in lines[0] and "status --item" in lines[0] and f"item {K[1]}" in lines[0]
    assert "bo" in lines[1] and "payments find" in lines[1] and f"{cpr(1)[:6]}-****" in lines[1]
    assert cpr(1) not in mine.output
    assert f"2 reads of {cpr(1)[:6]}-**** in {this_month}" in mine.output

    every = _run(config, "erik", "audit", "reads", "--month", this_month, "--json")
    rows = [json.loads(x) for x in every.stdout.splitlines()]
    assert [(r["by"], r["action"], r["citizens"]) for r in rows] == [
        ("anna", "status --item", 1),
        ("bo", "payments find", 1),
        ("carl", "payments show", 1),
        ("dorte", "errors", 0),
    ]
    other = _run(config, "erik", "audit", "reads", "--cpr", cpr(2), "--month", this_month)
    assert "carl" in other.stdout and "anna" not in other.stdout
    earlier = _run(config, "erik", "audit", "reads", "--cpr", cpr(1), "--month", "2001-01")
    assert earlier.stdout == ""


def test_a_month_of_reads_is_a_danish_month(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read at 23:30 UTC on 30 November is one of December's, at 00:30 Danish time."""
    monkeypatch.setattr(reads_module, "now", lambda: "2026-11-30T23:30:00.000000+00:00")
    _run(config, "anna", "status", "--item", K[1])
    monkeypatch.setattr(reads_module, "now", lambda: "2026-11-30T22:30:00.000000+00:00")
    _run(config, "bo", "status", "--item", K[1])
    december = _run(config, "erik", "audit", "reads", "--month", "2026-12")
    (line,) = december.stdout.splitlines()
    assert line.startswith("2026-12-01 00:30:00  anna"), line
    november = _run(config, "erik", "audit", "reads", "--month", "2026-11")
    (line,) = november.stdout.splitlines()
    assert line.startswith("2026-11-30 23:30:00  bo"), line
    every = _run(config, "erik", "audit", "reads", "--month", "2026-12", "--json")
    assert json.loads(every.stdout)["at"] == "2026-11-30T23:30:00.000000+00:00"


def test_the_read_log_is_append_only(config: Path) -> None:
    _run(config, "anna", "status", "--item", K[1])
    db = sqlite3.connect(config.parent / "var" / "journal.sqlite")
    for statement in ("UPDATE reads SET actor = 'nobody'", "DELETE FROM reads"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)
    db.close()


def test_a_bad_cpr_is_one_line_exit_2(config: Path) -> None:
    result = CliRunner().invoke(
        cli, ["audit", "reads", "--cpr", "12345", "--month", "2026-11", "--config", str(config)]
    )
    assert result.exit_code == 2 and "--cpr '12345': expected 10 digits" in result.output


@pytest.mark.parametrize(
    ("typed", "line"),
    [
        ("3213851234", "--cpr '321385-****': the first six digits are not a valid birth date"),
        ("150385123X", "--cpr '150385-****': expected 10 digits"),
        ("150385-123X", "--cpr '150385-****': expected 10 digits"),
    ],
)
def test_an_impossible_cpr_is_refused_and_never_shown_in_clear(
    config: Path, typed: str, line: str
) -> None:
    result = CliRunner().invoke(
        cli, ["audit", "reads", "--cpr", typed, "--month", "2026-11", "--config", str(config)]
    )
    assert result.exit_code == 2
    assert result.output.startswith(f"toekgw: error: {line}"), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert typed not in result.output and typed.replace("-", "") not in result.output
