"""docs/operators.md stays true to the command: every ``toekgw ...`` line it shows names an
existing command, and every option it passes is one that command takes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click

from toekgw.cli.main import cli

DOCS = Path(__file__).resolve().parent.parent / "docs"
DOC = DOCS / "operators.md"


def _command_lines(doc: Path = DOC) -> list[str]:
    text = doc.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [
        line.split("#", 1)[0].strip()
        for block in blocks
        for line in block.replace("\\\n", " ").splitlines()
        if line.startswith("toekgw ")
    ]


def test_every_command_and_option_in_the_operators_guide_exists() -> None:
    lines = _command_lines()
    assert len(lines) >= 10
    seen = _check(lines)
    assert {"validate g68", "generate g68", "receive g68", "send", "status", "errors"} <= seen
    assert {"doctor", "simulate serviceplatform"} <= seen


def test_every_command_in_the_operations_and_reconciliation_guides_exists() -> None:
    seen = _check(_command_lines(DOCS / "operations.md"))
    seen |= _check(_command_lines(DOCS / "reconciliation.md"))
    assert {"run", "backup", "restore", "audit reads", "reconcile", "reconcile action add"} <= seen


def _check(lines: list[str]) -> set[str]:
    """Each line's command exists and takes each ``--option`` it passes; the commands seen."""
    seen = set()
    for line in lines:
        words = shlex.split(line)[1:]
        command: click.Command = cli
        path = []
        while words[:1] == ["--log-format"] or words[:1] == ["--debug"]:  # the root's own
            del words[: 2 if words[0] == "--log-format" else 1]
        while isinstance(command, click.Group) and words and not words[0].startswith("-"):
            sub = command.commands.get(words[0])
            assert sub is not None, f"{line}: no command {' '.join([*path, words[0]])!r}"
            command, path = sub, [*path, words.pop(0)]
        options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for word in words:
            if word.startswith("--"):
                assert word in options, f"{line}: {' '.join(path)} has no option {word}"
        seen.add(" ".join(path))
    return seen
