"""Øre shown as kroner for tables and messages: ``-1,234.56`` (integer arithmetic, no floats)."""

from __future__ import annotations

__all__ = ["kroner"]


def kroner(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    kr, rest = divmod(abs(ore), 100)
    return f"{sign}{kr:,}.{rest:02d}"
