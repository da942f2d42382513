"""A settable clock for the journal's own timestamps (events, items), so that a test can
journal moves on different days."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest

_MODULES = (
    "_sqlite_actions",
    "_sqlite_books",
    "_sqlite_errors",
    "_sqlite_items",
    "_sqlite_members",
    "_sqlite_outbox",
    "_sqlite_transmissions",
    "sqlite",
)


class JournalClock:
    """``clock.at(instant)``: everything journaled from now on is stamped ``instant`` (UTC),
    one microsecond later per stamp so that the log stays in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, start: dt.datetime) -> None:
        self.instant = start
        for name in _MODULES:
            module = importlib.import_module(f"toekgw.gateway.journal.{name}")
            monkeypatch.setattr(module, "now", self)

    def at(self, instant: dt.datetime) -> None:
        self.instant = instant

    def __call__(self) -> str:
        self.instant += dt.timedelta(microseconds=1)
        return self.instant.astimezone(dt.UTC).isoformat(timespec="microseconds")
