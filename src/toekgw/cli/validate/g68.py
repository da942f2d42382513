"""``toekgw validate g68 FILE...``: the error list of G68 deliveries, as text, JSON or CSV."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from toekgw.adapters.g68 import G68Config, G68Validation, read_delivery
from toekgw.cli import clock
from toekgw.cli.validate._common import Checked, format_option, today_option, validate_files
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.formats.g68.rules import (
    DEFAULT_DAGPENGE_UNITS,
    DEFAULT_MAX_AGE_DAYS,
    MAX_AGE_DAYS_LIMIT,
    is_paying_unit,
)

# Below this size a file is read before a progress bar could be drawn.
PROGRESS_MIN_BYTES = 4 << 20


def _paying_units(
    ctx: click.Context, param: click.Parameter, units: tuple[str, ...]
) -> tuple[str, ...]:
    """``--dagpenge-unit``: each a paying unit, as ``[receive.g68] dagpenge_units`` asks."""
    for unit in units:
        if not is_paying_unit(unit):
            raise click.BadParameter(
                f"expected a paying unit of 4 digits, found {mask_cpr_in_text(unit)!r}", ctx, param
            )
    return units


def config_options(command: Callable[..., None]) -> Callable[..., None]:
    """The rule settings, shared by the commands that validate G68."""
    for option in reversed(
        [
            today_option,
            click.option(
                "--max-age-days",
                type=click.IntRange(0, MAX_AGE_DAYS_LIMIT),
                default=DEFAULT_MAX_AGE_DAYS,
                show_default=True,
                help="How many days in the past a payment date may be.",
            ),
            click.option(
                "--dagpenge-unit",
                "dagpenge_units",
                multiple=True,
                metavar="UNIT",
                callback=_paying_units,
                help="A paying unit (4 digits) that pays dagpenge (no P-numbers); repeat for "
                f"several. Default: {', '.join(sorted(DEFAULT_DAGPENGE_UNITS))}.",
            ),
        ]
    ):
        command = option(command)
    return command


def make_config(
    today: dt.datetime | None, max_age_days: int, dagpenge_units: Sequence[str]
) -> G68Config:
    return G68Config(
        today=today.date() if today else clock.today(),
        max_age_days=max_age_days,
        dagpenge_units=frozenset(dagpenge_units) if dagpenge_units else DEFAULT_DAGPENGE_UNITS,
    )


@contextmanager
def progress_bar(path: Path) -> Iterator[Callable[[int], None] | None]:
    size = path.stat().st_size
    if size < PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    # On stderr: stdout carries the findings (JSON, CSV) and must stay clean.
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(path.name, total=size)
        yield lambda done: bar.update(task, completed=done)


def describe(result: G68Validation) -> str:
    """One line per delivery for the operator: what it holds and what becomes of it."""
    parts = [f"{result.count} payments"]
    if result.header is not None:
        h = result.header
        parts.append(f"supplier {h.supplier_id} delivery {h.delivery_number}")
        parts.append(h.form.name.lower())
    parts.append(f"{len(result.errors)} errors, {len(result.warnings)} warnings")
    if result.payments_with_errors:
        parts.append(f"{result.payments_with_errors} payments to the error list")
    if result.is_straks:
        parts.append("STRAKS (immediate) delivery")
    verdict = "REFUSED: " + "; ".join(result.refusal) if result.refused else "accepted"
    return f"{result.file}: {', '.join(parts)}; {verdict}"


@click.command("g68")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@format_option
@config_options
def g68(
    files: tuple[Path, ...],
    fmt: str,
    today: dt.datetime | None,
    max_age_days: int,
    dagpenge_units: tuple[str, ...],
) -> None:
    """Validate G68 deliveries (Z300, G68 floating or fast, SLUTD) from KSD.

    Prints every finding: line, columns, field, code, what was expected and what was found,
    CPR numbers masked. With --format text, one summary line per file follows.
    Exit 0 when no file has an error (warnings allowed), 1 when any has, 2 when a file cannot
    be read.
    """
    config = make_config(today, max_age_days, dagpenge_units)

    def check(path: Path) -> Checked:
        with progress_bar(path) as progress:
            result = read_delivery(path, config, progress=progress)
        return Checked(result.findings, describe(result), not result.ok)

    validate_files(files, fmt, check, kind="a G68 file")
