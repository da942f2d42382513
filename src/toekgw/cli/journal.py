"""``toekgw journal migrate-to URL``: copy the configured SQLite journal into PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.cli.options import config_option, masked
from toekgw.gateway.errors import UsageError
from toekgw.gateway.flowlock import no_flow_running
from toekgw.gateway.journal.location import SCHEMES, JournalUrl, redact


@click.group("journal")
def journal() -> None:
    """The journal itself: moving it to PostgreSQL (docs/scaling.md)."""


@journal.command("migrate-to")
@click.argument("url")
@config_option
def migrate_to(url: str, config_path: Path | None) -> None:
    """Copy the configured SQLite journal into the empty PostgreSQL database URL
    (postgresql://user@host/db), streamed, verified by each table's row count and integer
    sums; nothing is committed unless all agree. Stop every toekgw process first: the copy
    is refused while `toekgw run` or any flow runs on the configured staging (exit 2), and
    holds every flow's lock while it copies. Then set [journal] url = URL in the
    configuration (the SQLite file is left as it was)."""
    if not url.startswith(SCHEMES):
        raise UsageError(f"{redact(url)}: expected a PostgreSQL URL (postgresql://user@host/db)")
    settings = load_settings(config_path)
    if not isinstance(settings.journal, Path):
        raise UsageError(f"the configured journal {settings.journal} is not a SQLite file")
    from toekgw.gateway.journal.copy import copy_to_postgres  # psycopg: extra "postgres"

    target = JournalUrl(url)
    with no_flow_running(settings.staging, "a copy of the journal"):
        copied = copy_to_postgres(settings.journal, target)
    for table in copied:
        sums = ", ".join(f"sum({c}) {v}" for c, v in table.sums.items() if c != "id")
        click.echo(f"{table.table}: {table.rows} rows" + (f" ({sums})" if sums else ""))
    total = sum(t.rows for t in copied)
    click.echo(
        f"copied {masked(settings.journal)} into {masked(target)}: {total} rows in "
        f"{len(copied)} tables, "
        "counts and sums agree; now set [journal] url in the configuration"
    )
