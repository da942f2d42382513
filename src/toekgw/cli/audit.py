"""``toekgw audit reads``: who looked up a citizen's data, from the journal's read log."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import closing
from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.monthreport import month
from toekgw.cli import clock
from toekgw.cli.options import checked_cpr, config_option
from toekgw.formats.findings import mask_cpr
from toekgw.gateway.danish_time import danish_clock, danish_stamp
from toekgw.gateway.journal import open_journal
from toekgw.gateway.privacy import pseudonym
from toekgw.gateway.retention_config import RETENTION_SECTION

__all__ = ["audit"]


@click.group()
def audit() -> None:
    """The audit trail of personal data: the read log."""


@audit.command("reads")
@click.option("--cpr", default=None, help="Only reads that showed this citizen's data.")
@click.option("--month", "month_text", required=True, help="The month, YYYY-MM (in Danish time).")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
@config_option
def reads(cpr: str | None, month_text: str, as_json: bool, config_path: Path | None) -> None:
    """List the reads of personal data in a month: when, who, which command, what it asked
    for; with --cpr only those that showed that citizen (also after retention replaced the
    number by its pseudonym). CPR numbers are masked in the output."""
    first, last = month(month_text)
    number = None if cpr is None else checked_cpr("--cpr", cpr, clock.today())
    settings = load_settings(config_path)
    subjects = None
    if number is not None:
        subjects = {number}
        retention = settings.section(RETENTION_SECTION)
        if retention is not None:
            subjects.add(pseudonym(retention.key(), number))
    since, until = danish_stamp(first), danish_stamp(last + dt.timedelta(days=1))
    who = f" of {mask_cpr(number)}" if number else ""
    listed = 0
    with closing(open_journal(settings.journal)) as journal:
        for r in journal.reads(since=since, until=until, subjects=subjects):
            listed += 1
            if as_json:
                line = {"at": r.at, "by": r.actor, "action": r.action, "what": r.what,
                        "citizens": r.subjects}  # fmt: skip
                click.echo(json.dumps(line, ensure_ascii=False))
            else:
                click.echo(f"{danish_clock(r.at)}  {r.actor:<16} {r.action:<15} {r.what} "
                           f"({r.subjects} citizens shown)")  # fmt: skip
    click.echo(f"{listed} reads{who} in {month_text}", err=True)
