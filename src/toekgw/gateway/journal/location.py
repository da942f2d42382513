"""Where the journal is: a SQLite file (the embedded default) or a PostgreSQL database.

``[journal] path = "..."`` names a file; ``[journal] url = "postgresql://..."`` a database
(:class:`JournalUrl`). The URL may carry a password; what prints it (``str()``, f-strings,
messages) shows it without, and libpq's own means (``PGPASSWORD``, ``~/.pgpass``, a
``passfile`` or ``sslmode`` in the URL) work as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = ["SCHEMES", "JournalLocation", "JournalUrl", "redact"]

SCHEMES = ("postgresql://", "postgres://")


def redact(url: str) -> str:
    """``url`` without its password (what logs, messages and findings may show)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname or ''}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True, slots=True)
class JournalUrl:
    """A PostgreSQL journal's connection URL; prints without its password."""

    url: str

    def __post_init__(self) -> None:
        if not self.url.startswith(SCHEMES):
            raise ValueError(f"not a PostgreSQL URL (postgresql://...): {redact(self.url)}")

    def __str__(self) -> str:
        return redact(self.url)


JournalLocation = Path | JournalUrl
