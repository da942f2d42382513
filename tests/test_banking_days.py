"""Danish banking days with known dates: weekends, Easter, Grundlovsdag, Christmas, New Year."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from toekgw.gateway.banking_days import (
    BankCalendar,
    add_banking_days,
    easter_sunday,
    is_banking_day,
    is_due_for_release,
    next_banking_day,
    release_date,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 11, 23), True),  # Monday
        (D(2026, 11, 21), False),  # Saturday
        (D(2026, 11, 22), False),  # Sunday
        (D(2026, 4, 2), False),  # Maundy Thursday
        (D(2026, 4, 3), False),  # Good Friday
        (D(2026, 4, 6), False),  # Easter Monday
        (D(2026, 4, 7), True),
        (D(2026, 5, 1), True),  # 1 May: banks are open
        (D(2026, 5, 14), False),  # Ascension Day
        (D(2026, 5, 25), False),  # Whit Monday
        (D(2026, 6, 5), False),  # Grundlovsdag (a Friday), banks' closing day
        (D(2026, 12, 24), False),  # Christmas Eve (Thursday)
        (D(2026, 12, 25), False),
        (D(2026, 12, 28), True),
        (D(2026, 12, 31), False),  # New Year's Eve (Thursday)
        (D(2027, 1, 1), False),
        (D(2023, 5, 5), False),  # Store Bededag, still a holiday in 2023
        (D(2024, 4, 26), True),  # abolished from 2024
    ],
)
def test_is_banking_day(day: dt.date, expected: bool) -> None:
    assert is_banking_day(day) is expected


def test_release_two_banking_days_before_over_a_weekend() -> None:
    # Disposition Tuesday 24 Nov 2026 -> Friday 20 Nov.
    assert release_date(D(2026, 11, 24)) == D(2026, 11, 20)
    assert release_date(D(2026, 11, 26)) == D(2026, 11, 24)


def test_release_before_easter() -> None:
    # Tuesday after Easter 2026: back over Easter Monday, the weekend, Good Friday and
    # Maundy Thursday to Tuesday 31 March and Wednesday 1 April.
    assert release_date(D(2026, 4, 7)) == D(2026, 3, 31)
    assert release_date(D(2026, 4, 7), banking_days_before=1) == D(2026, 4, 1)


def test_release_around_christmas_and_new_year() -> None:
    # 4 Jan 2027 (Monday): 1 Jan, 31 Dec closed -> 30 Dec (1), 29 Dec (2).
    assert release_date(D(2027, 1, 4)) == D(2026, 12, 29)
    # 28 Dec 2026 (Monday): 24-27 Dec closed -> 23 Dec (1), 22 Dec (2).
    assert release_date(D(2026, 12, 28)) == D(2026, 12, 22)


def test_release_for_a_disposition_date_that_is_no_banking_day() -> None:
    # Sunday 22 Nov 2026 -> Friday 20 (1), Thursday 19 (2).
    assert release_date(D(2026, 11, 22)) == D(2026, 11, 19)
    assert release_date(D(2026, 11, 22), banking_days_before=0) == D(2026, 11, 22)
    with pytest.raises(ValueError, match="0 or more"):
        release_date(D(2026, 11, 22), banking_days_before=-1)


def test_add_banking_days_both_ways() -> None:
    assert add_banking_days(D(2026, 12, 23), 1) == D(2026, 12, 28)
    assert add_banking_days(D(2026, 12, 28), -1) == D(2026, 12, 23)
    assert add_banking_days(D(2026, 6, 4), 1) == D(2026, 6, 8)
    assert add_banking_days(D(2026, 6, 6), 0) == D(2026, 6, 6)
    assert next_banking_day(D(2026, 12, 24)) == D(2026, 12, 28)
    assert next_banking_day(D(2026, 12, 23)) == D(2026, 12, 23)


def test_due_for_release() -> None:
    disposition = D(2026, 11, 26)
    assert not is_due_for_release(disposition, D(2026, 11, 23))
    assert is_due_for_release(disposition, D(2026, 11, 24))
    assert is_due_for_release(disposition, D(2026, 11, 27))  # late: goes at once
    assert is_due_for_release(disposition, D(2026, 11, 1), immediate=True)
    assert is_due_for_release(disposition, D(2026, 11, 25), banking_days_before=1)
    assert not is_due_for_release(disposition, D(2026, 11, 24), banking_days_before=1)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 5, 15), False),  # the Friday after Ascension Day 2026 (14 May)
        (D(2027, 5, 7), False),  # the Friday after Ascension Day 2027 (6 May)
        (D(2025, 5, 30), False),  # the Friday after Ascension Day 2025 (29 May)
        (D(2026, 5, 13), True),
        (D(2026, 5, 18), True),
        (D(2027, 5, 10), True),
    ],
)
def test_the_friday_after_ascension_is_a_closing_day(day: dt.date, expected: bool) -> None:
    assert is_banking_day(day) is expected


def test_release_in_the_ascension_week_2026() -> None:
    # Monday 18 May 2026: Fri 15 (closing day), Thu 14 (Ascension) -> Wed 13 (1), Tue 12 (2).
    assert release_date(D(2026, 5, 18)) == D(2026, 5, 12)
    assert not is_due_for_release(D(2026, 5, 18), D(2026, 5, 11))
    assert is_due_for_release(D(2026, 5, 18), D(2026, 5, 12))


def test_release_in_the_ascension_week_2027() -> None:
    # Monday 10 May 2027: Fri 7 (closing day), Thu 6 (Ascension) -> Wed 5 (1), Tue 4 (2).
    assert release_date(D(2027, 5, 10)) == D(2027, 5, 4)
    assert add_banking_days(D(2027, 5, 5), 1) == D(2027, 5, 10)


def test_easter_sunday_matches_the_holidays_package() -> None:
    import holidays

    for year in range(2020, 2040):
        public = holidays.country_holidays("DK", years=year, categories=("public",))
        assert public.get(easter_sunday(year)) is not None, year


def test_extra_closing_days_from_configuration() -> None:
    calendar = BankCalendar.with_extra([D(2026, 11, 23)])
    assert not calendar.is_banking_day(D(2026, 11, 23))
    assert is_banking_day(D(2026, 11, 23))  # the standard calendar is unchanged
    # Wednesday 25 Nov 2026: Tue 24 (1), Mon 23 closed, Fri 20 (2).
    assert calendar.release_date(D(2026, 11, 25)) == D(2026, 11, 20)
    assert release_date(D(2026, 11, 25)) == D(2026, 11, 23)


def test_extra_closing_days_are_read_from_the_nemkonto_table(tmp_path: Path) -> None:
    from toekgw.adapters.nemkonto.settings import NEMKONTO_SECTION, NemKontoSettings
    from toekgw.gateway.config import ConfigError, CoreSettings, Table

    core = CoreSettings(tmp_path / "c.toml", tmp_path / "j.sqlite", tmp_path)

    def parse(extra: object) -> NemKontoSettings:
        data = {
            "mq": {"transport": "sqlite", "queue_db": "q.sqlite"},
            "authorities": {},
            "extra_closing_days": extra,
        }
        return NEMKONTO_SECTION.parse(Table(tmp_path / "c.toml", "nemkonto", data), core)

    assert parse([D(2027, 6, 4)]).extra_closing_days == (D(2027, 6, 4),)
    with pytest.raises(ConfigError, match=r"extra_closing_days: expected a list of dates"):
        parse(["2027-06-04"])
