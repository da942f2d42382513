"""A minimal toekgw.toml for tests: the core tables and a local Serviceplatformen, plus the
tables a test adds."""

from __future__ import annotations

from pathlib import Path

BASE = """
[journal]
path = "journal.sqlite"
[staging]
dir = "staging"
[serviceplatform]
party = "toek"
transport = "localdir"
[serviceplatform.localdir]
root = "sp"
"""


def write_config(directory: Path, tables: str) -> Path:
    """``directory/toekgw.toml`` with :data:`BASE` and ``tables``."""
    config = directory / "toekgw.toml"
    config.write_text(BASE + tables)
    return config
