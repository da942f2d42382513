"""Danish time (``toekgw.gateway.danish_time``): the day an instant falls on in Denmark, the
instant a Danish day begins, and no code taking the UTC date of an instant (or the UTC
midnight of a date) itself."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import toekgw
import toekgw.gateway.journal._sqlite_errors as errors_module
from tests.guide import run_example
from tests.nemkonto_flow_data import instruction
from tests.sources import flagged
from tests.test_payments_cli import payments_config
from toekgw.cli.main import cli
from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.danish_time import (
    danish_clock,
    danish_date,
    danish_date_of,
    danish_midnight,
    danish_stamp,
)
from toekgw.gateway.journal import open_journal
from toekgw.gateway.journal._sqlite_connection import now

SOURCES = Path(toekgw.__file__).parent
UTC = dt.UTC


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        # winter (CET, UTC+1): the Danish day starts at 23:00 UTC
        (dt.datetime(2026, 12, 5, 22, 59, 59, tzinfo=UTC), dt.date(2026, 12, 5)),
        (dt.datetime(2026, 12, 5, 23, 0, tzinfo=UTC), dt.date(2026, 12, 6)),
        # summer (CEST, UTC+2): at 22:00 UTC
        (dt.datetime(2026, 6, 5, 21, 59, 59, tzinfo=UTC), dt.date(2026, 6, 5)),
        (dt.datetime(2026, 6, 5, 22, 0, tzinfo=UTC), dt.date(2026, 6, 6)),
        # a month's and a year's last hour in UTC is the next month's first in Denmark
        (dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC), dt.date(2027, 1, 1)),
        # an instant given in another zone is the same instant
        (dt.datetime(2026, 12, 5, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
         dt.date(2026, 12, 6)),
    ],
)  # fmt: skip
def test_the_danish_date_of_an_instant(instant: dt.datetime, day: dt.date) -> None:
    assert danish_date(instant) == day


def test_the_danish_date_of_a_journal_time_stamp() -> None:
    """The journal's stamps are UTC with their offset: 23:30 on 30 November is 1 December."""
    assert danish_date_of("2026-11-30T23:30:00.000001+00:00") == dt.date(2026, 12, 1)
    assert danish_date_of("2026-11-30T22:59:59.999999+00:00") == dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("day", "begins"),
    [
        (dt.date(2026, 12, 1), dt.datetime(2026, 11, 30, 23, 0, tzinfo=UTC)),  # CET
        (dt.date(2027, 6, 1), dt.datetime(2027, 5, 31, 22, 0, tzinfo=UTC)),  # CEST
        # the days the clocks change (at 02:00 and 03:00) begin as the day before did
        (dt.date(2027, 3, 28), dt.datetime(2027, 3, 27, 23, 0, tzinfo=UTC)),
        (dt.date(2027, 3, 29), dt.datetime(2027, 3, 28, 22, 0, tzinfo=UTC)),
        (dt.date(2027, 10, 31), dt.datetime(2027, 10, 30, 22, 0, tzinfo=UTC)),
        (dt.date(2027, 11, 1), dt.datetime(2027, 10, 31, 23, 0, tzinfo=UTC)),
    ],
)
def test_the_instant_a_danish_day_begins(day: dt.date, begins: dt.datetime) -> None:
    assert danish_midnight(day) == begins
    assert danish_midnight(day).utcoffset() == dt.timedelta(0)
    assert danish_date(begins) == day
    assert danish_date(begins - dt.timedelta(microseconds=1)) == day - dt.timedelta(days=1)


def test_a_danish_day_bounds_the_journal_time_stamps_as_text() -> None:
    """A stamp as the journal writes it is on or after the Danish day exactly when it sorts
    at or after :func:`danish_stamp` of it."""
    bound = danish_stamp(dt.date(2026, 12, 1))
    assert bound == "2026-11-30T23:00:00.000000+00:00"
    assert len(bound) == len(now())
    for stamp, on_or_after in [
        ("2026-11-30T22:59:59.999999+00:00", False),
        ("2026-11-30T23:00:00.000000+00:00", True),
        ("2026-11-30T23:30:00.000001+00:00", True),
        ("2026-12-01T00:00:00.000000+00:00", True),
    ]:
        assert (stamp >= bound) is on_or_after
        assert (danish_date_of(stamp) >= dt.date(2026, 12, 1)) is on_or_after


