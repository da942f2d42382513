"""``toekgw backup`` and ``toekgw restore``: a consistent copy of the journal, taken while the
gateway runs, and putting one back."""

from __future__ import annotations

from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.cli.options import config_option
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.errors import UsageError
from toekgw.gateway.flowlock import no_flow_running
from toekgw.gateway.journal import JournalLocation
from toekgw.gateway.journal.backup import backup_journal, restore_journal


def _sqlite_file(journal: JournalLocation) -> Path:
    if not isinstance(journal, Path):
        raise UsageError(
            f"the journal {journal} is a PostgreSQL database: back it up with the server's "
            "tools (pg_dump, pg_basebackup); toekgw backup and restore copy a SQLite journal",
            hint="see docs/scaling.md",
        )
    return journal


@click.command()
@config_option
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup(config_path: Path | None, target: Path) -> None:
    """Write a consistent copy of the journal to TARGET (a new file), safe while flows run."""
    settings = load_settings(config_path)
    version = backup_journal(_sqlite_file(settings.journal), target)
    click.echo(
        mask_cpr_in_text(
            f"backed up {settings.journal} to {target} (schema version {version}; checked)"
        )
    )


@click.command()
@config_option
@click.option("--force", is_flag=True, help="Replace an existing journal.")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
def restore(config_path: Path | None, force: bool, source: Path) -> None:
    """Put the backup SOURCE in place as the configured journal. Stop `toekgw` first: a
    restore is refused while `toekgw run` or any flow runs on the configured staging (exit 2),
    and holds every flow's lock while it copies."""
    settings = load_settings(config_path)
    journal = _sqlite_file(settings.journal)
    with no_flow_running(settings.staging, "a restore"):
        version = restore_journal(source, journal, force=force)
    click.echo(
        mask_cpr_in_text(
            f"restored {settings.journal} from {source} (schema version {version}; checked)"
        )
    )
