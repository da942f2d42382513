"""``toekgw simulate COUNTERPART``: run a local counterpart until interrupted."""

from __future__ import annotations

import click


@click.group()
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
