"""The debtor system's balance report: each claim's remaining debt (ours).

Confirmed: reconciliation of claims compares the fagsystem's books with the debtor system's.
Not public: how the debtor system reports its balances. Ours, in this one module: a CSV file
(UTF-8, ``;``-separated, a header line) ``cvr;fordring_id;restgaeld_ore`` - the municipality's
CVR, the claim's id in the debtor system and its remaining debt in øre (an integer >= 0).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

__all__ = ["HEADER", "BadSaldo", "Saldo", "read_saldo", "write_saldo"]

HEADER = "cvr;fordring_id;restgaeld_ore"


class BadSaldo(ValueError):
    """A line of the report cannot be read (the text names the line and what was expected)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Saldo:
    cvr: str
    fordring_id: str
    restgaeld_ore: int


def write_saldo(saldi: Iterable[Saldo]) -> str:
    lines = [HEADER, *(f"{s.cvr};{s.fordring_id};{s.restgaeld_ore}" for s in saldi)]
    return "\n".join(lines) + "\n"


def _digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also says yes to ``²`` (which ``int`` refuses) and
    to ``١٢٣`` (which it reads as 123)."""
    return text.isascii() and text.isdigit()


def read_saldo(lines: Iterable[str]) -> Iterator[Saldo]:
    """The report's rows, one at a time (a report of any size streams). A report without
    its header line (an empty file too) is refused: it cannot say that no claim is owed."""
    number = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if number == 1:
            if line.lstrip("\ufeff") != HEADER:
                raise BadSaldo(f"line 1: expected the header {HEADER!r}")
            continue
        if not line:
            continue
        fields = line.split(";")
        if len(fields) != 3:
            raise BadSaldo(f"line {number}: expected 3 fields ({HEADER}), found {len(fields)}")
        cvr, fordring_id, amount = fields
        if not (_digits(cvr) and len(cvr) == 8):
            raise BadSaldo(f"line {number}: cvr: expected 8 digits")
        if not fordring_id:
            raise BadSaldo(f"line {number}: fordring_id: expected a claim id")
        if not _digits(amount):
            raise BadSaldo(f"line {number}: restgaeld_ore: expected an integer >= 0")
        yield Saldo(cvr, fordring_id, int(amount))
    if number == 0:
        raise BadSaldo(f"line 1: expected the header {HEADER!r}, found an empty report")
