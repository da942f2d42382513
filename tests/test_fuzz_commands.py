"""One level up from the fuzzed parsers: the commands that take counterpart input turn a value
the parser used to choke on into a finding and exit 1 (or a refusal listed and exit 0 for a
receiver that goes on), never a traceback, and print no CPR number in clear."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzzkit import PLANTED_CPR, assert_masked, xml_mutations
from tests.oir_data import full_sortiment
from tests.oir_rig import OirRig
from tests.test_fuzz_nemkonto import ANSWERS, STOP
from toekgw.cli.main import cli
from toekgw.formats.oir import build_sortiment
from toekgw.simulators._upload import upload


def _validate(path: Path) -> Result:
    return CliRunner().invoke(
        cli, ["validate", "nemkonto", "--today", "2026-11-24", str(path)], obj={"debug": False}
    )


def _no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output


def test_validate_nemkonto_turns_an_unreadable_stop_request_into_a_finding(
    tmp_path: Path,
) -> None:
    # read_stop raised ValueError for these: the command ended in a traceback.
    path = tmp_path / "stop.xml"
    for old, new in [(b">2026-11-27<", b">12026-11-27<"), (b">2026-11-27<", b">2026-11-27Z<")]:
        path.write_bytes(STOP.replace(old, new))
        result = _validate(path)
        _no_traceback(result)
        assert result.exit_code == 1, result.output
        assert "nemkonto.stop.value.unreadable" in result.output
        assert "ReqdExctnDt" in result.output


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([STOP, *ANSWERS]).flatmap(xml_mutations))
def test_validate_nemkonto_on_damaged_input_is_findings_or_clean(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.xml"
        path.write_bytes(data.replace(b"29189846", PLANTED_CPR.encode()))
        result = _validate(path)
    _no_traceback(result)
    assert result.exit_code in (0, 1), result.output
    assert_masked(result.output)


def test_sortiment_receive_refuses_a_date_python_cannot_hold_and_reads_a_zoned_one(
    tmp_path: Path,
) -> None:
    # read_sortiment raised ValueError for both: past the receiver's OirDocumentError.
    rig = OirRig(tmp_path)
    data = build_sortiment(full_sortiment(1))
    home = rig.platform.party_dir("klassifikation") / "OUT"
    bad = data.replace(b"<GyldigFra>2026-01-01</GyldigFra><Version>",
                       b"<GyldigFra>12026-01-01</GyldigFra><Version>")  # fmt: skip
    upload(home, "SORTIMENT_BAD.xml", bad, sender="klassifikation", recipients=("toek",))
    rig.platform.scan()
    refused = rig.run("sortiment", "receive")
    _no_traceback(refused)
    assert refused.exit_code == 1 and "SORTIMENT_BAD.xml: rejected" in refused.output
    journal = rig.journal()
    try:
        (error,) = journal.errors()
        assert [f.code for f in error.findings] == ["oir.date"]
        assert error.findings[0].path == "/Sortiment/GyldigFra"
    finally:
        journal.close()
    zoned = data.replace(b"<GyldigFra>2026-01-01</GyldigFra><Version>",
                         b"<GyldigFra>2026-01-01Z</GyldigFra><Version>")  # fmt: skip
    upload(home, "SORTIMENT_ZONED.xml", zoned, sender="klassifikation", recipients=("toek",))
    rig.platform.scan()
    taken = rig.run("sortiment", "receive")
    _no_traceback(taken)
    assert taken.exit_code == 0 and "applied" in taken.output, taken.output
