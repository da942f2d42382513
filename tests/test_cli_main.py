"""The root command: version, help, exit codes, and a reader that goes away."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from toekgw.cli.main import cli

TOEKGW = [sys.executable, "-m", "toekgw"]


def test_version_and_help() -> None:
    runner = CliRunner()
    assert "toekgw" in runner.invoke(cli, ["--version"]).output
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0 and "Exit codes" in result.output


def test_output_into_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    g68 = tmp_path / "d.g68"
    subprocess.run(
        [*TOEKGW, "generate", "g68", "--count", "3000", "--seed", "1", "--error-rate", "0.3",
         "-o", str(g68)],
        check=True, capture_output=True,
    )  # fmt: skip
    piped = subprocess.run(
        f"{sys.executable} -m toekgw validate g68 --format json {g68} | head -c 100",
        shell=True, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert len(piped.stdout) == 100
    assert "Traceback" not in piped.stderr and "internal error" not in piped.stderr
