"""``toekgw validate eindkomst FILE...``: every finding of eIndkomst deliveries."""

from __future__ import annotations

from pathlib import Path

import click

from formats.eindkomst.rules import validate_delivery
from formats.findings import Finding
from gateway.findings import FORMATS, render, summary

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_CANNOT_RUN = 2


@click.command("eindkomst")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="How to print the findings.",
)
def command(files: tuple[Path, ...], fmt: str) -> None:
    """Validate eIndkomst report files (1000 … 9999): layout, nesting and order, running line
    numbers, the 9999 count, at most 10,000 records of the 6000 group per 5000, CPR/SE/CVR,
    dates, income types, field numbers, recipients abroad.

    Exit 0 when no file has an error, 1 when any has, 2 when a file could not be read.
    """
    findings: list[Finding] = []
    unreadable = 0
    for path in files:
        try:
            with path.open("rb") as fh:
                check = validate_delivery(fh)
        except OSError as exc:
            unreadable += 1
            click.echo(f"toekgw: error: cannot read {path}: {exc.strerror or exc}", err=True)
            continue
        findings.extend(f.in_file(str(path)) for f in check.findings)
        if fmt == "text":
            counts = summary(check.findings)["severity"]
            click.echo(
                f"{path}: {check.records} records, {len(check.reports)} reports, "
                f"{counts['error']} errors, {counts['warning']} warnings",
                err=True,
            )
    click.echo(render(findings, fmt), nl=False)
    ctx = click.get_current_context()
    if unreadable:
        ctx.exit(EXIT_CANNOT_RUN)
    ctx.exit(EXIT_FINDINGS if any(f.is_error for f in findings) else EXIT_OK)
