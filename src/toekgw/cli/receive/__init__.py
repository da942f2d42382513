"""``toekgw receive COUNTERPART``: fetch what a counterpart has sent us, crash-safely."""

from __future__ import annotations

import click


@click.group()
def receive() -> None:
    """Receive inbound transmissions: download, verify, validate, journal, then acknowledge."""


def register_all() -> None:
    # One line per counterpart module: ``from toekgw.cli.receive import X`` then add_command.
    from toekgw.cli.receive.beskedfordeler import beskedfordeler
    from toekgw.cli.receive.g68 import g68
    from toekgw.cli.receive.nemkonto import nemkonto
    from toekgw.cli.receive.tok import tok

    receive.add_command(g68)
    receive.add_command(nemkonto)
    receive.add_command(beskedfordeler)
    receive.add_command(tok)
