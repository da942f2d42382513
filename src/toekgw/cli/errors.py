"""``toekgw errors``: the error list, the deliveries and records that failed, with findings."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
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
    """Show the error list: every failed delivery, file or record, with all its findings."""
    settings = load_settings(config_path)
    journal = open_journal(settings.journal)
    try:
        entries = journal.errors(include_resolved=include_resolved, counterpart=counterpart)
        journal.record_read(
            "errors",
            f"the error list ({'all' if include_resolved else 'open'} entries"
            f"{f' of {counterpart}' if counterpart else ''}: {len(entries)})",
            (),  # the findings mask every CPR number: the list shows no citizen's in clear
        )
    finally:
        journal.close()
    if fmt == "json":
        click.echo(json.dumps([_entry_dict(e) for e in entries], ensure_ascii=False, indent=2))
    elif fmt == "csv":
        click.echo(_csv(entries), nl=False)
    elif not entries:
        click.echo("the error list is empty")
    else:
        for e in entries:
            click.echo(
                f"#{e.id} {danish_clock(e.at)} {e.counterpart} {e.subject} "
                f"{mask_cpr_in_text(e.file_name or '')} "
                f"(transmission #{e.transmission_id}, {e.state}): {len(e.findings)} findings"
            )
            click.echo(
                "".join(f"  {line}\n" for line in render_text(e.findings).splitlines()), nl=False
            )


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


def _csv(entries: Sequence[ErrorEntry]) -> str:
    """A row per finding, after the entry's own columns."""
    buf = io.StringIO()
    head = ("entry", "at", "counterpart", "transmission", "subject", "state")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow((*head, *CSV_COLUMNS))
    for e in entries:
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
