"""Run a runnable example of docs/developers.md and return what it printed."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "developers.md"


def run_example(heading: str, doc: Path = GUIDE) -> list[str]:
    """The lines printed by the first ``python`` block after ``### {heading}``."""
    section = doc.read_text(encoding="utf-8").split(f"### {heading}", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, heading
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), str(doc), "exec"), {"__name__": "example"})
    return out.getvalue().splitlines()
