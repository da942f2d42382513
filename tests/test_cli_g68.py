"""The toekgw commands for G68: validate, generate, demo; exit codes and output formats."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.g68_helpers import TODAY, delivery_lines, payment
from toekgw.cli.main import cli
from toekgw.formats.g68 import G68Form
from toekgw.simulators.ksd import GeneratorSettings, write_delivery
from toekgw.simulators.ksd.g68 import manifest_path

DAY = TODAY.isoformat()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), obj={"debug": False})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def planted_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("g68") / "planted.g68"
    write_delivery(
        path,
        GeneratorSettings(count=1500, seed=21, form=G68Form.FLOATING, error_rate=0.05, today=TODAY),
    )
    return path


def _write(tmp_path: Path, lines: list[str], name: str = "d.g68") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("iso-8859-1"))
    return path


def test_valid_file_exits_0_with_a_summary(tmp_path: Path) -> None:
    path = _write(tmp_path, delivery_lines(G68Form.FAST, [payment(1), payment(2)]))
    code, out, _ = run("validate", "g68", "--today", DAY, str(path))
    assert code == 0
    assert "2 payments" in out and "accepted" in out and "0 errors" in out


def test_warnings_only_still_exit_0(tmp_path: Path) -> None:
    import dataclasses

    twin = dataclasses.replace(payment(1), sequence=2)
    path = _write(tmp_path, delivery_lines(G68Form.FAST, [payment(1), twin]))
    code, out, _ = run("validate", "g68", "--today", DAY, str(path))
    assert code == 0 and "g68.payment.duplicate" in out


def test_json_lists_exactly_the_planted_errors(planted_file: Path) -> None:
    code, out, _ = run("validate", "g68", "--today", DAY, "--format", "json", str(planted_file))
    assert code == 1
    rows = json.loads(out)
    assert rows and {"file", "line", "columns", "field", "code", "severity", "message"} <= set(
        rows[0]
    )
    manifest = json.loads(manifest_path(planted_file).read_text(encoding="utf-8"))
    assert {(r["line"], r["code"]) for r in rows} == {
        (p["line"], p["code"]) for p in manifest["planted"]
    }
    assert len(rows) == len(manifest["planted"])
    assert all(r["columns"] for r in rows)


def test_csv_and_text_over_several_files(planted_file: Path, tmp_path: Path) -> None:
    clean = _write(tmp_path, delivery_lines(G68Form.FLOATING, [payment(1)]))
    code, out, _ = run(
        "validate", "g68", "--today", DAY, "--format", "csv", str(clean), str(planted_file)
    )
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all(r["file"] == str(planted_file) for r in rows)
    assert out.count("file,line,columns") == 1
    code, out, _ = run("validate", "g68", "--today", DAY, str(clean), str(planted_file))
    assert code == 1
    assert out.splitlines()[-1].startswith(f"{planted_file}: 1500 payments")


def test_empty_json_is_an_empty_list(tmp_path: Path) -> None:
    path = _write(tmp_path, delivery_lines(G68Form.FAST, [payment(1)]))
    code, out, _ = run("validate", "g68", "--today", DAY, "--format", "json", str(path))
    assert code == 0 and json.loads(out) == []


def test_refused_delivery_exits_1_and_says_why(tmp_path: Path) -> None:
    lines = delivery_lines(G68Form.FAST, [payment(1)])
    path = _write(tmp_path, lines[:-1])
    code, out, _ = run("validate", "g68", "--today", DAY, str(path))
    assert code == 1 and "REFUSED" in out and "no SLUTD" in out


def test_unreadable_input_exits_2_with_one_line(tmp_path: Path) -> None:
    code, out, err = run("validate", "g68", str(tmp_path / "missing.g68"))
    assert code == 2 and out == ""
    assert err.strip() == f"toekgw: error: {tmp_path / 'missing.g68'}: no such file"
    code, _, err = run("validate", "g68", str(tmp_path))
    assert code == 2 and "directory" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("unit", "shown"),
    [
        ("51", "'51'"),
        ("0101851234", "'010185-****'"),
        ("51a0", "'51a0'"),
        ("５１１０", "'５１１０'"),
    ],
)
def test_a_dagpenge_unit_must_be_four_digits_as_in_the_configuration(
    tmp_path: Path, unit: str, shown: str
) -> None:
    path = _write(tmp_path, delivery_lines(G68Form.FAST, [payment(1)]))
    code, out, err = run("validate", "g68", "--dagpenge-unit", unit, str(path))
    assert code == 2 and out == ""
    assert (
        f"Invalid value for '--dagpenge-unit': expected a paying unit of 4 digits, found {shown}"
        in err
    )
    assert "0101851234" not in err
    code, _, _ = run("validate", "g68", "--today", DAY, "--dagpenge-unit", "5130", str(path))
    assert code == 0


def test_no_cpr_in_clear_in_cli_output(tmp_path: Path) -> None:
    lines = delivery_lines(G68Form.FAST, [payment(1, transaction_type="10")])
    lines[1] = lines[1][:63] + "X" + lines[1][64:]  # a letter in the CPR serial number
    path = _write(tmp_path, lines)
    for fmt in ("text", "json", "csv"):
        code, out, _ = run("validate", "g68", "--today", DAY, "--format", fmt, str(path))
        assert code == 1 and "010185-****" in out
        assert "0101851234" not in out and "0101851X34" not in out


def test_generate_refuses_more_than_a_delivery_holds(tmp_path: Path) -> None:
    code, _, err = run(
        "generate", "g68", "--count", "100000", "--seed", "1", "-o", str(tmp_path / "x")
    )
    assert code == 2 and "at most 99,999 payments" in err and "--split" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("where", ["missing/dir", "a-file"])
def test_generate_into_a_directory_that_is_not_there_is_refused(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-file").write_text("")
    output = tmp_path / where / "x.g68"
    code, _, err = run("generate", "g68", "--count", "3", "--seed", "1", "-o", str(output))
    assert code == 2 and "internal error" not in err, err
    expected = (
        f"{tmp_path / 'a-file'} is a file, not a directory"
        if where == "a-file"
        else f"no directory {output.parent} (expected a file in an existing directory)"
    )
    assert f"Invalid value for '-o' / '--output': {output}: {expected}" in err, err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["validate", "g68", "--today", "0001-01-01"],
            "Invalid value for '--today': 0001-01-01: expected a date from 1900-01-01 to "
            "9000-12-31",
        ),
        (
            ["validate", "g68", "--max-age-days", "999999999"],
            "Invalid value for '--max-age-days': 999999999 is not in the range 0<=x<=36500",
        ),
        (
            ["generate", "g68", "--count", "3", "--seed", "1", "--today", "9999-12-31", "-o"],
            "Invalid value for '--today': 9999-12-31: expected a date from 1900-01-01 to "
            "9000-12-31",
        ),
    ],
    ids=["validate-today", "validate-max-age", "generate-today"],
)
def test_dates_the_date_arithmetic_cannot_reach_are_refused(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    path = _write(tmp_path, delivery_lines(G68Form.FAST, [payment(1)]))
    code, _, err = run(*args, str(path))
    assert code == 2 and "internal error" not in err and expected in err, err


def test_the_last_dates_taken_still_work(tmp_path: Path) -> None:
    for day in ("1900-01-01", "9000-12-31"):
        out_file = tmp_path / f"{day}.g68"
        args = ["--count", "20", "--seed", "1", "--error-rate", "0.5", "--today", day]
        code, _, err = run("generate", "g68", *args, "-o", str(out_file))
        assert code == 0, err
        code, out, err = run(
            "validate", "g68", "--today", day, "--max-age-days", "36500", str(out_file)
        )
        assert code in (0, 1) and "20 payments" in out, err


def test_generate_then_validate(tmp_path: Path) -> None:
    out_file = tmp_path / "gen.g68"
    code, _, err = run(
        "generate",
        "g68",
        "--count",
        "300",
        "--seed",
        "4",
        "--form",
        "floating",
        "--error-rate",
        "0.1",
        "--today",
        DAY,
        "-o",
        str(out_file),
    )
    assert code == 0 and "300 payments" in err
    manifest = json.loads(manifest_path(out_file).read_text(encoding="utf-8"))
    code, out, _ = run("validate", "g68", "--today", DAY, "--format", "json", str(out_file))
    assert {(r["line"], r["code"]) for r in json.loads(out)} == {
        (p["line"], p["code"]) for p in manifest["planted"]
    }


@pytest.mark.parametrize(
    "args",
    [[], ["validate"], ["validate", "g68"], ["generate"], ["generate", "g68"], ["demo"]],
)
def test_help_on_every_command(args: list[str]) -> None:
    code, out, _ = run(*args, "--help")
    assert code == 0 and "Usage:" in out


def test_demo_finds_every_planted_error(tmp_path: Path) -> None:
    code, out, _ = run("demo", "--workdir", str(tmp_path / "demo"), "--count", "500", "--json")
    assert code == 0
    errors = json.loads(out)["error_list"]
    assert errors["planted"] > 0 and errors["planted_found"] == errors["planted"]


def test_real_subprocess(tmp_path: Path, planted_file: Path) -> None:
    exe = Path(sys.executable).with_name("toekgw")
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and "toekgw" in version.stdout
    proc = subprocess.run(
        [str(exe), "validate", "g68", "--today", DAY, "--format", "json", str(planted_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and json.loads(proc.stdout)
    missing = subprocess.run(
        [str(exe), "validate", "g68", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_progress_only_for_large_files_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, planted_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.g68_helpers import CONFIG
    from toekgw.adapters.g68 import read_delivery
    from toekgw.cli.validate import g68 as command

    with command.progress_bar(planted_file) as progress:
        assert progress is None  # small file, and not a terminal
    monkeypatch.setattr(command, "PROGRESS_MIN_BYTES", 0)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    seen: list[int] = []
    with command.progress_bar(planted_file) as progress:
        assert progress is not None

        def spy(done: int) -> None:
            seen.append(done)
            progress(done)

        read_delivery(planted_file, CONFIG, progress=spy)
    assert seen and seen[-1] == planted_file.stat().st_size
    assert capsys.readouterr().out == ""  # the bar never touches stdout
