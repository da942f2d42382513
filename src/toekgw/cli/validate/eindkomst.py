"""``toekgw validate eindkomst FILE...``: every finding of eIndkomst deliveries."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import click

from toekgw.cli import clock
from toekgw.cli.validate._common import Checked, format_option, today_option, validate_files
from toekgw.formats.eindkomst.rules import validate_delivery
from toekgw.gateway.errors import InputError
from toekgw.gateway.findings import summary


def _check(today: dt.date, path: Path) -> Checked:
    try:
        with path.open("rb") as fh:
            check = validate_delivery(fh, today=today)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    counts = summary(check.findings)["severity"]
    return Checked(
        [f.in_file(str(path)) for f in check.findings],
        f"{path}: {check.records} records, {len(check.reports)} reports, "
        f"{counts['error']} errors, {counts['warning']} warnings",
        any(f.is_error for f in check.findings),
    )


@click.command("eindkomst")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@today_option
@format_option
def command(files: tuple[Path, ...], today: dt.datetime | None, fmt: str) -> None:
    """Validate eIndkomst report files (1000 … 9999): layout, nesting and order, running line
    numbers, the 9999 count, at most 10,000 records of the 6000 group per 5000, CPR/SE/CVR,
    dates, income types, field numbers, recipients abroad.

    Prints every finding; with --format text, one summary line per file follows.
    Exit 0 when no file has an error, 1 when any has, 2 when a file could not be read.
    """
    # "cannot read": the wording this command has always given operators for a missing file.
    on = today.date() if today else clock.today()
    validate_files(
        files,
        fmt,
        partial(_check, on),
        kind="an eIndkomst file",
        wording="cannot read {path}: {problem}",
    )
