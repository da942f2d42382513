"""The runnable example in docs/developers.md runs, and prints what it says it prints."""

from __future__ import annotations

from tests.guide import run_example


def test_developers_guide_example_runs() -> None:
    printed = run_example("A runnable example")
    assert printed[:2] == [
        "STRAKS.txt: received: 1 items journaled (7.00 kr)",
        "DAILY.txt: received: 2 items journaled (35.00 kr)",
    ]
    assert any("downloaded IN/DAILY.txt" in line for line in printed[2:])
