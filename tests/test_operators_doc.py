"""docs/operators.md stays true to the command: every ``toekgw ...`` line it shows names an
existing command, and every option it passes is one that command takes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click

from toekgw.cli.main import cli

DOC = Path(__file__).resolve().parent.parent / "docs" / "operators.md"


def _command_lines() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [
        line.split("#", 1)[0].strip()
        for block in blocks
        for line in block.splitlines()
        if line.startswith("toekgw ")
    ]


def test_every_command_and_option_in_the_operators_guide_exists() -> None:
    lines = _command_lines()
    assert len(lines) >= 10
    seen = set()
    for line in lines:
        words = shlex.split(line)[1:]
        command: click.Command = cli
        path = []
        while isinstance(command, click.Group) and words and not words[0].startswith("-"):
            sub = command.commands.get(words[0])
            assert sub is not None, f"{line}: no command {' '.join([*path, words[0]])!r}"
            command, path = sub, [*path, words.pop(0)]
        options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for word in words:
            if word.startswith("--"):
                assert word in options, f"{line}: {' '.join(path)} has no option {word}"
        seen.add(" ".join(path))
    assert {"validate g68", "generate g68", "receive g68", "send", "status", "errors"} <= seen
    assert {"doctor", "simulate serviceplatform"} <= seen