def test_a_command_shows_a_time_stamp_in_danish_time() -> None:
    assert danish_clock("2026-11-30T23:30:00.000001+00:00") == "2026-12-01 00:30:00"
    assert danish_clock("2027-06-01T22:30:00.000001+00:00", precise=True) == (
        "2027-06-02 00:30:00.000001"
    )
    assert danish_clock(dt.datetime(2026, 12, 5, 12, 0, tzinfo=UTC)) == "2026-12-05 13:00:00"
    assert danish_clock("2026-12-05T12:00:00") == "2026-12-05 13:00:00"  # a stamp: UTC
    with pytest.raises(ValueError, match="no time zone"):
        danish_clock(dt.datetime(2026, 12, 5, 12, 0))


def test_a_naive_datetime_has_no_danish_date() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        danish_date(dt.datetime(2026, 12, 5, 23, 30))


def test_a_command_reckons_today_in_denmark_whatever_the_machine(tmp_path: Path) -> None:
    """At 22:30 UTC on 1 June 2027 it is 2 June in Denmark: ``validate g68`` counts a
    payment's age from 2 June (on a machine in UTC, ``date.today()`` says 1 June)."""
    path = tmp_path / "june.g68"
    runner = CliRunner()
    made = runner.invoke(cli, ["generate", "g68", "--count", "3", "--seed", "1", "--today",
                               "2026-06-01", "-o", str(path)], obj={"debug": False})  # fmt: skip
    assert made.exit_code == 0, made.output
    result = runner.invoke(cli, ["validate", "g68", str(path)], obj={"debug": False},
                           env={"TOEKGW_CLOCK": "2027-06-01T22:30:00+00:00"})  # fmt: skip
    assert result.exit_code == 1
    assert "expected on or after 2027-04-03" in result.output, result.output


def _dates_of_instants(source: str) -> list[int]:
    """Lines that take ``.date()`` of an instant read from a clock: ``now.date()``,
    ``now().date()``, ``self.now().date()``, ``self.clock().date()``, the machine's zone's
    ``.astimezone().date()`` and the like (``.astimezone(zone).date()`` names its zone), or
    the machine's own date, ``date.today()``, or a time stamp's first ten (or seven)
    characters, its UTC date (or month), in Python or in SQL (``substr(updated_at, 1, 7)``),
    or its first 19, its UTC time shown as if it were Denmark's;
    or the UTC midnight of a date, ``datetime.combine(day, time(), UTC)``, where a Danish day
    begins at ``danish_midnight(day)``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and _sql_stamp_date(node.value):
            lines.append(node.lineno)
            continue
        if isinstance(node, ast.Subscript) and _stamp_date(node):
            lines.append(node.lineno)
            continue
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "today" and _named(node.func.value) == "date":
            lines.append(node.lineno)
            continue
        if node.func.attr == "combine" and _utc_midnight(node):
            lines.append(node.lineno)
            continue
        if node.func.attr != "date" or node.args:
            continue
        owner = node.func.value
        if isinstance(owner, ast.Call):
            if owner.args:  # astimezone(zone)
                continue
            owner = owner.func
        if _named(owner) in {"now", "clock", "astimezone", "utcnow"}:
            lines.append(node.lineno)
    return lines


def _named(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _stamp_date(node: ast.Subscript) -> bool:
    """``created_at[:10]``, ``at[:7]``: a time stamp's UTC date or month by its characters;
    ``e.at[:19]``, ``since.isoformat()[:19]``: its UTC time, shown as if it were Denmark's."""
    value = node.value
    name = _named(value)
    if isinstance(value, ast.Call):
        first = value.args[0] if value.args else None
        if _named(value.func) == "isoformat":
            name = "at"  # an instant's text, cut
        elif isinstance(first, ast.Constant) and isinstance(first.value, str):
            name = first.value  # record.text("at"), meta.get("sent_at")
    cut = node.slice
    return (
        (name == "at" or name.endswith("_at"))
        and isinstance(cut, ast.Slice)
        and cut.lower is None
        and isinstance(cut.upper, ast.Constant)
        and cut.upper.value in (7, 10, 13, 16, 19, 26)
    )


