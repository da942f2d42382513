"""A simulated party's upload: a file and its trigger in the party's ``OUT/``, each written
under a temporary name and renamed, the trigger last (the platform takes nothing before it)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from toekgw.formats.serviceplatform import FileDescriptor, Trigger, build_trigger

__all__ = ["upload"]


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def upload(out: Path, name: str, data: bytes, *, sender: str, recipients: Sequence[str]) -> None:
    """Put ``data`` as ``out/name`` and hand it to ``recipients`` with ``name.trigger``."""
    out.mkdir(parents=True, exist_ok=True)
    _write(out / name, data)
    descriptor = FileDescriptor(
        name, len(data), sender, tuple(recipients), senders_file_id=str(uuid.uuid4())
    )
    _write(out / f"{name}.trigger", build_trigger(Trigger(descriptor)))
