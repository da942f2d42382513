"""Options shared by the commands that read the configuration file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar="TOEKGW_CONFIG",
        help="The configuration file (default: $TOEKGW_CONFIG, else ./toekgw.toml).",
    )(func)
