"""NKSBetaling and the answers (NKSReceipt0/1, NKSResponse2/5/7/8/9): round trips
(hypothesis), schema findings, safe parsing, masking."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.nemkonto_data import bundle, cpr, payment
from toekgw.formats.nemkonto import (
    Account,
    Address,
    AnswerType,
    BundleAnswer,
    NemKontoFormatError,
    OriginalTransaction,
    PaymentBundle,
    PaymentOrder,
    PaymentState,
    PaymentStatus,
    RecipientId,
    RecipientKind,
    build_answer,
    build_bundle,
    bundle_overhead,
    format_amount,
    parse_amount,
    parse_answer,
    parse_bundle,
    payment_findings,
    payment_fragment,
    read_answer,
    read_bundle,
    validate_bundle,
)
from toekgw.formats.nemkonto.answer import DOCUMENTS, STATUS
from toekgw.formats.nemkonto.bundle import _decode_payment, _fragment
from toekgw.formats.nemkonto.swift import SWIFT, escape

TODAY = dt.date(2026, 11, 30)  # the date the rules take as today

TEXT = st.text(alphabet="abcæøåÆØÅ XYZ019&<>'\"-./é\r", min_size=1)
DIGITS = "0123456789"


def _text(max_size: int) -> st.SearchStrategy[str]:
    return TEXT.filter(lambda s: len(s) <= max_size)


def _digits(n: int, m: int | None = None) -> st.SearchStrategy[str]:
    return st.text(alphabet=DIGITS, min_size=n, max_size=m or n)


recipients = st.one_of(
    st.builds(RecipientId, st.just(RecipientKind.CPR), _digits(10)),
    st.builds(RecipientId, st.just(RecipientKind.CVR), _digits(8)),
    st.builds(RecipientId, st.just(RecipientKind.SE), _digits(8)),
    st.builds(RecipientId, st.just(RecipientKind.PNUMBER), _digits(10)),
)
accounts = st.builds(Account, _digits(4), _digits(1, 10))


def _addresses(text: Callable[[int], st.SearchStrategy[str]]) -> st.SearchStrategy[Address]:
    return st.builds(
        Address,
        st.lists(text(70), min_size=1, max_size=3).map(tuple),
        text(16),
        text(35),
        st.one_of(st.none(), st.sampled_from(["DK", "SE", "DE"])),
    )


aware = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2099, 1, 1),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=1))]),
)


@st.composite
def payment_orders(
    draw: st.DrawFn, index: int, text: Callable[[int], st.SearchStrategy[str]] = _text
) -> PaymentOrder:
    return PaymentOrder(
        payment_id=f"{draw(text(20))}#{index}",
        amount_ore=draw(st.integers(1, 10**16)),
        recipient=draw(recipients),
        account=draw(st.one_of(st.none(), accounts)),
        name=draw(st.one_of(st.none(), text(70))),
        address=draw(st.one_of(st.none(), _addresses(text))),
        notification=tuple(draw(st.lists(text(35), max_size=4))),
        benefit_kind=draw(st.one_of(st.none(), text(35))),
    )


def _plain_text(max_size: int) -> st.SearchStrategy[str]:
    """Text with no character XML makes us escape (as nearly every payment's)."""
    return st.text(alphabet="abcæøåÆØÅ XYZ019'-./é", min_size=1, max_size=max_size)


@st.composite
def bundles(draw: st.DrawFn) -> PaymentBundle:
    n = draw(st.integers(1, 5))
    return PaymentBundle(
        bundle_id=draw(st.text(alphabet="abcXYZ019-", min_size=1, max_size=36)),
        created_at=draw(aware),
        authority_cvr=draw(_digits(8)),
        agreement_number=draw(_digits(1, 15)),
        payment_information_id=draw(_text(35)),
        disposition_date=draw(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))),
        debtor_account=draw(accounts),
        payments=tuple(draw(payment_orders(i)) for i in range(n)),
    )


@settings(max_examples=60, deadline=None)
@given(st.one_of(payment_orders(0), payment_orders(0, _plain_text)))
def test_a_payment_is_written_as_with_every_text_escaped_and_reads_back(p: PaymentOrder) -> None:
    fragment = payment_fragment.__wrapped__(p)
    assert fragment == _fragment(p, escape)  # no text left as it is that escaping changes
    tx = etree.fromstring(f'<x xmlns:swift="{SWIFT}">{fragment}</x>')[0]
    assert _decode_payment(tx) == p


