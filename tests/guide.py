"""The developers' guide's runnable examples, run as they stand (docs/developers.md)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "developers.md"


def example_code(heading: str) -> str:
    """The first ``python`` block after ``### <heading>`` in the guide."""
    section = GUIDE.read_text(encoding="utf-8").split(f"### {heading}\n", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, f"no python block under {heading!r}"
    return code.group(1)


def run_example(heading: str) -> list[str]:
    """Run the example under ``### <heading>``; the lines it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example_code(heading), str(GUIDE), "exec"), {"__name__": "example"})
    return out.getvalue().splitlines()
