"""The eIndkomst example in docs/developers.md runs, and prints what it says it prints."""

from __future__ import annotations

import re

from tests.guide import example_code, run_example


def test_eindkomst_example_runs() -> None:
    printed = run_example("A runnable eIndkomst example")
    code = example_code("A runnable eIndkomst example")
    promised = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    assert len(printed) == len(promised)
    for got, said in zip(printed, promised, strict=True):
        pattern = ".*".join(re.escape(part) for part in said.split("…"))
        assert re.fullmatch(pattern, got), (got, said)
    assert "0202601234" not in "\n".join(printed)
