"""The example in docs/interfaces.md runs and prints what the page says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from tests.guide import run_code

DOC = Path(__file__).resolve().parent.parent / "docs" / "interfaces.md"


def test_the_interfaces_example_prints_what_the_page_says() -> None:
    text = DOC.read_text(encoding="utf-8")
    code, shown = re.findall(r"```(?:python)?\n(.*?)```", text.split("## In code", 1)[1], re.S)[:2]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_code(code, str(DOC))
    assert out.getvalue() == shown


def test_every_message_of_the_schemas_is_in_the_table() -> None:
    from toekgw.formats.tok.schemas import ROOTS

    text = DOC.read_text(encoding="utf-8")
    for roots in ROOTS.values():
        for root in roots:
            assert f"`{root}`" in text, root
