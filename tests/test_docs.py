"""The runnable example in docs/developers.md runs, and prints what it says it prints."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tests.guide import run_example


def test_developers_guide_example_runs() -> None:
    printed = run_example("A runnable example")
    assert printed[:2] == [
        "STRAKS.txt: received: 1 items journaled (7.00 kr)",
        "DAILY.txt: received: 2 items journaled (35.00 kr)",
    ]
    assert any("downloaded IN/DAILY.txt" in line for line in printed[2:])


def test_the_configuration_reference_shows_the_example_file() -> None:
    """docs/configuration.md's first TOML block is ``examples/toekgw.toml`` (comments left out)."""
    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "configuration.md").read_text(encoding="utf-8")
    shown = re.search(r"```toml\n(.*?)```", doc, re.S)
    assert shown is not None
    example = (root / "examples" / "toekgw.toml").read_text(encoding="utf-8")
    assert tomllib.loads(shown.group(1)) == tomllib.loads(example)