@given(bundles())
def test_bundle_round_trip(b: PaymentBundle) -> None:
    data = build_bundle(b)
    assert parse_bundle(data) == b
    size = len(data)
    fragments = sum(len(payment_fragment(p).encode()) for p in b.payments)
    assert size <= bundle_overhead() + fragments


originals = st.builds(
    OriginalTransaction,
    st.integers(1, 10**12),
    st.booleans(),
    st.one_of(st.none(), recipients),
    st.one_of(st.none(), accounts),
)


def statuses(kind: AnswerType) -> st.SearchStrategy[PaymentStatus]:
    """A payment status this kind of answer can carry (the codec's status table)."""
    states = [state for (k, state) in STATUS if k is kind]

    @st.composite
    def one(draw: st.DrawFn) -> PaymentStatus:
        state = draw(st.sampled_from(states))
        marked = STATUS[(kind, state)][1] is not None
        payment_id = draw(_text(35))
        instruction_id = draw(st.one_of(st.none(), _text(35)))
        return PaymentStatus(
            payment_id,
            state,
            None if marked else draw(st.one_of(st.none(), _text(35))),
            draw(st.one_of(st.none(), _text(250))),
            draw(st.one_of(st.none(), originals)),
            None if instruction_id == payment_id else instruction_id,
        )

    return one()


@st.composite
def answers(draw: st.DrawFn) -> BundleAnswer:
    kind = draw(st.sampled_from(list(AnswerType)))
    rejected = kind.bundle_level and draw(st.booleans())
    listed = kind.about_payments and not (rejected and draw(st.booleans()))
    return BundleAnswer(
        answer_type=kind,
        bundle_id=draw(
            st.text(alphabet="abc019-", min_size=1, max_size=36)
            if kind is not AnswerType.UNREADABLE
            else st.one_of(st.none(), st.text(alphabet="abc019-", min_size=1, max_size=36))
        ),
        processed_at=draw(aware),
        error_code=draw(st.one_of(st.none(), _text(35))),
        error_text=draw(st.one_of(st.none(), _text(250))),
        payments=tuple(draw(st.lists(statuses(kind), min_size=1, max_size=4))) if listed else (),
        bundle_rejected=rejected,
        message_id=draw(st.one_of(st.none(), _text(70))),
        ref_to_message_id=draw(st.one_of(st.none(), _text(70))) if DOCUMENTS[kind].header else None,
    )


@settings(max_examples=60, deadline=None)
@given(answers())
def test_answer_round_trip(a: BundleAnswer) -> None:
    assert parse_answer(build_answer(a)) == a


def _without_originals(a: BundleAnswer | None) -> BundleAnswer | None:
    if a is None:
        return None
    return dataclasses.replace(
        a, payments=tuple(dataclasses.replace(p, original=None) for p in a.payments)
    )


@settings(max_examples=60, deadline=None)
@given(answers(), st.sampled_from([b"", b"<!--c-->", b"<?pi x?>"]))
def test_answer_read_without_originals_as_the_exact_path_reads_it(
    a: BundleAnswer, splitter: bytes
) -> None:
    """``originals=False`` reads the payments a column at a time: the same payments as the
    exact path, also where a comment or processing instruction splits a value."""
    data = build_answer(a)
    if splitter:
        # after the id's first character (an escaped one whole: ``&lt;``)
        first = r"(<swift:EndToEndId>(?:&#?\w+;|[^&<]))"
        text = re.sub(first, r"\1" + splitter.decode(), data.decode("utf-8"), count=1)
        data = text.encode("utf-8")
    exact, findings = read_answer(data)
    fast, fast_findings = read_answer(data, originals=False)
    assert fast == _without_originals(exact) == _without_originals(a)
    assert fast_findings == findings == []


@pytest.mark.parametrize(
    ("where", "mark"),
    [
        (rb"(<swift:OrgnlTxRefInfAndSts>)", b"<!--in a payment-->"),
        (rb"(</swift:OrgnlTxRefInfAndSts>)", b"<?between payments?>"),
        (rb"(<swift:TxSts>)", b"<!--before a value-->"),
        (rb"(<swift:EndToEndId>p-)", b"<?in a value?>"),  # splits its text
    ],
)
def test_a_comment_or_instruction_anywhere_reads_as_the_exact_path_reads_it(
    where: bytes, mark: bytes
) -> None:
    """The reader drops comments and processing instructions while parsing: wherever they
    lie, each value is read whole, by the column path and the exact path alike."""
    a = BundleAnswer(
        answer_type=AnswerType.RECEIVE_CONTROL,
        bundle_id="b-1",
        processed_at=dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC),
        payments=tuple(
            PaymentStatus(
                f"p-{n}",
                PaymentState.REJECTED if n == 3 else PaymentState.ACCEPTED,
                error_code="NO_ACCOUNT" if n == 3 else None,
                error_text="no account" if n == 3 else None,
                instruction_id=f"i-{n}" if n == 4 else None,
            )
            for n in range(6)
        ),
    )
    data = build_answer(a)
    for count in (1, 2):  # the first payment's, and the second's too
        marked = re.sub(where, rb"\1" + mark, data, count=count)
        assert marked != data
        fast, findings = read_answer(marked, originals=False)
        assert findings == []
        assert fast == _without_originals(read_answer(marked)[0]) == _without_originals(a)


