"""``toekgw validate nemkonto``: bundles and answers, findings and exit codes like
``validate g68``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner, Result

from tests.nemkonto_data import bundle, cpr, payment
from toekgw.cli.main import cli
from toekgw.formats.nemkonto import AnswerType, BundleAnswer, build_answer, build_bundle

DAY = "2026-11-30"


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["validate", "nemkonto", *args], obj={"debug": False})


def test_a_valid_bundle_and_an_answer_exit_0_with_a_summary_each(tmp_path: Path) -> None:
    ours = tmp_path / "bundle.xml"
    ours.write_bytes(build_bundle(bundle([payment(n) for n in range(1, 4)])))
    answer = tmp_path / "answer.xml"
    processed = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    answer.write_bytes(build_answer(BundleAnswer(AnswerType.RECEIVED, "B-0001", processed)))
    result = _run("--today", DAY, str(ours), str(answer))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{ours}: bundle B-0001: 3 payments, 300.06 kr, 0 errors, 0 warnings"
    assert lines[1].startswith(f"{answer}: answer type 1 for bundle B-0001")


def test_a_recipient_not_yet_born_is_an_error_with_the_cpr_masked(tmp_path: Path) -> None:
    unborn = "0112264234"  # born 2026-12-01
    path = tmp_path / "bundle.xml"
    path.write_bytes(
        build_bundle(bundle([payment(1), payment(2, cpr_number=unborn)]), validate=False)
    )
    result = _run("--today", DAY, "--format", "json", str(path))
    assert result.exit_code == 1
    (finding,) = json.loads(result.stdout)
    assert finding["code"] == "nemkonto.bundle.recipient.cpr"
    assert "not yet born" in finding["message"]
    assert unborn not in result.stdout and cpr(1) not in result.stdout
    assert _run("--today", "2026-12-01", str(path)).exit_code == 0


def test_a_hostile_or_broken_document_is_findings_not_a_crash(tmp_path: Path) -> None:
    doctype = tmp_path / "doctype.xml"
    doctype.write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE NKSAnswer [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<NKSAnswer>&x;</NKSAnswer>"
    )
    garbled = tmp_path / "garbled.xml"
    garbled.write_bytes(b"\x00\xffnot xml")
    result = _run("--format", "csv", str(doctype), str(garbled))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "nemkonto.xml.doctype" in result.stdout or "DOCTYPE" in result.stdout
    assert "xml.syntax" in result.stdout
    missing = _run(str(tmp_path / "nothing.xml"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_real_shaped_answers_from_nemkonto_validate_and_a_damaged_one_is_exit_1(
    tmp_path: Path,
) -> None:
    folder = Path(__file__).parent / "samples" / "nemkonto"
    samples = sorted(folder.glob("*.xml"))
    result = _run("--today", DAY, *map(str, samples))
    assert result.exit_code == 0, result.output
    by_file = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert len(by_file) == len(samples) == 8
    stop = by_file[str(folder / "response5.xml")]
    assert stop.startswith("answer type 5 for bundle B-20261201-0001 (bundle rejected), 1 payment")
    damaged = tmp_path / "response9.xml"
    text = (folder / "response9.xml").read_text(encoding="utf-8")
    damaged.write_text(text.replace(">RJCT</swift:TxSts>", ">ACPT</swift:TxSts>"), "utf-8")
    bad = _run("--today", DAY, str(damaged))
    assert bad.exit_code == 1
    assert "nemkonto.answer.inconsistent" in bad.stdout and "TxSts ACPT" in bad.stdout


def test_a_stop_request_is_validated_by_its_own_schema(tmp_path: Path) -> None:
    from toekgw.formats.nemkonto import StopRequest, build_stop

    stop = tmp_path / "stop.xml"
    at = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    request = StopRequest("STOP-1", at, "29189846", "4711", "B-0001", dt.date(2026, 11, 27),
                          (("12345678:1", 100),), "paid twice")  # fmt: skip
    stop.write_bytes(build_stop(request))
    broken = tmp_path / "broken.xml"
    broken.write_bytes(stop.read_bytes().replace(b"<nks:GrpId>B-0001</nks:GrpId>", b""))
    result = _run(str(stop), str(broken))
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert f"{stop}: stop request STOP-1 for bundle B-0001, 1 payments, 0 errors, 0 warnings" in (
        lines
    )
    assert any(line.startswith(f"{broken}: stop request (NKSStop), 1 errors") for line in lines)
    assert "/NKSStop/ReqdExctnDt" in result.stdout and "GrpId" in result.stdout
