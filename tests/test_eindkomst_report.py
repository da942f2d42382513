"""The report builder: 5000 groups within the limit, message-size splits, stable ids."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.eik_helpers import (
    DISPOSITION,
    OTHER_SE,
    PERIOD,
    SE,
    as_file,
    build_bytes,
    builder,
    cpr,
    report,
)
from toekgw.formats.eindkomst.codec import decode_records
from toekgw.formats.eindkomst.records import (
    AmountField,
    CodeField,
    CompanyLine,
    CountField,
    PersonData,
    RecipientRecord,
    ReportHeader,
    Reversal,
    TaxCardOrderRecord,
    TextField,
    TickField,
)
from toekgw.formats.eindkomst.report import (
    Abroad,
    IncomeReport,
    NilReport,
    Recipient,
    ReportError,
    ReversalRequest,
    TaxCardOrder,
)
from toekgw.formats.eindkomst.rules import validate_delivery

TODAY = dt.date(2026, 11, 30)  # the date the rules take as today


def test_25001_recipients_become_6_groups_within_the_limit_and_ids_are_stable() -> None:
    first = build_bytes(report(25_001))
    assert len(first) == 1
    check = validate_delivery(as_file(first[0]), today=TODAY)
    assert check.findings == []
    groups = check.reports
    assert len(groups) == 6
    assert [g.group_records for g in groups] == [10_000] * 5 + [2]
    assert sum(g.recipients for g in groups) == 25_001
    assert check.records == 2 + 1 + 6 + 50_002  # 1000, 9999, 2001, 5000s, 6000 group
    # No recipient split: every 6000 is followed by its own 6001 in the same group.
    entries = list(decode_records(as_file(first[0])))
    for i, e in enumerate(entries):
        if isinstance(e.record, RecipientRecord):
            assert isinstance(entries[i + 1].record, AmountField)
    assert len({g.report_id for g in groups}) == 6
    second = build_bytes(report(25_001))
    assert second == first


def test_report_ids_depend_on_content_and_key() -> None:
    a = build_bytes(report(3))[0]
    b = build_bytes(report(3, amount=100_001))[0]
    c = build_bytes(report(3, key="batch-2"))[0]
    ids = [validate_delivery(as_file(x), today=TODAY).reports[0].report_id for x in (a, b, c)]
    assert len(set(ids)) == 3


def test_split_into_complete_deliveries_by_message_size() -> None:
    max_bytes = 20_000
    b = builder(max_message_bytes=max_bytes)
    deliveries = []
    sent = []
    for d in b.deliveries([report(1_000)]):
        data = d.to_bytes()
        deliveries.append(data)
        sent.extend(d.reports)
        assert len(data) <= max_bytes
        assert d.record_count == data.count(b"\n")
    assert len(deliveries) > 1
    recipients = 0
    for data in deliveries:
        check = validate_delivery(as_file(data), today=TODAY)
        assert check.findings == []
        recipients += sum(g.recipients for g in check.reports)
    assert recipients == 1_000
    assert sum(s.recipients for s in sent) == 1_000
    assert sum(s.amount_sum for s in sent) == 1_000 * 100_000
    assert len({s.report_id for s in sent}) == len(sent)
    assert [
        d.main_report_id for d in builder(max_message_bytes=max_bytes).deliveries([report(1_000)])
    ] == [d.main_report_id for d in b.deliveries([report(1_000)])]


def test_all_record_kinds_abroad_orders_nil_and_reversals() -> None:
    abroad = Abroad(
        birth_date=dt.date(1970, 5, 17),
        sex="2",
        country="SE",
        name="Andersson, Karin",
        town="Malmö",
        tin="19700517-1234",
        tin_country="SE",
    )
    rich = Recipient(
        cpr=cpr(1),
        income_kind="0068",
        amounts={"0015": 12_345, "0013": 50_000, "0016": -400},
        codes={"0045": "A"},
        ticks=["0999"],
        texts={"0998": "tekst med æøå"},
        counts={"0200": -750},
    )
    foreign = Recipient(amounts={"0014": 10_000}, abroad=abroad)
    rep = IncomeReport(SE, *PERIOD, DISPOSITION, "00", [rich, foreign], correction=True)
    data = build_bytes(
        rep,
        orders=[TaxCardOrder(SE, cpr(2), dt.date(2026, 1, 1), "1", dt.date(2026, 12, 1))],
        nil_reports=[NilReport(SE, dt.date(2026, 10, 15))],
        reversals=[ReversalRequest(SE, "ABCDEF0123456789", cpr=cpr(3))],
    )[0]
    records = [e.record for e in decode_records(as_file(data))]
    kinds = [type(r).__name__ for r in records]
    assert kinds == [
        "Start",
        "Company",
        "TaxCardOrderRecord",
        "CompanyLine",
        "Reversal",
        "ReportHeader",
        "RecipientRecord",
        "AmountField",
        "AmountField",
        "AmountField",
        "CodeField",
        "TickField",
        "TextField",
        "CountField",
        "RecipientRecord",
        "AmountField",
        "PersonData",
        "End",
    ]
    assert isinstance(records[2], TaxCardOrderRecord) and records[2].order_type == "1"
    assert isinstance(records[3], CompanyLine)
    assert records[3].period_start == dt.date(2026, 10, 1)
    assert records[3].period_end == dt.date(2026, 10, 31)
    assert isinstance(records[4], Reversal) and records[4].se_level == "N"  # for one CPR
    assert isinstance(records[5], ReportHeader) and records[5].correction == "R"
    assert records[9] == AmountField("0016", 400, "-")
    assert records[10] == CodeField("0045", "A")
    assert records[11] == TickField("0999")
    assert records[12] == TextField("0998", "tekst med æøå")
    assert records[13] == CountField("0200", 7, 50, "-")
    assert isinstance(records[16], PersonData) and records[16].town == "Malmö"
    assert validate_delivery(as_file(data), today=TODAY).findings == [
        f
        for f in validate_delivery(as_file(data), today=TODAY).findings
        if f.code == "eik.field.unknown"
    ]


def test_wrong_record_type_for_a_field_number_is_refused() -> None:
    rep = IncomeReport(SE, *PERIOD, DISPOSITION, "00", [Recipient(cpr=cpr(1), codes={"0013": "A"})])
    with pytest.raises(ReportError, match="0013"):
        build_bytes(rep)


def test_builder_errors_never_show_a_cpr() -> None:
    rep = IncomeReport(SE, *PERIOD, DISPOSITION, "00", [Recipient(cpr="0101801234", cvr_se=SE)])
    with pytest.raises(ReportError) as err:
        build_bytes(rep)
    assert "0101801234" not in str(err.value)
    rep = IncomeReport(SE, *PERIOD, DISPOSITION, "00", [Recipient(cpr="01018012345")])
    with pytest.raises(ReportError) as err:
        build_bytes(rep)
    assert "0101801234" not in str(err.value)


def test_a_recipient_is_never_split_even_at_the_limit() -> None:
    many = Recipient(cpr=cpr(1), amounts={f"{n:04d}": 1 for n in range(500, 503)})
    reps = [many] * 7  # 4 records each
    rep = IncomeReport(SE, *PERIOD, DISPOSITION, "00", reps)
    data = build_bytes(rep, max_group_records=10)[0]
    check = validate_delivery(as_file(data), max_group_records=10, today=TODAY)
    assert [g.group_records for g in check.reports] == [8, 8, 8, 4]


def test_cancel_a_tax_card_subscription_with_or_without_other_content() -> None:
    data = build_bytes(report(1), cancel_subscriptions=[SE, OTHER_SE])[0]
    companies = [e.record for e in decode_records(as_file(data)) if e.record_type == "2001"]
    assert [(c.company_se, c.cancel_subscription) for c in companies] == [  # type: ignore[union-attr]
        (SE, "A"),
        (OTHER_SE, "A"),
    ]
    assert validate_delivery(as_file(data), today=TODAY).findings == []
