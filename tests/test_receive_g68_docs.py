"""The "Receiving G68" example in docs/developers.md runs and prints what the page says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.guide import run_code

DOC = Path(__file__).resolve().parent.parent / "docs" / "developers.md"


def test_receiving_g68_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    section = DOC.read_text(encoding="utf-8").split("### Receiving G68", 1)[1]
    code, shown = re.findall(r"```(?:python)?\n(.*?)```", section, re.S)[:2]
    run_code(code, str(DOC))
    printed = capsys.readouterr().out.splitlines()
    expected = shown.splitlines()
    # Everything but the run's own transfer ids, hashes and paths is as documented.
    assert printed[:5] == expected[:5]
    assert [line.split()[:3] for line in printed[5:]] == [line.split()[:3] for line in expected[5:]]
