"""The example in docs/eindkomst.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from tests.guide import run_code

DOC = Path(__file__).resolve().parent.parent / "docs" / "eindkomst.md"


def test_the_developer_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    example = next(b for b in blocks if "ReportBuilder(" in b)
    run_code(example, str(DOC), {})
