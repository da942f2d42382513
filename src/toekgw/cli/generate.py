"""``toekgw generate FORMAT``: realistic test deliveries, with planted errors on request."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from toekgw.cli.options import DAY, OutputFile, masked
from toekgw.formats.g68 import G68Form
from toekgw.simulators.ksd import GeneratorSettings, write_deliveries


@click.group()
def generate() -> None:
    """Generate realistic test files, deterministic for a seed.

    Planted errors are listed beside each file in FILE.planted.json (line, finding code, kind).
    """


@generate.command("g68")
@click.option("--count", type=click.IntRange(min=0), required=True, help="Number of payments.")
@click.option("--seed", type=int, required=True, help="Same seed, same file.")
@click.option(
    "--form",
    type=click.Choice(["floating", "fast"]),
    default="fast",
    show_default=True,
    help="The form of the G68 records.",
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of payments with one planted error.",
)
@click.option(
    "--today",
    type=DAY,
    help="Date the payment dates are chosen around (default: the real today).",
)
@click.option("--straks", is_flag=True, help="All payment dates today: an immediate delivery.")
@click.option("--supplier-id", default="29189846", show_default=True, help="Data supplier id.")
@click.option(
    "--delivery-number",
    type=click.IntRange(1, 99_999),
    default=1,
    show_default=True,
    help="Z300's delivery number (of the first file with --split).",
)
@click.option(
    "--split",
    is_flag=True,
    help="Write more than 99,999 payments as several numbered deliveries.",
)
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    required=True,
    help="The file to write (with --split: FILE-001, FILE-002, ...).",
)
def g68(
    count: int,
    seed: int,
    form: str,
    error_rate: float,
    today: dt.datetime | None,
    straks: bool,
    supplier_id: str,
    delivery_number: int,
    split: bool,
    output: Path,
) -> None:
    """Generate a G68 delivery as KSD sends it: Z300, COUNT payments, SLUTD.

    Valid CPR birth dates, CVR/SE numbers that pass mod-11, Danish texts, amounts and dates
    around --today. Memory stays flat for any COUNT. A delivery holds at most 99,999
    payments (5-digit sequence number); more needs --split.
    """
    if not (len(supplier_id) == 8 and supplier_id.isdigit()):
        raise click.BadParameter("8 digits expected", param_hint="--supplier-id")
    settings = GeneratorSettings(
        count=count,
        seed=seed,
        form=G68Form.from_name(form),
        error_rate=error_rate,
        today=today.date() if today else None,
        supplier_id=supplier_id,
        delivery_number=delivery_number,
        straks=straks,
    )
    for s in write_deliveries(output, settings, split=split):
        click.echo(
            f"wrote {masked(s.path)}: delivery {s.delivery_number}, {s.count} payments, "
            f"{s.planted} planted errors (listed in {masked(s.manifest.name)})",
            err=True,
        )