def test_answer_without_originals_is_refused_as_the_exact_path_refuses_it() -> None:
    a = BundleAnswer(
        answer_type=AnswerType.RECEIVED_BY_BANK,
        bundle_id="b-1",
        processed_at=dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC),
        payments=(
            PaymentStatus("p-1", PaymentState.RECEIVED_BY_BANK),
            PaymentStatus("p-2", PaymentState.RECEIVED_BY_BANK, error_text="note"),
        ),
    )
    # both RJCT, which a Retursvar 8 cannot say: refused with the same finding
    data = build_answer(a).replace(b">ACPT</swift:TxSts>", b">RJCT</swift:TxSts>")
    assert read_answer(data, originals=False) == read_answer(data)
    assert read_answer(data)[0] is None


@given(st.integers(-(10**12), 10**12))
def test_amount_round_trip(ore: int) -> None:
    assert parse_amount(format_amount(ore)) == ore


def test_amounts_are_exact() -> None:
    assert format_amount(5) == "0.05"
    assert format_amount(123456) == "1234.56"
    assert parse_amount("1.5") == 150
    with pytest.raises(ValueError, match="two decimals"):
        parse_amount("1.005")
    with pytest.raises(ValueError, match="not an amount"):
        parse_amount("x")


def test_complete_and_incomplete_payments() -> None:
    incomplete = payment(1)
    complete = PaymentOrder(
        "C1",
        500,
        RecipientId(RecipientKind.CVR, "29189846"),
        account=Account("9999", "12345"),
        address=Address(("Vej 1",), "8000", "Aarhus C"),
    )
    b = parse_bundle(build_bundle(bundle([incomplete, complete])))
    assert [p.complete for p in b.payments] == [False, True]
    assert b.number_of_payments == 2
    assert b.control_sum_ore == incomplete.amount_ore + 500


def test_header_count_and_sum_are_checked() -> None:
    data = build_bundle(bundle([payment(1), payment(2)]))
    bad = data.replace(b"<swift:NbOfTxs>2<", b"<swift:NbOfTxs>3<").replace(
        b"<swift:CtrlSum>200.03<", b"<swift:CtrlSum>200.04<"
    )
    assert bad != data
    b, findings = read_bundle(bad)
    assert b is None
    by_code = {f.code: f for f in findings}
    count = by_code["nemkonto.bundle.header.count"]
    assert (count.expected, count.found, count.line) == ("2", "3", 3)
    assert count.path == "/NKSBetaling/GrpHdr/NbOfTxs"
    total = by_code["nemkonto.bundle.header.control_sum"]
    assert (total.expected, total.found) == ("200.03", "200.04")
    assert validate_bundle(bad) == findings  # the same checks without decoding


def test_duplicate_payment_ids_in_a_bundle() -> None:
    data = build_bundle(bundle([payment(1), payment(2)]), validate=False)
    data = data.replace(b"P0000000002", b"P0000000001")
    findings = validate_bundle(data)
    assert [f.code for f in findings] == ["nemkonto.bundle.payment.duplicate_id"]
    assert findings[0].found == "P0000000001"
    assert read_bundle(data) == (None, findings)
    twice = bundle([payment(1), payment(1)])
    with pytest.raises(NemKontoFormatError, match="occurs 2 times"):
        build_bundle(twice)


def test_schema_findings_name_line_xpath_and_expectation() -> None:
    data = build_bundle(bundle([payment(1), payment(2), payment(3)]))
    text = data.decode()
    text = text.replace(">100.02</swift:InstdAmt>", ">100.021</swift:InstdAmt>")
    text = text.replace(
        f"<swift:PrvtId><swift:SclSctyNb>{cpr(3)}</swift:SclSctyNb></swift:PrvtId>",
        "<swift:CPX>1</swift:CPX>",
    )
    findings = validate_bundle(text.encode())
    assert len(findings) == 2
    amount, recipient = findings
    assert amount.path == "/NKSBetaling/PmtInf/CdtTrfTxInf[2]/Amt/InstdAmt"
    assert amount.field == "InstdAmt"
    assert amount.line == 6
    assert amount.expected == "at most 2 decimals"
    assert recipient.path == "/NKSBetaling/PmtInf/CdtTrfTxInf[3]/Cdtr/CPX"
    assert recipient.expected == "PstlAdr or PrvtId or OrgId"
    assert recipient.code == "nemkonto.bundle.xsd.element_content"


