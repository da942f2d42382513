"""The column-wise birth-date table against python-stdnum, on every DDMMYY and 7th digit."""

from __future__ import annotations

import datetime as dt

import numpy as np

from toekgw.formats.dates import valid_dates
from toekgw.formats.idents import CENTURY_RULE_INDEX, birth_date_table, cpr_problem


def test_birth_date_table_agrees_with_stdnum_everywhere() -> None:
    table = birth_date_table(dt.date.today())
    rules = len(set(CENTURY_RULE_INDEX))
    disagree = []
    for dd in range(33):
        for mm in range(14):
            for yy in range(100):
                ddmmyy = (dd * 100 + mm) * 100 + yy
                for seventh in range(10):
                    number = f"{ddmmyy:06d}{seventh}000"
                    ours = bool(table[ddmmyy * rules + CENTURY_RULE_INDEX[seventh]])
                    if ours != (cpr_problem(number) is None):
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
