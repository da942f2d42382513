"""Operator mistakes end in one line naming the file and what was expected, never in
"internal error ... please report it" (issue 11, case 12)."""

from __future__ import annotations

from pathlib import Path

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