def test_cpr_never_in_clear_in_findings_or_errors() -> None:
    secret = "0101011234"
    text = build_bundle(bundle([payment(1, cpr_number=secret)])).decode()
    for bad in (secret + "5", secret[:9], "0101011234x"):
        data = text.replace(f">{secret}</swift:SclSctyNb>", f">{bad}</swift:SclSctyNb>").encode()
        findings = validate_bundle(data)
        assert findings and findings[0].field == "SclSctyNb"
        rendered = " ".join(f"{f.message} {f.expected} {f.found}" for f in findings)
        assert secret not in rendered and "010101123" not in rendered
        # Only the value is masked: the facet and the pattern it failed read as libxml2 wrote
        # them (masking every quoted word gave "[facet 'patter-****']").
        assert "[facet 'pattern'] The value '010101" in rendered, rendered
        assert "is not accepted by the pattern '[0-9]{10}'" in rendered, rendered
        with pytest.raises(NemKontoFormatError) as info:
            parse_bundle(data)
        assert "010101123" not in str(info.value)
    assert secret not in repr(payment(1, cpr_number=secret))
    too_long_name = PaymentOrder(
        "X" * 40, 100, RecipientId(RecipientKind.CPR, secret), name="n " + secret
    )
    with pytest.raises(NemKontoFormatError) as info:
        build_bundle(bundle([too_long_name]))
    assert secret not in str(info.value)
    assert "PmtId/EndToEndId" in str(info.value)


def test_identifier_rules_per_payment() -> None:
    ok = payment(1)
    bad_cpr = payment(2, cpr_number="3113001234")
    bad_cvr = PaymentOrder("P3", 100, RecipientId(RecipientKind.CVR, "12345678"))
    findings = payment_findings([ok, bad_cpr, bad_cvr], TODAY)
    assert set(findings) == {"P0000000002", "P3"}
    assert findings["P0000000002"][0].path == (
        "/NKSBetaling/PmtInf/CdtTrfTxInf[2]/Cdtr/PrvtId/SclSctyNb"
    )
    assert "3113001234" not in findings["P0000000002"][0].message


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<NKSPayment/>',
        b'<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd"><NKSPayment/>',
        b"<?xml version='1.0'?><!DOCTYPE lol [<!ENTITY l1 '&l0;&l0;'><!ENTITY l0 'x'>]><a>&l1;</a>",
    ],
)
def test_doctype_and_entities_are_refused(data: bytes) -> None:
    b, findings = read_bundle(data)
    assert b is None
    assert [f.code for f in findings] == ["nemkonto.bundle.xml.doctype"]


def test_not_xml_at_all() -> None:
    b, findings = read_bundle(b"\x00\x01garbage")
    assert b is None and findings[0].code == "nemkonto.bundle.xml.syntax"
    a, afindings = read_answer(b"<NKSReceipt1")
    assert a is None and afindings[0].code == "nemkonto.answer.xml.syntax"


def test_answer_consistency() -> None:
    now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="names at least one payment"):
        BundleAnswer(AnswerType.RECEIVE_CONTROL, "B1", now)
    with pytest.raises(ValueError, match="only a type 0"):
        BundleAnswer(AnswerType.RECEIVED, None, now)
    with pytest.raises(ValueError, match="cannot reject a bundle"):
        BundleAnswer(AnswerType.RECEIVED_BY_BANK, "B1", now, bundle_rejected=True)
    data = build_answer(BundleAnswer(AnswerType.RECEIVED, "B1", now), validate=True)
    # A Retursvar 2 that neither lists payments nor rejects the bundle says nothing.
    inconsistent = data.replace(b"NKSReceipt1", b"NKSResponse2")
    a, findings = read_answer(inconsistent)
    assert a is None and findings[0].code == "nemkonto.answer.inconsistent"
    # A Retursvar 8 cannot reject a payment.
    bank = BundleAnswer(
        AnswerType.RECEIVED_BY_BANK,
        "B1",
        now,
        payments=(PaymentStatus("P1", PaymentState.RECEIVED_BY_BANK),),
    )
    a, findings = read_answer(build_answer(bank).replace(b">ACPT<", b">RJCT<"))
    assert a is None and "TxSts RJCT: expected ACPT" in findings[0].message
    with pytest.raises(NemKontoFormatError, match="cannot say REJECTED"):
        build_answer(
            BundleAnswer(
                AnswerType.RECEIVED_BY_BANK,
                "B1",
                now,
                payments=(PaymentStatus("P1", PaymentState.REJECTED),),
            )
        )
    # An unknown root is one finding that names the roots expected.
    a, findings = read_answer(data.replace(b"NKSReceipt1", b"NKSAnswer"))
    assert a is None and findings[0].code == "nemkonto.answer.root"
    assert "nks:NKSResponse9" in (findings[0].expected or "")


