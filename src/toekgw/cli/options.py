"""Options shared by the commands: the configuration file, the files a command writes, dates
and amounts, and the checks and types that refuse a value a command cannot use before it runs
(a blank reason, an impossible CPR number, a reversed period, a negative wait)."""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from toekgw.formats.findings import mask_cpr, mask_cpr_in_text
from toekgw.formats.idents import cpr_problem
from toekgw.gateway.errors import UsageError
from toekgw.gateway.money import parse_kroner

F = TypeVar("F", bound=Callable[..., Any])


def masked(value: object) -> str:
    """An input-derived value (a path, a directory, a queue, a party, a file's or a message's
    name, a key) as a printed line shows it: its CPR numbers masked. Only the value, not the
    whole line: a SHA-256 digest, a UUID or a host key beside it is shown as it is."""
    return mask_cpr_in_text(str(value))


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar="TOEKGW_CONFIG",
        help="The configuration file (default: $TOEKGW_CONFIG, else ./toekgw.toml).",
    )(func)


def _reason(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.strip():
        raise click.BadParameter(
            f"expected a reason (it is kept in the audit trail), found {value!r}", ctx, param
        )
    return value


def reason_option(func: F) -> F:
    """``--reason``: required and not blank, for it is kept in the audit trail."""
    return click.option(
        "--reason", required=True, callback=_reason, help="Why (kept in the audit trail)."
    )(func)


def checked_cpr(option: str, text: str, today: dt.date) -> str:
    """The CPR number ``text`` gives (dashes and spaces dropped), or a :class:`UsageError`
    naming ``option``: 10 digits whose first six are a birth date (DDMMYY, by the seventh
    digit's century) not after ``today``. The message shows the value masked."""
    number = text.replace("-", "").replace(" ", "")
    shown = text if len(number) < 6 else mask_cpr(text)
    if not (number.isdigit() and number.isascii() and len(number) == 10):
        raise UsageError(f"{option} {shown!r}: expected 10 digits")
    problem = cpr_problem(number, today)
    if problem:
        raise UsageError(f"{option} {shown!r}: {problem}")
    return number


def period(
    first: dt.datetime | None, last: dt.datetime | None
) -> tuple[dt.date | None, dt.date | None]:
    """``--from``/``--to`` as dates; a :class:`click.UsageError` (exit 2) when ``--from`` is
    after ``--to``: a reversed period holds nothing, and is no period to sign a control for."""
    start, end = (first.date() if first else None), (last.date() if last else None)
    if start is not None and end is not None and start > end:
        raise click.UsageError(
            f"--from {start.isoformat()} is after --to {end.isoformat()}: expected a period "
            "from its first day to its last"
        )
    return start, end


class FiniteRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses ``nan`` and ``inf``: ``nan`` compares
    false with any bound, so a range lets it through, and ``inf`` passes a lower bound."""

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        number = float(super().convert(value, param, ctx))
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


#: Seconds to wait, delay or run: 0 (not at all) or more.
SECONDS = FiniteRange(min=0)
#: How many to take or show, when given: at least one (``--limit``, ``--max-messages``).
AT_LEAST_ONE = click.IntRange(min=1)
#: How many times a simulator's fault happens: 0 (never) or more.
TIMES = click.IntRange(min=0)


class OutputFile(click.Path):
    """A file a command writes: refused before any work when its directory is missing or
    cannot be written in (``-`` is standard output where ``allow_dash``)."""

    def __init__(self, *, allow_dash: bool = False) -> None:
        super().__init__(dir_okay=False, writable=True, allow_dash=allow_dash, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(os.fsdecode(super().convert(value, param, ctx)))
        if self.allow_dash and path == Path("-"):
            return path
        directory = path.parent
        if directory.exists() and not directory.is_dir():
            self.fail(f"{path}: {directory} is a file, not a directory", param, ctx)
        if not directory.is_dir():
            self.fail(
                f"{path}: no directory {directory} (expected a file in an existing directory)",
                param,
                ctx,
            )
        if not os.access(directory, os.W_OK | os.X_OK):
            self.fail(
                f"{path}: cannot write in the directory {directory} (permission denied)",
                param,
                ctx,
            )
        return path


def kroner_option(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """An option's amount in kroner (``1234.56``) as øre: the option's ``callback``."""
    if value is None:
        return None
    try:
        return parse_kroner(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}", ctx, param) from None


#: The years a date option takes: the rules reach years back and ahead from a date (payment
#: dates, banking days, --max-age-days), so the ends of the calendar (0001, 9999) are refused
#: instead of overflowing.
FIRST_YEAR, LAST_YEAR = 1900, 9000


class Day(click.DateTime):
    """A date, YYYY-MM-DD, from :data:`FIRST_YEAR` to :data:`LAST_YEAR`; given to the command
    as a :class:`datetime.datetime` at midnight, as :class:`click.DateTime` gives it."""

    def __init__(self) -> None:
        super().__init__(formats=["%Y-%m-%d"])

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.datetime:
        day: dt.datetime = super().convert(value, param, ctx)
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            self.fail(
                f"{day.date().isoformat()}: expected a date from {FIRST_YEAR}-01-01 to "
                f"{LAST_YEAR}-12-31",
                param,
                ctx,
            )
        return day


#: The type of every date option.
DAY = Day()

#: A port to listen on (0: a free one, printed when the server starts).
LISTEN_PORT = click.IntRange(0, 65535)
#: A port to connect to, or one a configuration's must be.
PORT = click.IntRange(1, 65535)
