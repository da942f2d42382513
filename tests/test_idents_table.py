"""The column-wise birth-date table against python-stdnum, on every DDMMYY and 7th digit."""

from __future__ import annotations

import datetime as dt

import numpy as np

from toekgw.formats.dates import valid_dates
from toekgw.formats.idents import CENTURY_RULE_INDEX, birth_date_table, cpr_problem


def test_birth_date_table_agrees_with_stdnum_everywhere() -> None:
    today = dt.date(2026, 12, 4)
    table = birth_date_table(today)
    rules = len(set(CENTURY_RULE_INDEX))
    disagree = []
    for dd in range(33):
        for mm in range(14):
            for yy in range(100):
                ddmmyy = (dd * 100 + mm) * 100 + yy
                for seventh in range(10):
                    number = f"{ddmmyy:06d}{seventh}000"
                    ours = bool(table[ddmmyy * rules + CENTURY_RULE_INDEX[seventh]])
                    if ours != (cpr_problem(number, today) is None):
                        disagree.append(number)
    assert disagree == []
    assert table.sum() > 90_000  # about 3 x 36,500 dates, less the ones not yet born


def test_valid_dates_agrees_with_datetime() -> None:
    years = [1, 4, 100, 1900, 2000, 2023, 2024, 2100, 2400, 9999, 0, 10000]
    rows = [(y, m, d) for y in years for m in range(0, 14) for d in range(0, 33)]
    y, m, d = (np.array(c, np.int64) for c in zip(*rows, strict=True))
    ours = valid_dates(y, m, d).tolist()

    def real(y: int, m: int, d: int) -> bool:
        try:
            dt.date(y, m, d)
        except ValueError:
            return False
        return True

    assert ours == [real(*r) for r in rows]


def test_the_cpr_check_takes_the_configured_date_and_knows_the_unborn() -> None:
    born_2026_12_01 = "0112264234"  # 7th digit 4 and YY 26: the 2000s
    assert cpr_problem(born_2026_12_01, dt.date(2026, 12, 1)) is None
    assert cpr_problem(born_2026_12_01, dt.date(2030, 1, 1)) is None
    unborn = cpr_problem(born_2026_12_01, dt.date(2026, 11, 30))
    assert unborn == "the birth date is after 2026-11-30: the person is not yet born"
    assert cpr_problem("3102264234", dt.date(2030, 1, 1)) == (
        "the first six digits are not a valid birth date (DDMMYY)"
    )
    table = birth_date_table(dt.date(2026, 11, 30))
    assert not table[11226 * 3 + CENTURY_RULE_INDEX[4]]
    assert birth_date_table(dt.date(2026, 12, 1))[11226 * 3 + CENTURY_RULE_INDEX[4]]