def test_values_the_codec_cannot_represent_are_findings() -> None:
    data = build_bundle(bundle([payment(1)]))
    with_zone = data.replace(b"<swift:ReqdExctnDt>2026-12-01<", b"<swift:ReqdExctnDt>2026-12-01Z<")
    b, findings = read_bundle(with_zone)
    assert b is None
    (f,) = findings
    assert f.code == "nemkonto.bundle.value.unreadable"
    assert f.path == "/NKSBetaling/PmtInf/ReqdExctnDt"
    assert (f.line, f.found) == (4, "2026-12-01Z")
    assert validate_bundle(with_zone) == findings
    midnight = data.replace(b"10:00:00+00:00<", b"24:00:00+00:00<")  # valid xs:dateTime
    assert midnight != data
    assert [f.field for f in validate_bundle(midnight)] == ["CreDtTm"]
    assert read_bundle(midnight)[1] == validate_bundle(midnight)


def test_text_that_cannot_be_xml_is_refused_by_the_builder() -> None:
    control_char = PaymentOrder("P1", 100, RecipientId(RecipientKind.CVR, "29189846"), name="a\x01")
    with pytest.raises(NemKontoFormatError, match="not well-formed"):
        build_bundle(bundle([control_char]))
    surrogate = PaymentOrder("P1", 100, RecipientId(RecipientKind.CVR, "29189846"), name="\ud800")
    with pytest.raises(NemKontoFormatError, match="UTF-8 cannot encode"):
        build_bundle(bundle([surrogate]))


def test_the_incomplete_payment_indicator_must_match_the_account() -> None:
    incomplete = payment(1)
    complete = dataclasses.replace(payment(2), account=Account("9999", "12345"))
    data = build_bundle(bundle([incomplete, complete]))
    assert data.count(b"<swift:IncompletePaymentIndicator>1<") == 1
    assert b"<swift:BBAN>99990000012345</swift:BBAN>" in data  # 4 + 10 digits
    lying = data.replace(
        b"<swift:IncompletePaymentIndicator>1<", b"<swift:IncompletePaymentIndicator>0<"
    )
    (f,) = validate_bundle(lying)
    assert (f.code, f.field) == ("nemkonto.bundle.value.unreadable", "IncompletePaymentIndicator")
    assert f.path == "/NKSBetaling/PmtInf/CdtTrfTxInf[1]/IncompletePaymentIndicator"
    assert read_bundle(lying) == (None, [f])


def test_an_indented_bundle_with_comments_reads_as_the_compact_one() -> None:
    # A counterpart's tool may indent and comment: the decoder reads each value where the
    # schema puts it, whatever text or comments lie between the elements.
    organisation = dataclasses.replace(
        payment(1),
        recipient=RecipientId(RecipientKind.CVR, "29189846"),
        account=Account("9999", "12345"),
        address=Address(("Vej 1", "2. th"), "8000", "Aarhus C", "DK"),
    )
    person = dataclasses.replace(payment(2), account=Account("1111", "22"), benefit_kind=None)
    b = bundle([organisation, person, payment(3)])
    root = etree.fromstring(build_bundle(b))
    for tx in root.iter("{*}CdtTrfTxInf"):
        tx.insert(0, etree.Comment(" payment "))
    etree.indent(root)
    assert parse_bundle(etree.tostring(root, xml_declaration=True, encoding="UTF-8")) == b
    # and inside a value: legal XML the schema reads whole, where .text is the first part
    for value in root.iter("{*}EndToEndId", "{*}InstdAmt", "{*}BBAN", "{*}Nm", "{*}CtrlSum"):
        value.text, cut = value.text[:2], value.text[2:]
        value.append(etree.ProcessingInstruction("cut"))
        value[-1].tail = cut
    assert parse_bundle(etree.tostring(root, xml_declaration=True, encoding="UTF-8")) == b
