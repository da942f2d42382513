"""Danish identifiers, checked with python-stdnum, with the gateway's reading of the rules.

CPR: 10 digits whose first six are a valid date; the mod-11 check is *not* required (valid CPR
numbers issued since 2007 can fail it). CVR and SE: 8 digits with mod-11. P-number: 10 digits.
Each ``*_problem`` function returns ``None`` when the number is valid, else a short reason that
never repeats the number itself.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from stdnum.dk import cpr as _cpr
from stdnum.dk import cvr as _cvr
from stdnum.exceptions import ValidationError

from toekgw.formats.dates import valid_dates, ymd

__all__ = [
    "CENTURY_RULE",
    "CENTURY_RULE_INDEX",
    "birth_date_table",
    "cpr_problem",
    "cvr_problem",
    "pnumber_problem",
    "se_problem",
]


# The 7th digit only selects the century rule: digits with the same rule give the same date.
# (the rule of each 7th digit 0-9: python-stdnum's dk.cpr.get_birth_date reads them so).
CENTURY_RULE = "0000455554"
_CENTURY_CLASS = str.maketrans("0123456789", CENTURY_RULE)
_RULES = sorted(set(CENTURY_RULE))
# Each 7th digit's rule as an index of birth_date_table.
CENTURY_RULE_INDEX = tuple(_RULES.index(rule) for rule in CENTURY_RULE)


@lru_cache(maxsize=1 << 17)
def _birth_date(date_part: str) -> dt.date | None:
    # The birth date depends on DDMMYY and the century rule only; caching on them (at most
    # 36,525 dates x 3 rules) keeps a million-record validation cheap.
    try:
        return _cpr.get_birth_date(date_part + "000")
    except ValidationError:
        return None


def birth_date_table(today: dt.date) -> npt.NDArray[np.bool_]:
    """Whether each DDMMYY (0-999,999) under each century rule is a birth date that
    :func:`cpr_problem` accepts on ``today``: index ``ddmmyy * 3 + rule``, ``rule`` the
    :data:`CENTURY_RULE_INDEX` of the 7th digit.

    For checking whole columns at once (numpy). It restates python-stdnum's
    ``dk.cpr.get_birth_date`` (a real date) and :func:`cpr_problem` (not after ``today``); a
    test holds the two equal on every date.
    """
    # Only DD 01-31 and MM 01-12 can be dates: the rest of the table stays False.
    day, month, yy = (
        a.ravel() for a in np.meshgrid(np.arange(1, 32), np.arange(1, 13), np.arange(100))
    )
    number = (day * 100 + month) * 100 + yy
    limit = ymd(today)
    rules = len(_RULES)
    table = np.zeros(1_000_000 * rules, np.bool_)
    for index, rule in enumerate(_RULES):
        seventh = CENTURY_RULE.index(rule)  # a 7th digit of this rule
        if seventh in (5, 6, 7, 8):
            century = np.where(yy >= 58, 1800, 2000)
        elif seventh in (0, 1, 2, 3):
            century = np.full_like(yy, 1900)
        else:  # 4, 9
            century = np.where(yy >= 37, 1900, 2000)
        year = century + yy
        born = year * 10_000 + month * 100 + day
        table[number * rules + index] = valid_dates(year, month, day) & (born <= limit)
    return table


def cpr_problem(number: str, today: dt.date) -> str | None:
    """Why ``number`` is not a CPR number on ``today`` (the configured date, never the real
    clock), or ``None``. A valid birth date after ``today`` is its own reason: the date is
    fine, the person is not yet born."""
    if len(number) != 10 or not number.isdigit() or not number.isascii():
        return "a CPR number is 10 digits"
    born = _birth_date(number[:6] + number[6].translate(_CENTURY_CLASS))
    if born is None:
        return "the first six digits are not a valid birth date (DDMMYY)"
    if born > today:
        return f"the birth date is after {today.isoformat()}: the person is not yet born"
    return None


# Small on purpose: a validator keeps its own per-delivery verdicts; this only spares
# stdnum for the few employers and firms that recur everywhere, and stays a bounded size.
@lru_cache(maxsize=4096)
def cvr_problem(number: str) -> str | None:
    if len(number) != 8 or not number.isdigit() or not number.isascii():
        return "a CVR/SE number is 8 digits"
    try:
        _cvr.validate(number)
    except ValidationError:
        return "a CVR/SE number must pass the mod-11 check"
    return None


se_problem = cvr_problem


def pnumber_problem(number: str) -> str | None:
    if len(number) != 10 or not number.isdigit() or not number.isascii():
        return "a P-number is 10 digits"
    return None
