"""A remote file refused and left in place goes on the error list, once.

A file that cannot be taken (an unsafe name, a link, a document too large or not valid) stays
where it is for the counterpart's operator to see, and the next poll meets it again: it is
listed once while its entry is open, not once per poll.
"""

from __future__ import annotations

from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.journal import Journal

__all__ = ["REFUSED", "list_refusal"]

#: The finding code of a remote file refused and left in place.
REFUSED = "remote.refused"


def list_refusal(journal: Journal, counterpart: str, name: str, reason: str) -> None:
    """Put ``name`` (refused for ``reason``) on ``counterpart``'s error list unless an open
    entry already says the same."""
    for entry in journal.errors(counterpart=counterpart):
        if entry.file_name == name and any(
            f.code == REFUSED and f.message == reason for f in entry.findings
        ):
            return
    journal.add_error(
        counterpart=counterpart,
        subject="file",
        file_name=name,
        findings=[Finding(REFUSED, Severity.ERROR, reason)],
    )
