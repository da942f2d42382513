"""docs/oir.md and the ØiR part of the developers' guide stay true: the runnable example runs
and prints what the guide says; the operators' commands exist (test_operators_doc)."""

from __future__ import annotations

from pathlib import Path

from tests.guide import run_example

ROOT = Path(__file__).resolve().parent.parent


def test_the_oir_example_runs_and_prints_what_the_guide_says() -> None:
    printed = run_example("A runnable ØiR example")
    assert printed[0].endswith("version 2 (delta, 2 classes) applied")
    assert printed[1:3] == ["built 1, held 1", "agrees: False differences: 2"]
    assert printed[3].startswith("regenerated: built replaces voucher row ")
    assert printed[4] == "agrees: True, outstanding 200000 øre"


def test_the_oir_doc_names_every_command_and_schema() -> None:
    doc = (ROOT / "docs" / "oir.md").read_text(encoding="utf-8")
    for name in ("Finansbilag.xsd", "FinansbilagStatus.xsd", "Sortiment.xsd"):
        assert name in doc
    for command in ("oir build", "oir send", "oir receive", "oir regenerate", "oir manual",
                    "oir balance", "oir export", "sortiment receive", "sortiment status",
                    "sortiment show", "sortiment diff", "simulate erp",
                    "simulate klassifikation"):  # fmt: skip
        assert f"toekgw {command}" in doc, command
