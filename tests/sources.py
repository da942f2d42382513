"""Rules over the package's own sources: where a finder flags a line, as ``file:line``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def flagged(root: Path, finder: Callable[[str], list[int]], *, besides: str) -> list[str]:
    """Each ``file:line`` (relative to ``root``) of the Python files below ``root`` but the
    ones named ``besides`` where ``finder`` (a file's text -> its flagged line numbers) flags
    one."""
    return [
        f"{path.relative_to(root)}:{line}"
        for path in sorted(root.rglob("*.py"))
        if path.name != besides
        for line in finder(path.read_text(encoding="utf-8"))
    ]
