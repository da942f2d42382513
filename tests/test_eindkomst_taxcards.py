"""Tax cards: the schema, the safe parser, and which card and rate apply."""

from __future__ import annotations

import datetime as dt

from tests.eik_helpers import SE, as_file, build_bytes, cpr
from toekgw.formats.eindkomst.codec import decode_records
from toekgw.formats.eindkomst.records import TaxCardOrderRecord
from toekgw.formats.eindkomst.report import TaxCardOrder
from toekgw.formats.eindkomst.taxcards import (
    NO_CARD_RATE,
    CardType,
    MemoryCardStore,
    TaxCard,
    parse_tax_cards,
    withholding,
)

NS = "urn:toek-gateway:eindkomst:skattekort:1"


def card_xml(*cards: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><SkattekortListe xmlns="{NS}">'
        + "".join(cards)
        + "</SkattekortListe>"
    ).encode()


def card(who: str, kort_type: int, valid_from: str, extra: str = "") -> str:
    return (
        f"<Skattekort><CPR>{who}</CPR><KORT_TYPE>{kort_type}</KORT_TYPE>{extra}"
        f"<GYLDIG_FRA>{valid_from}</GYLDIG_FRA></Skattekort>"
    )


P = cpr(5)


def test_parse_cards_with_amounts_in_oere() -> None:
    data = card_xml(
        card(
            P,
            2,
            "2026-01-01",
            "<TRAEKPROCENT>38</TRAEKPROCENT><FRADRAG_MAANED>4500.50</FRADRAG_MAANED>"
            "<FRADRAG_14DAGE>2077.00</FRADRAG_14DAGE><FRADRAG_UGE>1038.5</FRADRAG_UGE>"
            "<FRADRAG_DAG>207.70</FRADRAG_DAG>",
        ),
        card(P, 3, "2026-07-01", "<FRIKORT_BELOEB>52000.00</FRIKORT_BELOEB>"),
    )
    parsed = parse_tax_cards(data)
    assert parsed.findings == []
    main, free = parsed.cards
    assert main == TaxCard(
        cpr=P,
        kort_type=CardType.MAIN,
        valid_from=dt.date(2026, 1, 1),
        withholding_pct=38,
        deduction_month=450_050,
        deduction_fortnight=207_700,
        deduction_week=103_850,
        deduction_day=20_770,
    )
    assert free.free_amount == 5_200_000


def test_schema_errors_doctype_and_missing_rate_are_findings_without_cpr() -> None:
    bad = parse_tax_cards(card_xml(card(P, 9, "2026-01-01")))
    assert [f.code.rsplit(".", 1)[0] for f in bad.findings] == ["eik.taxcard.xsd"]
    assert bad.findings[0].line == 1 and bad.findings[0].path
    assert P not in repr(bad.findings)
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + card_xml(card(P, 2, "2026-01-01")).split(b"?>", 1)[1]
    )
    assert [f.code for f in parse_tax_cards(evil).findings] == ["eik.taxcard.xml.doctype"]
    assert [f.code for f in parse_tax_cards(b"<oops").findings] == ["eik.taxcard.xml.syntax"]
    no_rate = parse_tax_cards(card_xml(card(P, 4, "2026-01-01")))
    assert [f.code for f in no_rate.findings] == ["eik.taxcard.rate_missing"]
    assert no_rate.cards == [] and P not in repr(no_rate.findings)


def test_which_card_applies_and_the_rate() -> None:
    cards = parse_tax_cards(
        card_xml(
            card(P, 2, "2026-01-01", "<TRAEKPROCENT>38</TRAEKPROCENT>"),
            card(P, 4, "2026-06-01", "<TRAEKPROCENT>40</TRAEKPROCENT>"),
            card(P, 2, "2026-06-01", "<TRAEKPROCENT>37</TRAEKPROCENT>"),
            card(P, 0, "2026-09-01"),
        )
    ).cards
    store = MemoryCardStore(cards)
    assert withholding(store, P, dt.date(2025, 12, 31)).rate_pct == NO_CARD_RATE == 55
    assert withholding(store, P, dt.date(2025, 12, 31)).card is None
    jan = withholding(store, P, dt.date(2026, 3, 1))
    assert (jan.rate_pct, jan.card and jan.card.kort_type) == (38, CardType.MAIN)
    assert withholding(store, P, dt.date(2026, 6, 1)).rate_pct == 37  # received last wins a tie
    assert withholding(store, P, dt.date(2026, 9, 1)).rate_pct == 55  # KORT_TYPE 0
    assert withholding(store, cpr(6), dt.date(2026, 9, 1)).rate_pct == 55
    store.add([TaxCard(cpr(6), CardType.FREE, dt.date(2026, 1, 1), free_amount=100)])
    assert withholding(store, cpr(6), dt.date(2026, 9, 1)).rate_pct == 0


def test_tax_card_orders_are_2101_records() -> None:
    orders = [
        TaxCardOrder(SE, cpr(i), dt.date(2026, 1, 1), t, dt.date(2026, 2, 1), reorder=t == "7")
        for i, t in enumerate(["1", "2", "6", "7"])
    ]
    data = build_bytes(orders=orders)[0]
    records = [e.record for e in decode_records(as_file(data))]
    got = [r for r in records if isinstance(r, TaxCardOrderRecord)]
    assert [(r.cpr, r.order_type, r.reorder) for r in got] == [
        (cpr(0), "1", None),
        (cpr(1), "2", None),
        (cpr(2), "6", None),
        (cpr(3), "7", "R"),  # re-order: R at 144 (public-impl)
    ]


def test_build_tax_cards_round_trips() -> None:
    import datetime as _dt

    from toekgw.formats.eindkomst.taxcards import (
        CardType,
        TaxCard,
        build_tax_cards,
        parse_tax_cards,
    )

    cards = [
        TaxCard("0101501234", CardType.MAIN, _dt.date(2026, 1, 1), 38, deduction_month=450_050),
        TaxCard(
            "0202601234", CardType.FREE, _dt.date(2026, 2, 1), free_amount=5_000_000, se="12345674"
        ),
        TaxCard("0303701234", CardType.NO_CARD, _dt.date(2026, 3, 1)),
    ]
    parsed = parse_tax_cards(build_tax_cards(cards))
    assert parsed.ok, parsed.findings
    assert parsed.cards == cards
