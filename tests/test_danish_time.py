"""Danish time (``toekgw.gateway.danish_time``): the day an instant falls on in Denmark, and
no code taking the UTC date of an instant itself."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

import toekgw
from tests.sources import flagged
from toekgw.cli.main import cli
from toekgw.gateway.danish_time import danish_date, danish_date_of

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
    characters, its UTC date (or month)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and _stamp_date(node):
            lines.append(node.lineno)
            continue
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "today" and _named(node.func.value) == "date":
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
    """``created_at[:10]``, ``at[:7]``: a time stamp's UTC date or month by its characters."""
    name = _named(node.value)
    cut = node.slice
    return (
        (name == "at" or name.endswith("_at"))
        and isinstance(cut, ast.Slice)
        and cut.lower is None
        and isinstance(cut.upper, ast.Constant)
        and cut.upper.value in (7, 10)
    )


def test_the_check_finds_a_utc_date() -> None:
    source = (
        "x = now.date()\ny = self.now().date()\nz = self.clock().date()\n"
        "w = now().astimezone().date()\nok = today.date()\n"
        "named = at.astimezone(zone).date()\nv = dt.date.today()\nu = date.today()\n"
        "t = tx.created_at[:10]\nm = at[:7]\nfine = r.at[:19]\n"
    )
    assert _dates_of_instants(source) == [1, 2, 3, 4, 7, 8, 9, 10]


def test_no_code_takes_the_date_of_an_instant_itself() -> None:
    found = flagged(SOURCES, _dates_of_instants, besides="danish_time.py")
    assert found == [], "use toekgw.gateway.danish_time.danish_date: " + ", ".join(found)
