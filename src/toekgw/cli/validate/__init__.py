"""``toekgw validate FORMAT FILE...``: check files against a format's layout and rules."""

from __future__ import annotations

import click


@click.group()
def validate() -> None:
    """Validate files and print every finding (text, JSON or CSV).

    Exit 0 when no file has an error (warnings are allowed), 1 when any has, 2 when a file
    could not be read.
    """


def register_all() -> None:
    # One line per format module: ``from toekgw.cli.validate import X`` then add_command.
    from toekgw.cli.validate import eindkomst, g68, nemkonto

    validate.add_command(eindkomst.command)
    validate.add_command(g68.g68)
    validate.add_command(nemkonto.command)
