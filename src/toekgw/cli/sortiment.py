"""``toekgw sortiment``: the SF7002 sortiment replica (TØK's accounts) — receive deliveries
from Klassifikation, show what the replica holds, and what changed between versions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.oir import diff, find_classes, flows, oir_settings
from toekgw.cli.options import DAY, config_option
from toekgw.cli.receive._common import exit_code
from toekgw.gateway.danish_time import danish_clock
from toekgw.gateway.errors import UsageError
from toekgw.gateway.journal import open_journal
from toekgw.gateway.journal.books import ClassRow

__all__ = ["sortiment"]


def _span(row: ClassRow) -> str:
    return f"{row.valid_from}..{row.valid_to or ''}"


@click.group()
def sortiment() -> None:
    """The SF7002 sortiment replica: the accounts vouchers may use."""


@sortiment.command("receive")
@config_option
def receive_command(config_path: Path | None) -> None:
    """Take Klassifikation's deliveries ([receive.sortiment]) and apply them to the replica
    (an older delivery never overwrites a newer version)."""
    received = flows.receive(load_settings(config_path), "sortiment")
    for outcome in received.outcomes:
        click.echo(str(outcome))
    for message in received.intake.messages:
        click.echo(message)
    raise SystemExit(max(exit_code(received.outcomes), 1 if received.intake.gone else 0))


@sortiment.command("status")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def status_command(as_json: bool, config_path: Path | None) -> None:
    """The versions the replica holds (newest last)."""
    settings = load_settings(config_path)
    books = oir_settings(settings)
    journal = open_journal(settings.journal)
    try:
        versions = journal.class_versions(books.sortiment)
    finally:
        journal.close()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "version": v.version,
                        "delivery": v.delivery,
                        "valid_from": str(v.valid_from),
                        "received_at": v.received_at,
                        "classes": v.classes,
                    }
                    for v in versions
                ],
                indent=2,
            )
        )
        return
    if not versions:
        click.echo(f"no version of sortiment {books.sortiment} received yet")
        raise SystemExit(1)
    click.echo(f"sortiment {books.sortiment} ({versions[-1].name})")
    for v in versions:
        click.echo(
            f"  version {v.version:>4}  {v.delivery:<5}  from {v.valid_from}  "
            f"{v.classes:>5} classes  received {danish_clock(v.received_at)}"
        )


@sortiment.command("show")
@click.argument("code")
@click.option(
    "--on",
    "on",
    type=DAY,
    default=None,
    help="Only classes valid on this day.",
)
@config_option
def show_command(code: str, on: dt.datetime | None, config_path: Path | None) -> None:
    """The classes of account CODE (<funktion>/<dranst>/<art>) in the newest version, those
    removed from the sortiment marked (known for history, no new postings)."""
    settings = load_settings(config_path)
    books = oir_settings(settings)
    journal = open_journal(settings.journal)
    try:
        rows = find_classes(journal, books.sortiment, code, on=on.date() if on else None)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    finally:
        journal.close()
    if not rows:
        click.echo(f"{code}: not in sortiment {books.sortiment}")
        raise SystemExit(1)
    for row in rows:
        removed = f"  REMOVED in version {row.removed_in}" if row.removed_in else ""
        click.echo(f"{row.code}  {row.title}  valid {_span(row)}  class {row.class_id}{removed}")


@sortiment.command("diff")
@click.option("--from", "old", type=int, default=None, help="The older version [the one before].")
@click.option("--to", "new", type=int, default=None, help="The newer version [the newest].")
@config_option
def diff_command(old: int | None, new: int | None, config_path: Path | None) -> None:
    """What changed between two versions: classes added, removed, retitled, closed."""
    settings = load_settings(config_path)
    books = oir_settings(settings)
    journal = open_journal(settings.journal)
    try:
        before, after, changes = diff(journal, books.sortiment, old, new)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    finally:
        journal.close()
    click.echo(f"sortiment {books.sortiment}: version {before.version} -> {after.version}")
    if not changes:
        click.echo("  no changes")
    for c in changes:
        row = c.after or c.before
        assert row is not None
        if c.kind == "changed" and c.before and c.after:
            what = []
            if c.before.title != c.after.title:
                what.append(f"title {c.before.title!r} -> {c.after.title!r}")
            if (c.before.valid_from, c.before.valid_to) != (c.after.valid_from, c.after.valid_to):
                what.append(f"valid {_span(c.before)} -> {_span(c.after)}")
            if c.before.code != c.after.code:
                what.append(f"code {c.before.code} -> {c.after.code}")
            click.echo(f"  changed  {row.code}  {', '.join(what)}")
        else:
            click.echo(f"  {c.kind:<8} {row.code}  {row.title}  valid {_span(row)}")
