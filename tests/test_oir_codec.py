"""ØiR codecs: vouchers, the ERP's status and sortiments, each read back by our own reader
the way the counterpart would (schema first), and refused whole when they cannot be used."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from tests.oir_data import SORTIMENT, full_sortiment
from toekgw.formats.oir import (
    BATCH_TAIL,
    Account,
    BatchHeader,
    Delivery,
    OirDocumentError,
    OirFormatError,
    Party,
    Posting,
    RemovedKlasse,
    Side,
    UnbalancedVoucher,
    Voucher,
    VoucherAnswer,
    VoucherError,
    VoucherStatus,
    batch_head,
    build_sortiment,
    build_status,
    format_amount,
    parse_amount,
    read_batch,
    read_batch_header,
    read_sortiment,
    read_status,
    validate_batch,
    voucher_xml,
)

DAY = dt.date(2026, 12, 4)
HEADER = BatchHeader(
    "9a4b1c7e-0d2f-4e6a-8b3c-5d7e9f1a2b3c",
    dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC),
    "5f2c1d7e-0a4b-4c39-9e21-3c0e5b7a8d42",
    "29189846",
)


def _posting(n: int, side: Side, amount: int, **more: object) -> Posting:
    return Posting(
        posting_id=f"P{n}",
        date=DAY,
        amount_ore=amount,
        side=side,
        account=Account.parse("5.57.72/1/5.2" if side is Side.DEBIT else "9.52.59/0/9.1"),
        **more,  # type: ignore[arg-type]
    )


def _voucher(n: int, amount: int = 12_345) -> Voucher:
    return Voucher(
        voucher_id=f"00000000-0000-4000-8000-{n:012d}",
        number=f"TOEK-{n}",
        date=DAY,
        text="Udbetaling & <tekst>",
        postings=[
            _posting(
                1,
                Side.DEBIT,
                amount,
                bundle_id="B1",
                payment_id="P1",
                business_key="k:1",
                party=Party("CPR", "0101011234"),
                text="Kontanthjælp",
            ),
            _posting(2, Side.CREDIT, amount, class_id="0b5b6c1e-2f51-4c5e-8f38-6a3a3b0c9d11"),
        ],
    )


def _write(path: Path, vouchers: list[Voucher]) -> Path:
    with path.open("wb") as out:
        out.write(batch_head(HEADER))
        for v in vouchers:
            out.write(voucher_xml(v))
        out.write(BATCH_TAIL)
    return path


def test_a_batch_round_trips_through_the_schema(tmp_path: Path) -> None:
    vouchers = [_voucher(n, 100 * n + 1) for n in range(1, 4)]
    path = _write(tmp_path / "batch.xml", vouchers)
    assert validate_batch(path) == []
    assert read_batch_header(path) == HEADER
    assert list(read_batch(path)) == vouchers


def test_an_unbalanced_voucher_is_never_written() -> None:
    voucher = _voucher(1)
    voucher.postings[1].amount_ore -= 1
    with pytest.raises(UnbalancedVoucher, match="debit 12345 øre, credit 12344 øre"):
        voucher_xml(voucher)
    with pytest.raises(UnbalancedVoucher):
        voucher_xml(Voucher("00000000-0000-4000-8000-000000000009", "X", DAY, []))


def test_the_schema_refuses_what_the_erp_could_not_book(tmp_path: Path) -> None:
    path = _write(tmp_path / "batch.xml", [_voucher(1)])
    bad = path.read_bytes().replace(
        b"<DebetKredit>K</DebetKredit>", b"<DebetKredit>X</DebetKredit>"
    )
    path.write_bytes(bad)
    (finding,) = validate_batch(path)
    assert finding.code == "oir.xsd.batch" and "DebetKredit" in finding.message
    with pytest.raises(OirDocumentError, match="DebetKredit"):
        list(read_batch(path))


def test_amounts_are_kroner_with_two_decimals_in_integers() -> None:
    assert format_amount(1) == "0.01" and format_amount(123_456) == "1234.56"
    assert parse_amount("1234.5") == 123_450 and parse_amount("7") == 700
    with pytest.raises(OirFormatError):
        format_amount(0)
    with pytest.raises(OirFormatError):
        parse_amount("1.234")


def test_status_round_trips_and_a_bad_one_is_refused_with_findings() -> None:
    answers = (
        VoucherAnswer("00000000-0000-4000-8000-000000000001", VoucherStatus.ACCEPTED),
        VoucherAnswer(
            "00000000-0000-4000-8000-000000000002",
            VoucherStatus.REJECTED,
            (VoucherError("KONTO", "ukendt konto <x>", "P2"),),
        ),
    )
    data = build_status(HEADER.batch_id, answers)
    parsed = read_status(data)
    assert parsed.batch_id == HEADER.batch_id and parsed.answers == answers
    with pytest.raises(OirDocumentError) as caught:
        read_status(data.replace(b"ACCEPTED", b"MAYBE"), name="IN/status.xml")
    assert str(caught.value).startswith("IN/status.xml: line")
    finding = caught.value.findings[0]
    assert finding.field == "Status" and finding.path == "/FinansbilagStatus/Bilag[1]/Status"


def test_a_sortiment_round_trips_and_an_unknown_code_form_is_refused() -> None:
    delivery = full_sortiment(4)
    data = build_sortiment(delivery)
    assert read_sortiment(data) == delivery
    with pytest.raises(OirDocumentError) as caught:
        read_sortiment(data.replace(b"<Kode>5.57.72/1/5.2", b"<Kode>55772"))
    assert caught.value.findings[0].field == "Kode"
    assert SORTIMENT in data.decode()


def test_a_doctype_is_refused() -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><Sortiment/>'
    with pytest.raises(OirDocumentError, match="DOCTYPE"):
        read_sortiment(data)


def test_a_voucher_id_twice_in_one_batch_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "batch.xml", [_voucher(1), _voucher(1, 500)])
    (finding,) = validate_batch(path)
    assert "UniqueBilagId" in finding.message


def test_a_removed_class_round_trips_and_a_class_both_listed_and_removed_is_refused() -> None:
    delivery = full_sortiment(5)
    gone = delivery.classes[0]
    delta = dataclasses.replace(
        delivery,
        delivery=Delivery.DELTA,
        classes=delivery.classes[1:2],
        removed=(RemovedKlasse(gone.class_id, gone.code),),
    )
    assert read_sortiment(build_sortiment(delta)) == delta
    both = dataclasses.replace(delta, classes=(gone,))
    with pytest.raises(OirDocumentError, match="UniqueKlasseId"):
        read_sortiment(build_sortiment(both))
    twice = dataclasses.replace(delivery, classes=(gone, gone))
    with pytest.raises(OirDocumentError, match="UniqueKlasseId"):
        read_sortiment(build_sortiment(twice))
