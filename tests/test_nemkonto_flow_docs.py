"""The NemKonto example in docs/developers.md runs and prints what the text says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_developers_nemkonto_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    doc = (DOCS / "developers.md").read_text(encoding="utf-8")
    match = re.search(r"### A runnable NemKonto example.*?```python\n(.*?)```", doc, re.S)
    assert match is not None
    exec(compile(match.group(1), "developers.md", "exec"), {"__name__": "example"})
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "released 3 in 1 bundle",
        "answers 3 moved {'received': 3, 'accepted': 2, 'rejected': 1, 'at-bank': 2}",
        "received 3 = 2 accepted + 1 rejected + 0 outstanding",
        "category 2",
    ]
