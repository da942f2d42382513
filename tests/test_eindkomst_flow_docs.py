"""The eIndkomst example in docs/developers.md runs, and prints what it says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "developers.md"


def test_eindkomst_example_runs() -> None:
    section = DOC.read_text(encoding="utf-8").split("### A runnable eIndkomst example", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), str(DOC), "exec"), {"__name__": "example"})
    printed = out.getvalue().splitlines()
    promised = [line[2:] for line in code.group(1).splitlines() if line.startswith("# ")]
    assert len(printed) == len(promised)
    for got, said in zip(printed, promised, strict=True):
        pattern = ".*".join(re.escape(part) for part in said.split("…"))
        assert re.fullmatch(pattern, got), (got, said)
    assert "0202601234" not in out.getvalue()
