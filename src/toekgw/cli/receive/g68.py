"""``toekgw receive g68``: G68 payment deliveries from KSD, into the journal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from toekgw.adapters.g68 import G68Processor
from toekgw.adapters.serviceplatform import ReceiveSettings
from toekgw.cli import clock
from toekgw.cli.options import DAY
from toekgw.cli.receive._common import receive_command
from toekgw.cli.validate.g68 import progress_bar


def _processor(profile: ReceiveSettings, *, today: dt.datetime | None) -> G68Processor:
    return G68Processor(
        profile, today=today.date() if today else clock.today(), progress=progress_bar
    )


_today: Any = click.option(
    "--today",
    type=DAY,
    help="The date the rules take as today (default: the real today).",
)

g68 = receive_command(
    "g68",
    _processor,
    """Receive G68 payment deliveries from KSD: poll IN/ once (--watch: keep polling).

    For each delivery: metadata checked (sender, recipient), downloaded to staging, size and
    SHA-256 checked, validated; its payments journaled (state pending; a recall
    recall-requested) or, if refused, the whole delivery put on the error list with every
    finding; only then is the remote file removed (or archived). Straks deliveries first. A
    file or delivery received before is refused and reported. One line per file, with the
    records it put on the error list. Exit 0 when every file was received whole (or nothing
    came; warnings allowed), 1 when any was rejected, a duplicate or refused, or had records
    with errors (on the error list, not journaled), 2 when the receive could not run.
    """,
    options=[_today],
)
