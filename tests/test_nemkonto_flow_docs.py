"""The NemKonto example in docs/developers.md runs and prints what the text says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.guide import run_code, scratch_tempdir

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_developers_nemkonto_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    doc = (DOCS / "developers.md").read_text(encoding="utf-8")
    match = re.search(r"### A runnable NemKonto example.*?```python\n(.*?)```", doc, re.S)
    assert match is not None
    run_code(match.group(1), "developers.md")
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "released 3 in 1 bundle",
        "answers 3 moved {'received': 3, 'accepted': 2, 'rejected': 1, 'at-bank': 2}",
        "received 3 = 2 accepted + 1 rejected + 0 outstanding",
        "category 2",
    ]


def test_developers_payments_example_continues_it(capsys: pytest.CaptureFixture[str]) -> None:
    doc = (DOCS / "developers.md").read_text(encoding="utf-8")
    examples = [
        re.search(rf"### A runnable {name} example.*?```python\n(.*?)```", doc, re.S)
        for name in ("NemKonto", "payment-operations")
    ]
    namespace: dict[str, object] = {"__name__": "example"}
    with scratch_tempdir():  # the second example goes on in the first's directory
        for match in examples:
            assert match is not None
            exec(compile(match.group(1), "developers.md", "exec"), namespace)
    out = capsys.readouterr().out.splitlines()
    assert out[4:] == [
        "12345678:000000000000000002:r1 at-bank",
        "{'received': 3, 'paid': 3, 'handled': 0, 'outstanding': 0} True",
    ]
