"""``toekgw errors``: the error list, the deliveries and records that failed, with findings."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.cli.options import config_option
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.danish_time import danish_clock
from toekgw.gateway.findings import CSV_COLUMNS, render_text
from toekgw.gateway.journal import ErrorEntry, open_journal


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "json"]),
    default="text",
    show_default=True,
)
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved entries.")
@click.option("--counterpart", default=None, help="Only this counterpart's entries.")
@config_option
def errors(
    fmt: str, include_resolved: bool, counterpart: str | None, config_path: Path | None
) -> None:
    """Show the error list: every failed delivery, file or record, with all its findings.

    The entries are read from the journal and printed a page at a time, as they come."""
    settings = load_settings(config_path)
    journal = open_journal(settings.journal)
    try:
        count = journal.error_count(include_resolved=include_resolved, counterpart=counterpart)
        journal.record_read(
            "errors",
            f"the error list ({'all' if include_resolved else 'open'} entries"
            f"{f' of {counterpart}' if counterpart else ''}: {count})",
            (),  # the findings mask every CPR number: the list shows no citizen's in clear
        )
        entries = journal.iter_errors(include_resolved=include_resolved, counterpart=counterpart)
        if fmt == "json":
            _json(entries)
        elif fmt == "csv":
            click.echo(_csv_row(CSV_HEAD), nl=False)
            for e in entries:
                click.echo(_csv(e), nl=False)
        else:
            _text(entries)
    finally:
        journal.close()


def _text(entries: Iterable[ErrorEntry]) -> None:
    empty = True
    for e in entries:
        empty = False
        click.echo(
            f"#{e.id} {danish_clock(e.at)} {e.counterpart} {e.subject} "
            f"{mask_cpr_in_text(e.file_name or '')} "
            f"(transmission #{e.transmission_id}, {e.state}): {len(e.findings)} findings"
        )
        click.echo(
            "".join(f"  {line}\n" for line in render_text(e.findings).splitlines()), nl=False
        )
    if empty:
        click.echo("the error list is empty")


def _json(entries: Iterable[ErrorEntry]) -> None:
    """What ``json.dumps(list, indent=2)`` gives, written an entry at a time."""
    first = True
    for e in entries:
        text = json.dumps(_entry_dict(e), ensure_ascii=False, indent=2)
        click.echo(("[\n" if first else ",\n") + textwrap.indent(text, "  "), nl=False)
        first = False
    click.echo("[]" if first else "\n]")


def _entry_dict(e: ErrorEntry) -> dict[str, object]:
    return {
        "entry": e.id,
        "at": e.at,
        "counterpart": e.counterpart,
        "transmission": e.transmission_id,
        "file": e.file_name and mask_cpr_in_text(e.file_name),
        "subject": e.subject,
        "business_key": e.business_key and mask_cpr_in_text(e.business_key),
        "state": e.state,
        "resolution": e.resolution,
        "findings": [f.as_dict() for f in e.findings],
    }


CSV_HEAD = (
    "entry", "at", "counterpart", "transmission", "subject", "state", *CSV_COLUMNS
)  # fmt: skip


def _csv_row(row: Sequence[object]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


def _csv(e: ErrorEntry) -> str:
    """A row per finding, after the entry's own columns."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for f in e.findings:
        row = f.as_dict()
        writer.writerow(
            (
                e.id,
                e.at,
                e.counterpart,
                e.transmission_id or "",
                e.subject,
                e.state,
                *("" if row[c] is None else row[c] for c in CSV_COLUMNS),
            )
        )
    return buf.getvalue()
