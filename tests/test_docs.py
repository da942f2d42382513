"""The runnable example in docs/developers.md runs, and prints what it says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "developers.md"


def test_developers_guide_example_runs() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### A runnable example", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), str(DOC), "exec"), {"__name__": "example"})
    printed = out.getvalue().splitlines()
    assert printed[:2] == [
        "STRAKS.txt: received: 1 items journaled (7.00 kr)",
        "DAILY.txt: received: 2 items journaled (35.00 kr)",
    ]
    assert any("downloaded IN/DAILY.txt" in line for line in printed[2:])
