"""Validation of deliveries: structure, limits, identifiers, abroad, and the history rules."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.eik_helpers import DISPOSITION, OTHER_SE, PERIOD, SE, as_file, build_bytes, cpr, report
from toekgw.formats.eindkomst.codec import decode_records
from toekgw.formats.eindkomst.history import MemoryHistory
from toekgw.formats.eindkomst.history_rules import check_entries
from toekgw.formats.eindkomst.monthclose import nil_reports_due
from toekgw.formats.eindkomst.report import (
    Abroad,
    IncomeReport,
    NilReport,
    Recipient,
    ReversalRequest,
)
from toekgw.formats.eindkomst.rules import validate_delivery
from toekgw.formats.findings import Finding

TODAY = dt.date(2026, 11, 23)


def lines_of(data: bytes) -> list[str]:
    return data.decode("iso-8859-1").split("\r\n")[:-1]


def join(lines: list[str]) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode("iso-8859-1")


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def renumber(lines: list[str]) -> list[str]:
    out = [f"{i:07d}{line[7:]}" for i, line in enumerate(lines, start=1)]
    out[-1] = f"{len(out):07d}9999{len(out):07d}"
    return out


def test_10001_records_under_one_5000_is_a_finding() -> None:
    data = build_bytes(report(5_001), max_group_records=20_000)[0]
    check = validate_delivery(as_file(data), today=TODAY)
    assert codes(check.findings) == ["eik.group.limit"]
    f = check.findings[0]
    assert f.line == 3 + 10_001  # 1000, 2001, 5000, then the 10,001st record of the group
    assert check.reports[0].group_records == 10_002
    assert not check.ok


def test_line_number_out_of_sequence_and_wrong_count() -> None:
    lines = lines_of(build_bytes(report(3))[0])
    lines[4] = "0000009" + lines[4][7:]
    lines[-1] = lines[-1][:11] + "0000099"
    check = validate_delivery(as_file(join(lines)), today=TODAY)
    assert codes(check.findings) == ["eik.line.sequence", "eik.line.sequence", "eik.count.mismatch"]
    seq = check.findings[0]
    assert (seq.line, seq.columns, seq.expected, seq.found) == (5, (1, 7), "0000005", "0000009")
    count = check.findings[2]
    assert (count.expected, count.found) == (str(len(lines)), "99")


def test_nesting_order_start_and_end() -> None:
    lines = lines_of(build_bytes(report(2))[0])
    # Move the first 6001 before its 6000, drop the 9999.
    broken = [lines[0], lines[1], lines[2], lines[4], lines[3], *lines[5:-1]]
    check = validate_delivery(as_file(join(renumber([*broken, "x"])[:-1])), today=TODAY)
    assert "eik.structure.nesting" in codes(check.findings)
    assert codes(check.findings)[-1] == "eik.structure.end"
    # No 1000 first; records after the 9999.
    tail = renumber(lines[1:])
    check = validate_delivery(
        as_file(join([*tail, f"{len(tail) + 1:07d}" + lines[1][7:]])), today=TODAY
    )
    assert codes(check.findings) == ["eik.structure.start", "eik.structure.after_end"]


def test_empty_group_empty_file_blank_line_and_unknown_type() -> None:
    lines = lines_of(build_bytes(report(1))[0])
    check = validate_delivery(as_file(join(renumber([*lines[:3], *lines[5:]]))), today=TODAY)
    assert codes(check.findings) == ["eik.group.empty"]
    assert codes(validate_delivery(as_file(b""), today=TODAY).findings) == ["eik.structure.empty"]
    check = validate_delivery(
        as_file(join([*lines[:2], "", "0000004ABCD", *lines[4:]])), today=TODAY
    )
    assert codes(check.findings) == ["eik.record.empty", "eik.record.type", "eik.structure.nesting"]


def test_identifiers_are_checked_and_never_shown_in_clear() -> None:
    bad_cpr = "3102801234"  # 31 February
    rep = IncomeReport(
        SE,
        *PERIOD,
        DISPOSITION,
        "00",
        [Recipient(cpr=bad_cpr, amounts={"0013": 1}), Recipient(cvr_se="12345678")],
    )
    lines = lines_of(build_bytes(rep)[0])
    lines[1] = lines[1][:27] + "12345678" + lines[1][35:]  # company SE fails mod-11
    check = validate_delivery(as_file(join(lines)), today=TODAY)
    assert codes(check.findings) == ["eik.ident.cvr", "eik.ident.cpr", "eik.ident.cvr"]
    text = repr(check.findings)
    assert bad_cpr not in text and "310280-****" in text


def test_the_same_recipient_twice_in_one_report_is_a_warning() -> None:
    twice = [Recipient(cpr=cpr(1), amounts={"0013": 1})] * 2
    rep = IncomeReport(SE, *PERIOD, DISPOSITION, "00", twice)
    check = validate_delivery(as_file(build_bytes(rep)[0]), today=TODAY)
    assert codes(check.findings) == ["eik.recipient.duplicate"]
    assert check.ok and check.findings[0].line == 6
    kinds = [Recipient(cpr=cpr(1), income_kind=k, amounts={"0013": 1}) for k in ("0001", "0002")]
    rep = IncomeReport(SE, *PERIOD, DISPOSITION, "00", kinds)
    assert validate_delivery(as_file(build_bytes(rep)[0]), today=TODAY).findings == []


def test_field_number_with_the_wrong_record_type_and_unknown_numbers() -> None:
    rep = IncomeReport(
        SE,
        *PERIOD,
        DISPOSITION,
        "00",
        [Recipient(cpr=cpr(1), amounts={"0013": 1, "0777": 2}, codes={"0045": "Z"})],
    )
    lines = lines_of(build_bytes(rep)[0])
    # A 6002 written as if 0013 were a code.
    lines.insert(-1, "0000000" + "6002" + "0013" + "A".ljust(10))
    check = validate_delivery(as_file(join(renumber(lines))), today=TODAY)
    by_code = {f.code: f for f in check.findings}
    assert set(by_code) == {"eik.field.unknown", "eik.field.code_value", "eik.field.record_type"}
    assert by_code["eik.field.unknown"].severity.value == "warning"
    assert by_code["eik.field.record_type"].expected == "6001"


def test_recipients_abroad_need_8001_and_a_tin_from_2024() -> None:
    abroad = Abroad(dt.date(1970, 1, 1), "1", "DE", "Müller, Hans", tin="DE123", tin_country="DE")
    ok = Recipient(amounts={"0014": 1}, abroad=abroad)
    lines = lines_of(build_bytes(IncomeReport(SE, *PERIOD, DISPOSITION, "00", [ok]))[0])
    assert validate_delivery(as_file(join(lines)), today=TODAY).findings == []
    without_8001 = renumber([ln for ln in lines if ln[7:11] != "8001"])
    assert codes(validate_delivery(as_file(join(without_8001)), today=TODAY).findings) == [
        "eik.abroad.person_data"
    ]
    no_tin = Abroad(dt.date(1970, 1, 1), "1", "DE", "Müller, Hans")
    rep_2024 = IncomeReport(SE, *PERIOD, DISPOSITION, "00", [Recipient(cpr=cpr(2), abroad=no_tin)])
    assert codes(validate_delivery(as_file(build_bytes(rep_2024)[0]), today=TODAY).findings) == [
        "eik.abroad.tin"
    ]
    rep_2023 = IncomeReport(
        SE,
        dt.date(2023, 12, 1),
        dt.date(2023, 12, 31),
        dt.date(2023, 12, 29),
        "00",
        [Recipient(cpr=cpr(2), abroad=no_tin)],
    )
    assert validate_delivery(as_file(build_bytes(rep_2023)[0]), today=TODAY).findings == []


def test_truncated_record_and_bad_dates_are_findings_not_tracebacks() -> None:
    lines = lines_of(build_bytes(report(2))[0])
    lines[2] = lines[2][:50]  # 5000 cut short
    lines[3] = lines[3][:19] + "0000000000" + lines[3][29:]  # CPR of zeros
    lines[4] = lines[4][:13] + "x" + lines[4][14:]  # field number of a 6001
    check = validate_delivery(as_file(join(lines)), today=TODAY)
    assert "eik.record.length" in codes(check.findings)
    assert "eik.ident.cpr" in codes(check.findings)
    assert "eik.field.digits" in codes(check.findings)


# -- history rules --------------------------------------------------------------------------


def history_of(*deliveries: bytes) -> MemoryHistory:
    h = MemoryHistory()
    for d in deliveries:
        h.add_delivery(decode_records(as_file(d)))
    return h


def one(person: int, **kw: object) -> IncomeReport:
    rec = Recipient(cpr=cpr(person), **kw)  # type: ignore[arg-type]
    return IncomeReport(SE, *PERIOD, DISPOSITION, "00", [rec], key=str(kw))


def test_a_correction_may_not_make_a_monthly_total_negative() -> None:
    sent = build_bytes(one(1, amounts={"0013": 10_000, "0015": 3_000}))[0]
    history = history_of(sent)
    fine = build_bytes(one(1, amounts={"0013": -10_000}))[0]
    assert validate_delivery(as_file(fine), history=history, today=TODAY).findings == []
    too_much = build_bytes(one(1, amounts={"0013": -10_001}))[0]
    check = validate_delivery(as_file(too_much), history=history, today=TODAY)
    assert codes(check.findings) == ["eik.correction.negative_total"]
    assert check.findings[0].line == 5 and check.findings[0].found == "-1"
    other_person = build_bytes(one(2, amounts={"0013": -1}))[0]
    check = validate_delivery(as_file(other_person), history=history, today=TODAY)
    assert codes(check.findings) == ["eik.correction.negative_total"]


def test_codes_ticks_and_texts_are_reversed_not_corrected() -> None:
    sent = build_bytes(one(1, codes={"0045": "A"}))[0]
    report_id = validate_delivery(as_file(sent), today=TODAY).reports[0].report_id
    assert report_id is not None
    history = history_of(sent)
    again = build_bytes(one(1, codes={"0045": "B"}))[0]
    check = validate_delivery(as_file(again), history=history, today=TODAY)
    assert codes(check.findings) == ["eik.correction.not_reversed"]
    assert report_id in (check.findings[0].expected or "")
    reversed_first = build_bytes(
        one(1, codes={"0045": "B"}), reversals=[ReversalRequest(SE, report_id, cpr=cpr(1))]
    )[0]
    assert validate_delivery(as_file(reversed_first), history=history, today=TODAY).ok
    # Once the reversal is in the history, a new code needs no reversal in the same delivery.
    history.add_delivery(
        decode_records(as_file(build_bytes(reversals=[ReversalRequest(SE, report_id)])[0]))
    )
    assert validate_delivery(as_file(again), history=history, today=TODAY).ok


def test_nil_reports_once_per_month_not_too_old_not_with_tax() -> None:
    nil = build_bytes(nil_reports=[NilReport(SE, dt.date(2026, 10, 1))])[0]
    history = MemoryHistory()
    assert validate_delivery(as_file(nil), history=history, today=TODAY).ok
    history.add_delivery(decode_records(as_file(nil)))
    check = validate_delivery(as_file(nil), history=history, today=TODAY)
    assert codes(check.findings) == ["eik.nil.duplicate"]
    twice = build_bytes(
        nil_reports=[NilReport(SE, dt.date(2026, 9, 1)), NilReport(SE, dt.date(2026, 9, 30))]
    )[0]
    check = validate_delivery(as_file(twice), history=MemoryHistory(), today=TODAY)
    assert codes(check.findings) == ["eik.nil.duplicate"]
    old = build_bytes(nil_reports=[NilReport(SE, dt.date(2023, 11, 1))])[0]
    check = validate_delivery(as_file(old), history=MemoryHistory(), today=TODAY)
    assert codes(check.findings) == ["eik.nil.too_old"]
    recent = build_bytes(nil_reports=[NilReport(SE, dt.date(2023, 12, 1))])[0]
    assert validate_delivery(as_file(recent), history=MemoryHistory(), today=TODAY).ok
    # Nil for November, but A-tax with a November disposition date in the same delivery.
    mixed = build_bytes(one(1, amounts={"0015": 100}), nil_reports=[NilReport(SE, DISPOSITION)])[0]
    check = validate_delivery(as_file(mixed), history=MemoryHistory(), today=TODAY)
    assert codes(check.findings) == ["eik.nil.has_withholding"]
    # … or reported earlier.
    taxed = history_of(build_bytes(one(1, amounts={"0015": 100}))[0])
    nov = build_bytes(nil_reports=[NilReport(SE, DISPOSITION)])[0]
    check = validate_delivery(as_file(nov), history=taxed, today=TODAY)
    assert codes(check.findings) == ["eik.nil.has_withholding"]


def test_history_rules_over_decoded_entries() -> None:
    history = history_of(build_bytes(one(1, amounts={"0013": 5}))[0])
    entries = decode_records(as_file(build_bytes(one(1, amounts={"0013": -6}))[0]))
    assert codes(check_entries(entries, history, TODAY)) == ["eik.correction.negative_total"]


def test_month_close_owes_nil_reports_only_where_nothing_was_withheld() -> None:
    history = history_of(build_bytes(one(1, amounts={"0016": 800}))[0])  # SE withheld AM
    due = nil_reports_due([SE, OTHER_SE, OTHER_SE], DISPOSITION, history, today=TODAY)
    assert due == [NilReport(OTHER_SE, dt.date(2026, 11, 1))]
    history.add_delivery(decode_records(as_file(build_bytes(nil_reports=due)[0])))
    assert nil_reports_due([SE, OTHER_SE], DISPOSITION, history, today=TODAY) == []
    assert nil_reports_due([OTHER_SE], dt.date(2023, 11, 5), MemoryHistory(), today=TODAY) == []
    assert nil_reports_due([OTHER_SE], dt.date(2026, 12, 5), MemoryHistory(), today=TODAY) == []


def test_an_unreadable_6000_gives_its_field_finding_only() -> None:
    lines = lines_of(build_bytes(report(1))[0])
    lines[3] = lines[3][:20] + "x" + lines[3][21:]
    check = validate_delivery(as_file(join(lines)), today=TODAY)
    assert codes(check.findings) == ["eik.field.digits"]
    assert check.findings[0].found == "0x0150-****"


_BASE = lines_of(build_bytes(report(4), nil_reports=[NilReport(SE, dt.date(2026, 10, 1))])[0])
_CPRS = [cpr(i) for i in range(4)]


@settings(max_examples=150, deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(_BASE) - 1),
            st.integers(0, 150),
            st.characters(min_codepoint=0, max_codepoint=255),
            st.sampled_from(["replace", "delete", "duplicate", "truncate"]),
        ),
        max_size=6,
    )
)
def test_mutated_deliveries_give_findings_never_tracebacks_or_cpr(
    edits: list[tuple[int, int, str, str]],
) -> None:
    lines = list(_BASE)
    for row, col, char, how in edits:
        row %= len(lines) or 1
        if not lines:
            break
        line = lines[row]
        if how == "replace" and col < len(line):
            lines[row] = line[:col] + char + line[col + 1 :]
        elif how == "delete":
            del lines[row]
        elif how == "duplicate":
            lines.insert(row, line)
        else:
            lines[row] = line[:col]
    data = "".join(ln + "\r\n" for ln in lines).encode("iso-8859-1")
    check = validate_delivery(as_file(data), history=MemoryHistory(), today=TODAY)
    shown = " ".join(f"{f.message} {f.expected} {f.found}" for f in check.findings)
    assert not any(c in shown for c in _CPRS)


def test_history_rules_skip_amounts_under_an_unreadable_header() -> None:
    history = history_of(build_bytes(one(1, amounts={"0013": 5}))[0])
    lines = lines_of(build_bytes(one(1, amounts={"0013": -6}))[0])
    lines[2] = lines[2][:60] + "2026x" + lines[2][65:]  # disposition date unreadable
    check = validate_delivery(as_file(join(lines)), history=history, today=TODAY)
    assert codes(check.findings) == ["eik.field.date"]


def test_exactly_10000_is_fine_and_10001_is_not() -> None:
    def bare(n: int) -> bytes:
        people = [Recipient(cpr=cpr(i)) for i in range(n)]  # a 6000 and nothing else
        rep = IncomeReport(SE, *PERIOD, DISPOSITION, "00", people)
        return build_bytes(rep, max_group_records=20_000)[0]

    assert validate_delivery(as_file(bare(10_000)), today=TODAY).findings == []
    check = validate_delivery(as_file(bare(10_001)), today=TODAY)
    assert codes(check.findings) == ["eik.group.limit"]
    assert check.reports[0].group_records == 10_001


def test_a_company_line_is_a_nil_report_or_an_amount_of_0059_or_0400() -> None:
    nil = lines_of(build_bytes(nil_reports=[NilReport(SE, dt.date(2026, 10, 1))])[0])
    (at,) = [i for i, line in enumerate(nil) if line[7:11] == "3101"]
    assert nil[at][60:65] == "N0000"  # the nil mark and field 0000 (public-impl)
    assert validate_delivery(as_file(join(nil)), today=TODAY).findings == []

    def with_tail(tail: str) -> list[str]:
        out = list(nil)
        out[at] = nil[at][:60] + tail
        return out

    amount = "0000000150000000+"  # 150.00 kr
    cases = {
        " 0059" + amount: [],
        " 0400" + amount: [],
        "N0059" + " " * 17: ["eik.nil.mixed"],
        "N0000" + amount: ["eik.nil.mixed"],
        " 0000" + " " * 17: ["eik.nil.empty"],
        " 0059" + " " * 17: ["eik.nil.empty"],
        # a field number a company line cannot carry (it is not read, so the line has none)
        " 0013" + amount: ["eik.field.code", "eik.nil.empty"],
    }
    for tail, expected in cases.items():
        found = validate_delivery(as_file(join(with_tail(tail))), today=TODAY).findings
        assert codes(found) == expected, (tail, found)
