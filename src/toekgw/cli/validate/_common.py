"""What the ``toekgw validate`` commands share: ``--format``, the files checked up front, the
findings of every file streamed as one document, a summary line per file, the exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from toekgw.cli.options import DAY
from toekgw.formats.findings import Finding, mask_cpr_in_text
from toekgw.gateway.errors import InputError
from toekgw.gateway.findings import FORMATS, render

__all__ = ["Checked", "FindingsOut", "format_option", "today_option", "validate_files"]

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="How to print the findings.",
)


today_option = click.option(
    "--today",
    type=DAY,
    help="The date the rules take as today (default: the real today).",
)


@dataclass(frozen=True, slots=True)
class Checked:
    """One file's findings, its summary line for the operator, and whether it failed."""

    findings: Sequence[Finding]
    summary: str
    failed: bool


class FindingsOut:
    """Streams the findings of several files as one text, JSON or CSV document."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.first = True

    def write(self, findings: Sequence[Finding]) -> None:
        if self.fmt == "json":
            for f in findings:
                prefix = "[\n" if self.first else ",\n"
                click.echo(prefix + "  " + json.dumps(f.as_dict(), ensure_ascii=False), nl=False)
                self.first = False
            return
        text = render(findings, self.fmt)
        if self.fmt == "csv" and not self.first:
            text = text.split("\n", 1)[1]
        self.first = False
        click.echo(text, nl=False)

    def close(self) -> None:
        if self.fmt == "json":
            click.echo("[]" if self.first else "\n]")
        elif self.fmt == "csv" and self.first:
            click.echo(render([], "csv"), nl=False)


def check_files(files: Sequence[Path], *, kind: str, wording: str = "{path}: {problem}") -> None:
    """Refuse a missing file or a directory before anything is printed, so that a JSON or CSV
    document is not cut short by it. ``wording`` places the path and the problem."""
    for path in files:
        if not path.exists():
            raise InputError(wording.format(path=path, problem="no such file"))
        if path.is_dir():
            raise InputError(wording.format(path=path, problem=f"is a directory, not {kind}"))


def validate_files(
    files: Sequence[Path],
    fmt: str,
    check: Callable[[Path], Checked],
    *,
    kind: str,
    wording: str = "{path}: {problem}",
) -> None:
    """Check every file, print its findings (then, as text, one summary line per file) and
    exit 0 when no file failed (warnings allowed), 1 when any did."""
    check_files(files, kind=kind, wording=wording)
    out = FindingsOut(fmt)
    summaries = []
    failed = False
    for path in files:
        checked = check(path)
        out.write(checked.findings)
        summaries.append(checked.summary)
        failed = failed or checked.failed
    out.close()
    if fmt == "text":
        for line in summaries:
            # A file's name or a bundle's id, quoted here, can hold a CPR number's digits.
            click.echo(mask_cpr_in_text(line))
    sys.exit(1 if failed else 0)
