"""Shared helpers for the eIndkomst tests: valid identifiers and small report builders."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

from toekgw.formats.eindkomst.report import IncomeReport, Recipient, ReportBuilder, Sender

SE = "12345674"  # passes mod-11
OTHER_SE = "13585628"
CREATED = dt.datetime(2026, 11, 23, 12, 0, 0)
PERIOD = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
DISPOSITION = dt.date(2026, 11, 27)


def cpr(i: int) -> str:
    """A valid CPR number (birth date 1950-1999, 7th digit 0) for index ``i``."""
    day = 1 + i % 28
    month = 1 + (i // 28) % 12
    year = 50 + (i // 336) % 50
    return f"{day:02d}{month:02d}{year:02d}{i % 1000:04d}"


def recipients(n: int, amount: int = 100_000) -> Iterator[Recipient]:
    for i in range(n):
        yield Recipient(cpr=cpr(i), amounts={"0013": amount})


def report(n: int, *, key: str = "", se: str = SE, amount: int = 100_000) -> IncomeReport:
    return IncomeReport(se, PERIOD[0], PERIOD[1], DISPOSITION, "00", recipients(n, amount), key=key)


def builder(**kw: object) -> ReportBuilder:
    return ReportBuilder(Sender(se=SE, cvr=SE), created=CREATED, **kw)  # type: ignore[arg-type]


def build_bytes(*reports: IncomeReport, **kw: object) -> list[bytes]:
    names = ("orders", "nil_reports", "reversals", "cancel_subscriptions")
    extra = {k: kw.pop(k) for k in names if k in kw}
    return [d.to_bytes() for d in builder(**kw).deliveries(list(reports), **extra)]  # type: ignore[arg-type]


def as_file(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)
