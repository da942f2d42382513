"""The commands' clock (``toekgw.cli.clock``): the system's, or the one ``$TOEKGW_CLOCK``
names, and no command reading the time from :mod:`datetime` itself."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.sources import flagged
from toekgw.cli import clock
from toekgw.cli.main import cli
from toekgw.gateway.danish_time import danish_date

CLI_SOURCES = Path(clock.__file__).parent
#: Calls that read the system's clock: a command asks toekgw.cli.clock instead.
_SYSTEM_CLOCK = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def _run(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, args, obj={"debug": False}, env=env)


@pytest.fixture
def june_delivery(tmp_path: Path) -> Path:
    """A clean G68 delivery whose payment dates lie in June 2026."""
    path = tmp_path / "june.g68"
    made = _run(["generate", "g68", "--count", "3", "--seed", "1", "--today", "2026-06-01",
                 "-o", str(path)])  # fmt: skip
    assert made.exit_code == 0, made.output
    return path


def test_validate_takes_its_today_from_the_named_clock(june_delivery: Path) -> None:
    in_june = _run(["validate", "g68", str(june_delivery)],
                   {"TOEKGW_CLOCK": "2026-06-01T10:00:00+02:00"})  # fmt: skip
    assert in_june.exit_code == 0, in_june.output
    assert "0 errors" in in_june.output
    # A year on, the same payments are more than 60 days old.
    a_year_on = _run(["validate", "g68", str(june_delivery)],
                     {"TOEKGW_CLOCK": "2027-06-01T10:00:00+02:00"})  # fmt: skip
    assert a_year_on.exit_code == 1
    assert a_year_on.output.count("g68.date.too_old") == 3
    assert "expected on or after 2027-04-02" in a_year_on.output


def test_a_clock_that_is_not_one_is_a_usage_error_of_one_line(june_delivery: Path) -> None:
    result = _run(["validate", "g68", str(june_delivery)], {"TOEKGW_CLOCK": "2026-06-01"})
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "$TOEKGW_CLOCK" in lines[0] and "offset" in lines[0]
    assert "Traceback" not in result.output


def test_the_named_clock_runs_on_at_its_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    start = dt.datetime(2026, 11, 30, 23, 59, 59, tzinfo=dt.UTC)
    monkeypatch.setenv(clock.CLOCK_ENV, f"{start.isoformat()}@3600")
    first = clock.now()
    assert start <= first < start + dt.timedelta(hours=1)
    later = clock.now()
    assert later >= first  # one clock per process: it does not start over
    monkeypatch.delenv(clock.CLOCK_ENV)
    assert abs(clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
    assert clock.today() == danish_date(dt.datetime.now(dt.UTC))


def _system_clock_reads(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if (name, node.func.attr) in _SYSTEM_CLOCK:
                lines.append(node.lineno)
    return lines


def test_the_check_finds_a_system_clock_read() -> None:
    assert _system_clock_reads("import datetime as dt\nx = dt.date.today()\n") == [2]
    assert _system_clock_reads("from datetime import datetime\nx = datetime.now()\n") == [2]


def test_no_command_reads_the_system_clock_itself() -> None:
    found = flagged(CLI_SOURCES, _system_clock_reads, besides="clock.py")
    assert found == [], "read toekgw.cli.clock instead: " + ", ".join(found)