def _utc_midnight(node: ast.Call) -> bool:
    """``datetime.combine(day, time(), UTC)`` (or ``tzinfo=UTC``)."""
    zone = node.args[2] if len(node.args) > 2 else None
    zone = next((k.value for k in node.keywords if k.arg == "tzinfo"), zone)
    at = node.args[1] if len(node.args) > 1 else None
    return (
        zone is not None
        and _named(zone) == "UTC"
        and isinstance(at, ast.Call)
        and _named(at.func) == "time"
        and not at.args
    )


_STAMP_COLUMN = r"(\w+\.)?(\w+_)?at"
_SQL_CUT = re.compile(
    rf"\b(substr|substring|left)\s*\(\s*{_STAMP_COLUMN}\s*,\s*(1\s*,\s*)?(7|10)\s*\)"
    rf"|\bdate\s*\(\s*{_STAMP_COLUMN}\s*\)|\bstrftime\s*\(\s*'[^']*'\s*,\s*{_STAMP_COLUMN}\b",
    re.IGNORECASE,
)


def _sql_stamp_date(value: object) -> bool:
    """SQL that takes a time stamp column's (``at``, ``*_at``) UTC date or month: its first 7
    or 10 characters, SQLite's ``date()`` or ``strftime()`` of it."""
    return isinstance(value, str) and bool(_SQL_CUT.search(value))


def test_the_check_finds_a_utc_date() -> None:
    source = (
        "x = now.date()\ny = self.now().date()\nz = self.clock().date()\n"
        "w = now().astimezone().date()\nok = today.date()\n"
        "named = at.astimezone(zone).date()\nv = dt.date.today()\nu = date.today()\n"
        "t = tx.created_at[:10]\nm = at[:7]\nshown = r.at[:19]\n"
        "s = 'SELECT 1 WHERE substr(a.updated_at, 1, 7) >= ?'\nq = 'left(at, 10)'\n"
        "fine = 'substr(name, 1, 7)'\n"
        "sd = 'SELECT date(e.at) FROM events e'\nsf = \"strftime('%Y-%m', created_at)\"\n"
        "fine = 'date(?)'\n"
        "d = dt.datetime.combine(day, dt.time(), dt.UTC)\n"
        "e = datetime.combine(day, time(), tzinfo=UTC)\n"
        "noon = dt.datetime.combine(day, dt.time(12), dt.UTC)\n"
        "local = dt.datetime.combine(day, dt.time(), DANISH_TIME)\n"
        "since = o.since.isoformat()[:19]\nfine = head[:16]\nfine = at[3:19]\n"
        "r = record.text('at')[:19]\nfine = record.text('by')[:19]\n"
    )
    assert _dates_of_instants(source) == [
        1,
        2,
        3,
        4,
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        15,
        16,
        18,
        19,
        22,
        25,
    ]


def test_no_code_takes_the_date_of_an_instant_itself() -> None:
    found = flagged(SOURCES, _dates_of_instants, besides="danish_time.py")
    assert found == [], "use toekgw.gateway.danish_time (danish_date, danish_clock): " + ", ".join(
        found
    )


def test_the_developers_guide_example_of_danish_days_runs() -> None:
    assert run_example("Money, days and the clock") == []


def test_the_error_list_shows_when_in_danish_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry listed at 23:30 UTC on 30 November shows as 1 December, 00:30 (the journal's
    stamp, cut, said 2026-11-30T23:30:00); its ``--json`` keeps the stamp."""
    config, tx = payments_config(tmp_path, [instruction(1)])
    monkeypatch.setattr(errors_module, "now", lambda: "2026-11-30T23:30:00.000001+00:00")
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    journal.add_error(counterpart="ksd", subject="delivery", transmission_id=tx,
                      findings=[Finding("x.y", Severity.ERROR, "a finding")])  # fmt: skip
    journal.close()
    runner = CliRunner()
    shown = runner.invoke(cli, ["errors", "--config", str(config)], obj={"debug": False})
    assert shown.exit_code == 0, shown.output
    assert "2026-12-01 00:30:00 ksd delivery" in shown.output, shown.output
    as_json = runner.invoke(cli, ["errors", "--format", "json", "--config", str(config)])
    assert "2026-11-30T23:30:00.000001+00:00" in as_json.output, as_json.output
