"""Danish identifiers, checked with python-stdnum, with the gateway's reading of the rules.

CPR: 10 digits whose first six are a valid date; the mod-11 check is *not* required (valid CPR
numbers issued since 2007 can fail it). CVR and SE: 8 digits with mod-11. P-number: 10 digits.
Each ``*_problem`` function returns ``None`` when the number is valid, else a short reason that
never repeats the number itself.
"""

from __future__ import annotations

from functools import lru_cache

from stdnum.dk import cpr as _cpr
from stdnum.dk import cvr as _cvr
from stdnum.exceptions import ValidationError

__all__ = ["cpr_problem", "cvr_problem", "pnumber_problem", "se_problem"]


# The 7th digit only selects the century rule: digits with the same rule give the same date.
_CENTURY_CLASS = str.maketrans("0123456789", "0000455554")


@lru_cache(maxsize=1 << 17)
def _birth_date_problem(date_part: str) -> str | None:
    # The birth date depends on DDMMYY and the century rule only; caching on them (at most
    # 36,525 dates x 3 rules) keeps a million-record validation cheap.
    try:
        _cpr.validate(date_part + "000")
    except ValidationError:
        return "the first six digits are not a valid birth date (DDMMYY)"
    return None


def cpr_problem(number: str) -> str | None:
    if len(number) != 10 or not number.isdigit() or not number.isascii():
        return "a CPR number is 10 digits"
    return _birth_date_problem(number[:6] + number[6].translate(_CENTURY_CLASS))


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
