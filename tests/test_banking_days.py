"""Danish banking days with known dates: weekends, Easter, Grundlovsdag, Christmas, New Year."""

from __future__ import annotations

import datetime as dt

import pytest

from toekgw.gateway.banking_days import (
    add_banking_days,
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
