"""The root command: version, help, exit codes, and a reader that goes away."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from toekgw.cli.main import ToekGroup, cli

TOEKGW = [sys.executable, "-m", "toekgw"]


def test_version_and_help() -> None:
    runner = CliRunner()
    assert "toekgw" in runner.invoke(cli, ["--version"]).output
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0 and "Exit codes" in result.output
    # The environment variables the root options read are named where the options are.
    assert "TOEKGW_DEBUG" in result.output and "TOEKGW_LOG_FORMAT" in result.output
    assert "RECIPIENT" not in runner.invoke(cli, ["send", "--help"]).output  # it is --to


def _generate(g68: Path, *, count: int, seed: int, error_rate: float) -> Path:
    """A G68 delivery made by ``toekgw generate`` (a share of its records with errors)."""
    subprocess.run(
        [*TOEKGW, "generate", "g68", "--count", str(count), "--seed", str(seed),
         "--error-rate", str(error_rate), "-o", str(g68)],
        check=True, capture_output=True,
    )  # fmt: skip
    return g68


def test_output_into_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    g68 = _generate(tmp_path / "d.g68", count=3000, seed=1, error_rate=0.3)
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


# A CPR number (valid by its date; the control digit is not what the masking goes by).
_CPR = "0106854073"


def test_what_click_quotes_of_the_operators_input_is_masked(tmp_path: Path) -> None:
    """Click's own errors quote the value they could not use: a CPR number typed into the
    wrong option, or as a command, does not come back in clear."""
    runner = CliRunner()
    for args in (
        [_CPR],  # no such command
        ["--log-format", _CPR],  # the root's own option
        ["status", "--limit", f"{_CPR}x"],
        ["payments", "find", "--from", _CPR],
        ["payments", _CPR],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert "010685-****" in result.output, (args, result.output)
        assert _CPR not in result.output, (args, result.output)


def test_an_error_line_and_its_debug_traceback_are_masked(tmp_path: Path) -> None:
    """The one line of a GatewayError, and --debug's traceback of it (with the same exit
    code), mask the CPR number a path or a value put into the exception's text."""
    config = tmp_path / _CPR / "toekgw.toml"
    plain = subprocess.run(
        [*TOEKGW, "status", "--config", str(config)], capture_output=True, text=True
    )
    debug = subprocess.run(
        [*TOEKGW, "--debug", "status", "--config", str(config)], capture_output=True, text=True
    )
    assert plain.returncode == debug.returncode == 2, (plain.stderr, debug.stderr)
    assert plain.stderr.startswith("toekgw: error: ") and "Traceback" not in plain.stderr
    assert "Traceback (most recent call last)" in debug.stderr
    for stderr in (plain.stderr, debug.stderr):
        assert "010685-****" in stderr and _CPR not in stderr, stderr


def test_debug_traceback_of_an_unexpected_error_is_masked() -> None:
    group = ToekGroup(name="t")

    @group.command()
    def boom() -> None:
        raise ValueError(f"the value {_CPR} broke it")

    quiet = CliRunner().invoke(group, ["boom"], obj={"debug": False})
    loud = CliRunner().invoke(group, ["boom"], obj={"debug": True})
    assert quiet.exit_code == loud.exit_code == 2
    assert quiet.output.startswith("toekgw: internal error: ValueError: the value 010685-****")
    assert "Traceback (most recent call last)" in loud.output
    assert "ValueError: the value 010685-**** broke it" in loud.output
    assert _CPR not in quiet.output + loud.output


def test_a_file_named_with_a_cpr_number_is_named_masked(tmp_path: Path) -> None:
    """A file's name is quoted in every finding and summary line: named with a CPR number
    (as a case worker's export might be), it was printed in clear."""
    g68 = _generate(tmp_path / "G68_1303854040.g68", count=50, seed=3, error_rate=0.2)
    for fmt in ("text", "json", "csv"):
        done = subprocess.run(
            [*TOEKGW, "validate", "g68", "--format", fmt, str(g68)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert "G68_130385-****.g68" in done.stdout, done.stdout
        assert "1303854040" not in done.stdout + done.stderr


def test_paths_holding_a_cpr_number_are_masked_in_doctor_status_and_backup(
    tmp_path: Path,
) -> None:
    """A directory named with a CPR number (a case's folder) is quoted by doctor, status's
    title and backup's line: it was printed in clear."""
    from tests.configs import write_config

    where = tmp_path / _CPR
    where.mkdir()
    config = write_config(where, "")
    runner = CliRunner()
    outputs = [
        runner.invoke(cli, ["doctor", "--config", str(config)]).output,
        runner.invoke(cli, ["status", "--config", str(config)]).output,
        runner.invoke(cli, ["backup", str(where / "copy.sqlite"), "--config", str(config)]).output,
    ]
    for output in outputs:
        joined = "".join(output.split())  # status's title is wrapped to its table's width
        assert "010685-****" in joined and _CPR not in joined, output


def test_the_servers_default_ports_differ() -> None:
    """A rehearsal of the KOMBIT flows runs the STS, debtor and benefit-index simulators and our
    callback service at once: with their default ports (the STS and the callback both had 8443,
    the two simulators 8444) the second to start could not listen."""
    import click

    from toekgw.adapters.debitor.settings import DEFAULT_CALLBACK_PORT

    simulate = cli.commands["simulate"]
    assert isinstance(simulate, click.Group)
    ports = {"[debitor.callback] port": DEFAULT_CALLBACK_PORT}
    for name, command in simulate.commands.items():
        for param in command.params:
            if param.name == "port" and param.default:
                ports[f"simulate {name}"] = int(param.default)  # type: ignore[arg-type]
    assert {"simulate sts", "simulate debitor", "simulate ydelsesindeks"} <= ports.keys()
    assert len(set(ports.values())) == len(ports), ports
