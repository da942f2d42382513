"""``toekgw simulate COUNTERPART``: run a local counterpart until interrupted."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from toekgw.gateway.errors import UsageError, os_problem


class _SimulateGroup(click.Group):
    """A file or directory a simulator cannot make or read (``--root`` under a file, a
    ``--queue-db`` in a missing directory) is one line naming it, exit 2: the environment."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.filename is None:
                raise
            path = Path(os.fsdecode(exc.filename))
            raise UsageError(f"{path}: {os_problem(path, exc)}") from exc


@click.group(cls=_SimulateGroup)
def simulate() -> None:
    """Run a local counterpart (simulator) that behaves like the real one, faults included.

    Each simulator runs until Ctrl-C (or --max-seconds), listens on 127.0.0.1 only, and takes
    scripted faults from its options.
    """


def register_all() -> None:
    # One line per simulator module: ``from toekgw.cli.simulate import X`` then add_command.
    from toekgw.cli.simulate import eindkomst, fagsystem, nemkonto, oir
    from toekgw.cli.simulate.beskedfordeler import beskedfordeler
    from toekgw.cli.simulate.debitor import debitor
    from toekgw.cli.simulate.serviceplatform import serviceplatform
    from toekgw.cli.simulate.sts import sts
    from toekgw.cli.simulate.ydelsesindeks import ydelsesindeks

    simulate.add_command(eindkomst.eindkomst)
    simulate.add_command(eindkomst.eindkomst_sf0770)
    simulate.add_command(fagsystem.fagsystem)
    simulate.add_command(nemkonto.nemkonto)
    simulate.add_command(serviceplatform)
    simulate.add_command(oir.erp)
    simulate.add_command(oir.klassifikation)
    simulate.add_command(sts)
    simulate.add_command(beskedfordeler)
    simulate.add_command(debitor)
    simulate.add_command(ydelsesindeks)
