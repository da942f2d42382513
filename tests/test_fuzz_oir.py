"""Fuzzing ØiR's readers: the ERP's FinansbilagStatus answer, SF7002 sortiment deliveries and
SF1590 voucher batch files.

Each raises only :class:`OirFormatError` (a document: :class:`OirDocumentError` with every
finding); no message shows a CPR number in clear.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import given

from tests.fuzzkit import BILLION_LAUGHS, FUZZ, refuses_only, xml_mutations
from tests.oir_data import full_sortiment
from tests.test_oir_codec import HEADER, _voucher
from toekgw.formats.oir import (
    BATCH_TAIL,
    OirDocumentError,
    OirFormatError,
    VoucherAnswer,
    VoucherError,
    VoucherStatus,
    batch_head,
    build_sortiment,
    build_status,
    read_batch,
    read_batch_header,
    read_sortiment,
    read_status,
    validate_batch,
    voucher_xml,
)

STATUS = build_status(
    HEADER.batch_id,
    (
        VoucherAnswer("00000000-0000-4000-8000-000000000001", VoucherStatus.ACCEPTED),
        VoucherAnswer(
            "00000000-0000-4000-8000-000000000002",
            VoucherStatus.REJECTED,
            (VoucherError("KONTO", "ukendt konto 0101701234", "P2"),),
        ),
    ),
)
SORTIMENT = build_sortiment(full_sortiment(4))
BATCH = batch_head(HEADER) + voucher_xml(_voucher(1)) + voucher_xml(_voucher(2)) + BATCH_TAIL


@FUZZ
@given(xml_mutations(STATUS))
def test_a_damaged_status_is_refused_with_findings(data: bytes) -> None:
    refuses_only(lambda: read_status(data, name="IN/status.xml"), OirFormatError)


@FUZZ
@given(xml_mutations(SORTIMENT))
def test_a_damaged_sortiment_is_refused_with_findings(data: bytes) -> None:
    refuses_only(lambda: read_sortiment(data, name="IN/sortiment.xml"), OirFormatError)


@FUZZ
@given(xml_mutations(BATCH))
def test_a_damaged_batch_is_refused_with_findings(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.xml"
        path.write_bytes(data)
        refuses_only(lambda: list(read_batch(path)), OirFormatError)


def test_a_batch_file_cut_short_is_not_valid(tmp_path: Path) -> None:
    # lxml's schema-validating iterparse, entities unresolved, passed a file cut short (and
    # "x", not XML at all); read_batch then leaked lxml's XMLSyntaxError.
    path = tmp_path / "batch.xml"
    for data in (BATCH[: len(BATCH) // 2], BATCH[:-5], b"<", b"x"):
        path.write_bytes(data)
        (finding,) = validate_batch(path)
        assert finding.code == "oir.xsd.batch" and finding.file == "batch.xml"
        with pytest.raises(OirDocumentError):
            list(read_batch(path))
        if len(data) < 100:
            with pytest.raises(OirDocumentError):
                read_batch_header(path)  # was KeyError


def test_a_batch_file_with_a_doctype_is_not_valid(tmp_path: Path) -> None:
    path = tmp_path / "batch.xml"
    body = BATCH[BATCH.index(b"<Fin") :]
    path.write_bytes(b"<!DOCTYPE FinansbilagBatch>\n" + body)
    (finding,) = validate_batch(path)
    assert finding.code == "oir.xml.doctype"
    # An entity bomb is refused by the well-formedness pass (the schema's pass, resolving
    # entities, would crash the process: lxml 6.0, libxml2 2.14).
    path.write_bytes(BILLION_LAUGHS + body.replace(b"TOEK-1", b"&e;"))
    (finding,) = validate_batch(path)
    assert "amplification" in finding.message


@pytest.mark.parametrize(
    ("written", "read"),
    [(b"2026-12-04Z", dt.date(2026, 12, 4)), (b"2026-12-04+01:00", dt.date(2026, 12, 4))],
)
def test_a_sortiment_date_with_a_zone_is_the_day_written(written: bytes, read: dt.date) -> None:
    # Was ValueError ("Invalid isoformat string") for a date the schema accepts.
    data = SORTIMENT.replace(b"<GyldigFra>2026-01-01</GyldigFra><Version>",
                             b"<GyldigFra>" + written + b"</GyldigFra><Version>")  # fmt: skip
    assert read_sortiment(data).valid_from == read


def test_a_year_a_date_cannot_hold_is_a_finding_naming_the_element() -> None:
    data = SORTIMENT.replace(b"<GyldigFra>2026-01-01</GyldigFra></Klasse>",
                             b"<GyldigFra>12026-01-01</GyldigFra></Klasse>", 1)  # fmt: skip
    with pytest.raises(OirDocumentError) as info:
        read_sortiment(data, name="IN/sortiment.xml")
    (finding,) = info.value.findings
    assert finding.code == "oir.date" and finding.path == "/Sortiment/Klasse[1]/GyldigFra"
    assert finding.expected == "a date YYYY-MM-DD in the years 0001-9999"
    assert str(info.value).startswith(
        "IN/sortiment.xml: line 3, /Sortiment/Klasse[1]/GyldigFra: not a date"
    )
