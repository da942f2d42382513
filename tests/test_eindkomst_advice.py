"""SKAT's error and advice file (records 0001/0002/0003/9999, 361 characters): a hand-written
file read into findings on the reported lines, its frame checked, and the round trip."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.eik_helpers import as_file
from toekgw.formats.eindkomst.advice import ADVICE, ERROR, ErrorReceipt, encode_advice_file
from toekgw.formats.eindkomst.receipts import decode_receipts


def _record(
    rtype: str,
    line: int,
    field: str,
    report: str,
    se: str,
    number: str,
    text: str,
    cpr: str = "",
    se_person: str = "",
) -> str:
    # Column by column as the public source reads it: 1/4, 5/7, 12/2, 14/16, 30/8, 38/6,
    # 44/300, 344/10, 354/8.
    return (
        rtype
        + f"{line:07d}"
        + field.rjust(2)
        + report.ljust(16)
        + se.rjust(8)
        + number
        + text.ljust(300)
        + cpr.ljust(10)
        + se_person.ljust(8)
    )


HAND_WRITTEN = "\r\n".join(
    [
        "0001".ljust(361),
        _record(
            "0002",
            12,
            "03",
            "R000000000000001",
            "12345678",
            "004711",
            "CPR-nummer findes ikke",
            "0101701234",
        ),
        _record("0003", 15, "", "R000000000000001", "12345678", "009001", "Beløb over 1 mio."),
        "9999".ljust(361),
        "",
    ]
).encode("iso-8859-1")


def test_a_hand_written_file_reads_into_errors_and_advice() -> None:
    assert all(len(line) == 361 for line in HAND_WRITTEN.split(b"\r\n")[:-1])
    receipts = decode_receipts(as_file(HAND_WRITTEN))
    assert receipts.findings == [] and receipts.sums == []
    error, advice = receipts.errors
    assert (error.record_type, error.line_number, error.field_index) == (ERROR, 12, "03")
    assert (error.report_id, error.se, error.error_code) == (
        "R000000000000001",
        "12345678",
        "004711",
    )
    assert (error.text, error.cpr, error.is_error) == ("CPR-nummer findes ikke", "0101701234", True)
    assert "0101701234" not in repr(error)  # masked
    assert (advice.record_type, advice.line_number, advice.field_index) == (ADVICE, 15, None)
    assert (advice.text, advice.cpr, advice.is_error) == ("Beløb over 1 mio.", None, False)


def test_a_cut_or_damaged_file_is_findings_not_a_crash() -> None:
    lines = HAND_WRITTEN.split(b"\r\n")
    cut = b"\r\n".join(lines[:3]) + b"\r\n"  # no 9999
    receipts = decode_receipts(as_file(cut))
    assert [f.code for f in receipts.findings] == ["eik.advice.frame"]
    assert "without the end record 9999" in receipts.findings[0].message
    assert len(receipts.errors) == 2  # what was read is kept; the finding says the file is cut
    short = HAND_WRITTEN.replace(lines[1], lines[1][:200])
    codes = [f.code for f in decode_receipts(as_file(short)).findings]
    assert codes == ["eik.advice.record.length"]
    bad_cpr = HAND_WRITTEN.replace(b"0101701234", b"010170123X")
    findings = decode_receipts(as_file(bad_cpr)).findings
    assert findings and all("010170123" not in f.message for f in findings)
    extra = HAND_WRITTEN + lines[1] + b"\r\n"
    assert "after the end record" in decode_receipts(as_file(extra)).findings[0].message


remarks = st.builds(
    ErrorReceipt,
    st.sampled_from([ERROR, ADVICE]),
    st.integers(1, 9_999_999),
    st.one_of(st.none(), st.text("0123456789", min_size=2, max_size=2)),
    st.text("ABCDEF0123456789", min_size=1, max_size=16),
    st.one_of(st.none(), st.text("0123456789", min_size=8, max_size=8)),
    st.text("0123456789", min_size=6, max_size=6),
    st.one_of(
        st.none(),
        st.text("abc æøå ÆØÅ 019.,-", min_size=1, max_size=300).map(str.strip).filter(bool),
    ),
    st.one_of(st.none(), st.text("0123456789", min_size=10, max_size=10)),
    st.one_of(st.none(), st.text("ABC0123456789", min_size=1, max_size=8)),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(remarks, max_size=5))
def test_round_trip(entries: list[ErrorReceipt]) -> None:
    data = b"".join(encode_advice_file(entries))
    receipts = decode_receipts(as_file(data))
    assert receipts.findings == [] and receipts.errors == entries
