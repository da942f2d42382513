"""XML schemas as package data, and the catalogue that finds them.

Schemas marked *ours* in their header are the project's own reading of the public facts; the
official schema replaces the file without touching code.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["schema_path"]


def schema_path(name: str) -> Path:
    """The file system path of the schema ``name`` (e.g. ``"serviceplatform/Trigger.xsd"``)."""
    ref = resources.files(__name__).joinpath(name)
    path = Path(str(ref))
    if not path.is_file():
        raise FileNotFoundError(f"no schema {name!r} in the xsd package")
    return path
