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


_LIBRARY_WARNS = """
import warnings
import toekgw.cli.main  # noqa: F401  (sets the filters, as the command does)
warnings.warn_explicit("DSA is deprecated", UserWarning, "asyncssh/crypto/misc.py", 32,
                       module="asyncssh.crypto.misc")
warnings.warn_explicit("our own", UserWarning, "toekgw/x.py", 1, module="toekgw.x")
"""


def test_a_library_warning_stays_off_stderr_unless_asked_for() -> None:
    # asyncssh on cryptography 51 warns at import; every failure must still be one line.
    quiet = subprocess.run(
        [sys.executable, "-c", _LIBRARY_WARNS], capture_output=True, text=True, check=True
    )
    assert "DSA" not in quiet.stderr and "our own" in quiet.stderr
    asked = subprocess.run(
        [sys.executable, "-W", "default", "-c", _LIBRARY_WARNS],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "DSA is deprecated" in asked.stderr
