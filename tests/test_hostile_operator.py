"""Operator mistakes end in one line naming the file and what was expected, never in
"internal error ... please report it" (issue 11, case 12)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from tests.crashkit import Rig
from toekgw.cli.main import cli


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj={"debug": False})


def _one_clear_line(result: Result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


@pytest.mark.parametrize(
    "content", [bytes(range(256)) * 4, b"\xff\xfe[\x00j\x00o\x00u\x00r\x00"], ids=["junk", "utf16"]
)
def test_binary_junk_as_configuration(tmp_path: Path, content: bytes) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_bytes(content)
    _one_clear_line(_run("status", "--config", str(config)), str(config), "not a text file")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"\x00\x01\xfe binary junk \xff", "not a text file"),
        (b"@revoked 127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==", "marker @revoked"),
        (b"@cert-authority *.example ssh-ed25519 AAAA", "marker @cert-authority"),
        (b"127.0.0.1 ssh-ed25519 not-base64!!", "line 1: not a host key line"),
    ],
    ids=["junk", "revoked", "cert-authority", "garbled"],
)
def test_a_known_hosts_file_the_gateway_cannot_use(rig: Rig, line: bytes, expected: str) -> None:
    known = rig.base / "keys" / "known_hosts"
    known.write_bytes(line + b"\n")
    result = _run("send", str(rig.config), "--to", "erp", "--config", str(rig.config))
    _one_clear_line(result, "known_hosts", expected)
    doctor = _run("doctor", "--config", str(rig.config))
    assert doctor.exit_code == 2 and "internal error" not in doctor.output + doctor.stderr
    assert expected in doctor.output + doctor.stderr


# Each bounded numeric option with a value below its bound (the args its command needs
# besides, so that the bad value is what click refuses first).
BELOW_BOUND = [
    ("send --wait -1 --to erp x.txt", "--wait", "-1.0 is not in the range x>=0"),
    ("send --wait nan --to erp x.txt", "--wait", "'nan' is not a finite number"),
    ("debitor status --limit -1", "--limit", "-1 is not in the range x>=1"),
    ("receive nemkonto --wait -5", "--wait", "-5.0 is not in the range x>=0"),
    ("eindkomst receive --wait -1", "--wait", "-1.0 is not in the range x>=0"),
    ("receive tok --wait inf", "--wait", "'inf' is not a finite number"),
    ("receive tok --max-messages -1", "--max-messages", "-1 is not in the range x>=1"),
    ("receive beskedfordeler --max 0", "--max", "0 is not in the range x>=1"),
    ("receive beskedfordeler --wait -1", "--wait", "-1.0 is not in the range x>=0"),
    ("serve debitor --port 0", "--port", "0 is not in the range 1<=x<=65535"),
    ("reconcile action update -- -3", "ENTRY", "-3 is not in the range x>=1"),
    ("simulate fagsystem --municipality 29189846 --count -5", "--count", "x>=1"),
    ("simulate fagsystem --municipality 29189846 --check-after -1", "--check-after", "x>=0"),
    ("simulate serviceplatform --root sp --port -1", "--port", "0<=x<=65535"),
    ("simulate serviceplatform --root sp --refuse-logins -1", "--refuse-logins", "x>=0"),
    ("simulate serviceplatform --root sp --drops 0", "--drops", "x>=1"),
    ("simulate serviceplatform --root sp --max-seconds -1", "--max-seconds", "x>=0"),
    ("simulate nemkonto --queue-db q.sqlite --max-payments 0", "--max-payments", "x>=1"),
    ("simulate nemkonto --queue-db q.sqlite --backout-threshold 0", "--backout-threshold", "1<="),
    ("simulate nemkonto --queue-db q.sqlite --delay -1", "--delay", "x>=0"),
    ("simulate sts --dir sts --cvr 29189846 --saml-hours 0", "--saml-hours", "x>0"),
    ("simulate debitor --dir d --script-every 0", "--script-every", "x>0"),
    ("simulate debitor --dir d --timeouts -1", "--timeouts", "x>=0"),
    ("simulate ydelsesindeks --dir y --late-seconds -1", "--late-seconds", "x>=0"),
]


@pytest.mark.parametrize(
    ("args", "option", "expected"), BELOW_BOUND, ids=[a for a, _, _ in BELOW_BOUND]
)
def test_a_number_below_its_bound_is_refused_before_the_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: str, option: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run(*args.split())
    assert result.exit_code == 2, result.output
    assert f"Error: Invalid value for '{option}': " in result.stderr, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing made: no journal, no simulator state


#: Numeric options that stay unbounded: any value means something.
UNBOUNDED = {
    ("sortiment diff", "--from"),  # a version as the sortiment numbers it; an unknown is named
    ("sortiment diff", "--to"),
    ("simulate eindkomst", "--wrong-sum-ore"),  # how far off the sum is, either way
    ("simulate eindkomst-sf0770", "--wrong-sum-ore"),
}


def _numeric_options(group: click.Group, prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}".strip()
        if isinstance(command, click.Group):
            yield from _numeric_options(command, path)
            continue
        for param in command.params:
            if isinstance(param.type, (click.types.IntParamType, click.types.FloatParamType)):
                yield path, param.opts[0] if param.opts else param.name or "", param.type


def test_every_numeric_option_is_bounded() -> None:
    unbounded = {
        (path, option)
        for path, option, kind in _numeric_options(cli)
        if not isinstance(kind, click.types._NumberRangeBase) and option != "--seed"
    }
    assert unbounded == UNBOUNDED


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (bytes(range(256)) * 4, "not text"),
        (b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== toek@example\n", "not a private key"),
        (b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
         "not a private key"),
    ],
    ids=["binary", "public-key", "truncated"],
)  # fmt: skip
def test_a_private_key_file_the_gateway_cannot_use(rig: Rig, content: bytes, expected: str) -> None:
    rig.key.write_bytes(content)
    line = (
        f"private key {rig.key}: {expected} (expected an OpenSSH or PEM private key "
        "(RSA, ECDSA or Ed25519) without a passphrase)"
    )
    result = _run("send", str(rig.config), "--to", "erp", "--config", str(rig.config))
    _one_clear_line(result, line)
    doctor = _run("doctor", "--config", str(rig.config))
    assert doctor.exit_code == 2 and "internal error" not in doctor.output + doctor.stderr
    assert f"FAIL {line}\n" in doctor.output, doctor.output
    assert "host key pinned" in doctor.output  # the checks after it still ran


def _pem_pair(directory: Path) -> None:
    """``cert.pem`` and its ``key.pem`` in ``directory``."""
    from tests.pki import identity

    cert, key = identity("toekgw test").write_pem(directory, "pair")
    cert.rename(directory / "cert.pem")
    key.rename(directory / "key.pem")


# A simulator's directory or file under a regular file ("afile"): the operator's path is
# wrong, which is the environment's error (exit 2), named in one line.
SIMULATOR_PATHS = [
    "simulate serviceplatform --root afile/sp --port 0 --max-seconds 0",
    "simulate nemkonto --queue-db afile/q.sqlite --max-seconds 0",
    "simulate eindkomst --queue-db afile/q.sqlite --max-seconds 0",
    "simulate erp --root afile/sp --max-seconds 0",
    "simulate klassifikation --root afile/sp --sortiment 0b5b6c1e-2f51-4c5e-8f38-6a3a3b0c9d11 "
    "--code 1 --start 2026-12-01",
    "simulate sts --dir afile/sts --trust cert.pem --cvr 29189846 --port 0 --max-seconds 0",
    "simulate debitor --dir afile/d --port 0 --max-seconds 0",
    "simulate ydelsesindeks --dir afile/y --trust-sts cert.pem --port 0 --max-seconds 0",
]


@pytest.mark.parametrize("args", SIMULATOR_PATHS, ids=[a.split()[1] for a in SIMULATOR_PATHS])
def test_a_simulator_path_under_a_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a directory\n")
    _pem_pair(tmp_path)
    _one_clear_line(_run(*args.split()), "afile is a file, not a directory")


# A file a simulator loads that is not what it must be, or a pair given by halves: a usage
# error naming the option, before anything is made or served (a --tls-cert alone used to
# serve plain HTTP; a key as certificate was an "internal error").
SIMULATOR_FILES = [
    ("simulate sts --dir s --trust key.pem --cvr 29189846 --port 0", "--trust", "key.pem: "
     "expected a PEM certificate"),
    ("simulate debitor --dir d --port 0 --trust-sts key.pem", "--trust-sts", "key.pem: "
     "expected a PEM certificate"),
    ("simulate ydelsesindeks --dir y --port 0 --trust-sts key.pem", "--trust-sts", "key.pem: "
     "expected a PEM certificate"),
    ("simulate debitor --dir d --port 0 --tls-cert cert.pem", "--tls-key",
     "give --tls-cert and --tls-key together"),
    ("simulate debitor --dir d --port 0 --tls-cert key.pem --tls-key cert.pem", "--tls-cert",
     "expected a PEM certificate (chain) and its PEM private key"),
    ("simulate ydelsesindeks --dir y --port 0 --trust-sts cert.pem --tls-cert key.pem "
     "--tls-key cert.pem", "--tls-cert", "expected a PEM certificate (chain) and its PEM"),
    ("simulate serviceplatform --root sp --port 0 --party a/b", "--party", "'a/b': expected a "
     "login name"),
    ("simulate serviceplatform --root sp --port 0 --authorized-keys nokeys.pub",
     "--authorized-keys", "'nokeys.pub' does not exist"),
]  # fmt: skip


# A simulator option naming a CPR, CVR, party or sortiment that cannot be one: the fault or
# the party the tester asked for would silently not happen (a typo in --reject-cpr rejects
# nothing), or a file would land outside --root (--party ../../x). One line, exit 2, the
# value masked, nothing made.
SIMULATOR_VALUES = [
    ("simulate nemkonto --queue-db q.sqlite --max-seconds 0 --reject-cpr 0101011234X",
     "--reject-cpr", "'010101-****': expected 10 digits"),
    ("simulate nemkonto --queue-db q.sqlite --max-seconds 0 --no-account 12345", "--no-account",
     "expected a CPR or P-number (10 digits) or a CVR/SE number (8)"),
    ("simulate eindkomst --queue-db q.sqlite --max-seconds 0 --advice-cpr 3213991234",
     "--advice-cpr", "'321399-****': the first six digits are not a valid birth date"),
    ("simulate eindkomst --queue-db q.sqlite --max-seconds 0 --no-card-cpr 010101123",
     "--no-card-cpr", "expected 10 digits"),
    ("simulate klassifikation --root sp --party ../../x --sortiment "
     "0b5b6c1e-2f51-4c5e-8f38-6a3a3b0c9d11 --code 1 --start 2026-12-01", "--party",
     "'../../x': expected a login name"),
    ("simulate klassifikation --root sp --sortiment nope --code 1 --start 2026-12-01",
     "--sortiment", "'nope': expected a UUID"),
    ("simulate sts --dir s --trust cert.pem --cvr 12345678 --port 0 --max-seconds 0", "--cvr",
     "must pass the mod-11 check"),
    ("simulate beskedfordeler --queue-db b.sqlite --queue q --type t --cvr 1234 --account a",
     "--cvr", "a CVR/SE number is 8 digits"),
    ("simulate erp --root sp --max-seconds 0 --party .hidden", "--party",
     "'.hidden': expected a login name"),
    # every message's header carries it: the schema refused them all, an "internal error"
    ("simulate fagsystem --queue-db q.sqlite --municipality 29189846 --sender K!",
     "--sender", "'K!': expected a case system's short name, e.g. KY"),
    ("simulate fagsystem --queue-db q.sqlite --municipality 29189846 --sender 0101011234",
     "--sender", "'010101-****': expected a case system's short name"),
]  # fmt: skip


# Both lists as one command line each (the servers among them told to stop at once).
SIMULATOR_REFUSALS = [
    *((f"{args} --max-seconds 0", option, expected) for args, option, expected in SIMULATOR_FILES),
    *SIMULATOR_VALUES,
]


@pytest.mark.parametrize(
    ("args", "option", "expected"),
    SIMULATOR_REFUSALS,
    ids=[f"{a.split()[1]}{o}" for a, o, _ in SIMULATOR_REFUSALS],
)
def test_a_simulator_file_or_value_it_cannot_use_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: str, option: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    _pem_pair(tmp_path)
    result = _run(*args.split())
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert option in result.stderr and expected in result.stderr, result.stderr
    assert "0101011234" not in result.stderr and "3213991234" not in result.stderr  # masked
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cert.pem", "key.pem"]  # nothing made
