"""Øre shown as kroner for tables and messages: ``-1,234.56`` (integer arithmetic, no floats),
and kroner an operator typed read back as øre."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["MAX_ORE", "kroner", "parse_kroner"]

#: The largest amount an operator may give (999,999,999,999.99 kr): far above any payment
#: (G68 holds 11 digits of øre) and far below what the journal's integers hold.
MAX_ORE = 10**14 - 1


def kroner(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    kr, rest = divmod(abs(ore), 100)
    return f"{sign}{kr:,}.{rest:02d}"


def parse_kroner(text: str) -> int:
    """``1234.56`` (or ``1234,56``) kroner as øre; a ValueError saying what was expected for
    anything else: not a number, NaN or infinity, more than :data:`MAX_ORE`, below the øre."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError("expected kroner like 1234.56") from None
    if not value.is_finite() or abs(value) * 100 > MAX_ORE:
        raise ValueError(f"expected kroner like 1234.56, at most {kroner(MAX_ORE)}")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("at most two decimals (øre)")
    return int(value * 100)
