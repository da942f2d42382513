"""The list of command groups: one line per module, so adding one touches one place."""

from __future__ import annotations

import click


def register(root: click.Group) -> None:
    from cli import validate

    root.add_command(validate.validate)
