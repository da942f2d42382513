"""Options shared by the commands: the configuration file, the files a command writes, dates
and amounts."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from toekgw.gateway.money import parse_kroner

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar="TOEKGW_CONFIG",
        help="The configuration file (default: $TOEKGW_CONFIG, else ./toekgw.toml).",
    )(func)


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
