"""``toekgw validate eindkomst``: findings, formats, exit codes; no traceback, no CPR in clear."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tests.eik_helpers import DISPOSITION, PERIOD, SE, build_bytes, report
from toekgw.cli.main import cli
from toekgw.formats.eindkomst.report import IncomeReport, Recipient

BAD_CPR = "3102801234"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def bad_delivery() -> bytes:
    rep = IncomeReport(
        SE, *PERIOD, DISPOSITION, "00", [Recipient(cpr=BAD_CPR, amounts={"0013": 5})]
    )
    data = build_bytes(rep)[0]
    lines = data.split(b"\r\n")
    lines[-2] = lines[-2][:11] + b"0000042"  # wrong 9999 count
    return b"\r\n".join(lines)


def test_valid_file_exits_0(tmp_path: Path) -> None:
    ok = write(tmp_path, "ok.txt", build_bytes(report(5))[0])
    result = CliRunner().invoke(cli, ["validate", "eindkomst", str(ok)])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_findings_exit_1_in_every_format_without_cpr(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.txt", bad_delivery())
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", "eindkomst", "--format", "json", str(bad)])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [r["code"] for r in rows] == ["eik.ident.cpr", "eik.count.mismatch"]
    assert rows[0]["file"] == str(bad) and rows[0]["line"] == 4
    for fmt in ("text", "csv", "json"):
        result = runner.invoke(cli, ["validate", "eindkomst", "--format", fmt, str(bad)])
        assert result.exit_code == 1
        assert BAD_CPR not in result.output and "310280-****" in result.output


def test_unreadable_and_garbage_files(tmp_path: Path) -> None:
    garbage = write(tmp_path, "garbage.bin", bytes(range(256)) * 20 + b"\n\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", "eindkomst", str(garbage)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "eik.record.type" in result.output
    result = runner.invoke(cli, ["validate", "eindkomst", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_real_toekgw_process(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.txt", bad_delivery())
    exe = Path(sys.executable).with_name("toekgw")
    proc = subprocess.run(
        [str(exe), "validate", "eindkomst", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TOEKGW_DEBUG": ""},
        check=False,
    )
    assert proc.returncode == 1
    assert "eik.count.mismatch" in proc.stdout and "Traceback" not in proc.stderr
    assert BAD_CPR not in proc.stdout + proc.stderr
