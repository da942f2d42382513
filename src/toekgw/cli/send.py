"""``toekgw send FILE --to RECIPIENT``: upload a file with its trigger, journal the receipt."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.serviceplatform import open_transport, send_file, serviceplatform_settings
from toekgw.cli.options import SECONDS, config_option, masked
from toekgw.gateway.flowlock import flow_lock, lock_path
from toekgw.gateway.journal import open_journal


def _parties(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    """``--to``'s party names, each as the trigger's Recipients takes it (1 to 255 printable
    characters), checked before anything is journaled."""
    for value in values:
        if not (value and value == value.strip() and len(value) <= 255 and value.isprintable()):
            raise click.BadParameter(
                f"{value!r}: expected a party on Serviceplatformen, e.g. erp (1 to 255 "
                "printable characters, no spaces around them)",
                ctx,
                param,
            )
    return values


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--to",
    "recipients",
    multiple=True,
    required=True,
    callback=_parties,
    help="A recipient party (repeat for more).",
)
@click.option(
    "--wait",
    type=SECONDS,
    default=None,
    help="Seconds to wait for the technical receipt (default: receipt_timeout).",
)
@config_option
def send(
    file: Path, recipients: tuple[str, ...], wait: float | None, config_path: Path | None
) -> None:
    """Send FILE over Serviceplatformen to the --to recipient(s).

    The file is journaled before it is uploaded; it goes to OUT/ under a temporary name and is
    renamed, then its trigger follows. The technical receipt is journaled when it arrives.
    Sending the same file again finishes an interrupted send and refuses a finished one.
    Exit 0 when receipted, 1 when refused or no receipt came in time.
    """
    settings = load_settings(config_path)
    sp = serviceplatform_settings(settings)
    lock = flow_lock(
        lock_path(settings.staging, "serviceplatform-send"),
        "serviceplatform send",
        journal=settings.journal,
    )
    with (
        lock,
        closing(open_journal(settings.journal, verify=True)) as journal,
        open_transport(sp) as transport,
    ):
        outcome = send_file(
            journal,
            transport,
            file,
            recipients=recipients,
            sender=sp.party,
            out_dir=sp.out_dir,
            in_dir=sp.in_dir,
            receipt_timeout=sp.receipt_timeout if wait is None else wait,
        )
    tx = outcome.transmission
    # The file's name is the operator's (a case's export may be named after its citizen); the
    # transfer id in the message and the SendersFileId are UUIDs, shown as they are.
    click.echo(
        f"{masked(file.name)}: transmission #{tx.id} ({tx.ref}): {tx.state}: {outcome.message}"
    )
    raise SystemExit(0 if tx.state == "receipted" else 1)
