"""The accounts a voucher may use: TØK's sortiment (the SF7002 replica) on a given day."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from toekgw.formats.findings import Finding, Severity
from toekgw.formats.oir import Account
from toekgw.gateway.journal.books import Books, ClassRow

__all__ = ["Chart", "current_chart"]


class Chart:
    """The classes of one sortiment version, by account code."""

    def __init__(self, sortiment: str, version: int | None, classes: Iterable[ClassRow]) -> None:
        self.sortiment, self.version = sortiment, version
        self._by_code: dict[str, list[ClassRow]] = defaultdict(list)
        for c in classes:
            self._by_code[c.code].append(c)

    def find(self, account: Account, day: dt.date) -> ClassRow | Finding:
        """The class of ``account`` valid on ``day``, or a finding saying why there is none.
        A class removed from the sortiment is never valid: it is known only for history."""
        known = self._by_code.get(account.code, [])
        rows = [r for r in known if r.removed_in is None]
        for row in rows:
            if row.valid_on(day):
                return row
        if self.version is None:
            why = f"no sortiment {self.sortiment} has been received"
        elif known and not rows:
            removed = max(r.removed_in or 0 for r in known)
            why = (
                f"removed from sortiment {self.sortiment} in version {removed} (known for "
                "what was posted on it before; nothing new may be)"
            )
        elif rows:
            spans = ", ".join(
                f"{r.valid_from}..{r.valid_to or ''}"
                for r in sorted(rows, key=lambda r: r.valid_from)
            )
            why = f"not valid on {day} in sortiment version {self.version} (valid {spans})"
        else:
            why = f"not in sortiment {self.sortiment} version {self.version}"
        return Finding(
            "oir.account.invalid",
            Severity.ERROR,
            f"account {account.code}: {why}",
            field="Konto",
            expected=f"an account of the sortiment valid on {day}",
            found=account.code,
        )


def current_chart(books: Books, sortiment: str) -> Chart:
    """The newest version of ``sortiment`` in the replica (empty if none was received)."""
    version = books.class_version(sortiment)
    if version is None:
        return Chart(sortiment, None, ())
    return Chart(sortiment, version.version, books.classes(version.id))
