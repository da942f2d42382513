"""Property: whatever the recipients and limits, the deliveries carry exactly the input, in
order, within the limits, and validate clean."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.eik_helpers import DISPOSITION, PERIOD, SE, as_file, builder, cpr
from toekgw.formats.eindkomst.codec import decode_records
from toekgw.formats.eindkomst.records import AmountField, CountField, RecipientRecord
from toekgw.formats.eindkomst.report import IncomeReport, Recipient
from toekgw.formats.eindkomst.rules import validate_delivery

TODAY = dt.date(2026, 11, 30)  # the date the rules take as today

recipient = st.builds(
    lambda i, amounts, counts: Recipient(cpr=cpr(i), amounts=amounts, counts=counts),
    st.integers(0, 10_000),
    st.dictionaries(
        st.sampled_from(["0013", "0014", "0015", "0016", "0046"]),
        st.integers(-(10**12) + 1, 10**12 - 1),  # up to 9,999,999,999.99 kr either way
        max_size=4,
    ),
    st.dictionaries(st.just("0200"), st.integers(-(10**7), 10**7), max_size=1),
)


@settings(max_examples=40, deadline=None)
@given(
    people=st.lists(recipient, min_size=1, max_size=40, unique_by=lambda r: r.cpr),
    max_group=st.integers(6, 30),  # a recipient here has at most 6 records
    max_bytes=st.integers(700, 3_000),
)
def test_deliveries_carry_exactly_the_input_within_the_limits(
    people: list[Recipient], max_group: int, max_bytes: int
) -> None:
    rep = IncomeReport(SE, *PERIOD, DISPOSITION, "00", people)
    got: list[tuple[str | None, dict[str, int], dict[str, int]]] = []
    sent_sum = 0
    for d in builder(max_group_records=max_group, max_message_bytes=max_bytes).deliveries([rep]):
        data = d.to_bytes()
        assert len(data) <= max_bytes
        check = validate_delivery(as_file(data), max_group_records=max_group, today=TODAY)
        assert check.findings == []
        assert all(g.group_records <= max_group for g in check.reports)
        sent_sum += sum(s.amount_sum for s in d.reports)
        for e in decode_records(as_file(data)):
            rec = e.record
            if isinstance(rec, RecipientRecord):
                got.append((rec.cpr, {}, {}))
            elif isinstance(rec, AmountField):
                got[-1][1][rec.field_number] = rec.signed
            elif isinstance(rec, CountField):
                got[-1][2][rec.field_number] = rec.hundredths
    assert got == [(p.cpr, dict(p.amounts), dict(p.counts)) for p in people]
    assert sent_sum == sum(sum(p.amounts.values()) for p in people)
