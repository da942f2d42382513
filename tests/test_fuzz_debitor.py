"""Fuzzing the debtor system's SOAP callback (``DaekningAfskrivningRegistreringAfsend_I``):
:func:`read_request` raises only :class:`BadRequest` (``NoToken`` among them), whose text goes
back in the fault, with no CPR number in clear. (The signature is the receiver's to check:
:mod:`toekgw.formats.kombit.idws`.)"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzkit import FUZZ, PLANTED_CPR, fixed_mutations, refuses_only, xml_mutations
from tests.idws_tokens import sts_assertion
from tests.pki import identity
from toekgw.formats.debitor.daekning import (
    BadRequest,
    DaekningBesked,
    Registrering,
    build_request,
    read_request,
)
from toekgw.formats.debitor.saldo import HEADER, BadSaldo, Saldo, read_saldo, write_saldo

NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
CVR = "29189846"


def _request() -> bytes:
    holder = identity("debtor-system")
    assertion = sts_assertion("debtor-system", NOW, cvr=CVR)
    message = DaekningBesked(
        "0f6a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b",
        CVR,
        (
            Registrering("1f6a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b", "F-1", "DAEKNING", 12_345,
                         dt.date(2026, 12, 1)),
            Registrering("2f6a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b", "F-2", "AFSKRIVNING", 100,
                         dt.date(2026, 12, 2)),
        ),
    )  # fmt: skip
    return build_request(message, assertion, holder.key, holder.certificate, created=NOW)


REQUEST = _request()


@FUZZ
@given(xml_mutations(REQUEST))
def test_a_damaged_request_is_a_bad_request(data: bytes) -> None:
    refuses_only(lambda: read_request(data), BadRequest)


def test_a_schema_refusal_masks_a_cpr_number_it_quotes() -> None:
    data = REQUEST.replace(
        f"<d:MyndighedCVR>{CVR}<".encode(), f"<d:MyndighedCVR>{PLANTED_CPR}<".encode()
    )
    with pytest.raises(BadRequest) as info:
        read_request(data)
    assert "010170-****" in str(info.value) and PLANTED_CPR not in str(info.value)


def test_a_schema_refusal_names_the_requests_own_line_and_the_element() -> None:
    # The schema was checked on a detached copy: every refusal said "line 1".
    lines = REQUEST.replace(b"><", b">\n<").replace(b"<d:Beloeb>1.00<", b"<d:Beloeb>-1<")
    line = lines[: lines.index(b"<d:Beloeb>-1<")].count(b"\n") + 1
    assert line > 5
    with pytest.raises(BadRequest) as info:
        read_request(lines)
    path = "/d:DaekningAfskrivningRegistreringAfsend_I/d:Registrering[2]/d:Beloeb"
    assert f"line {line}, {path}: " in str(info.value)  # the second registration's amount


def test_a_date_with_a_zone_is_read_and_one_python_cannot_hold_is_a_bad_request() -> None:
    # Both were ValueError ("Invalid isoformat string"): a Server fault and a traceback logged.
    _, message = read_request(REQUEST.replace(b">2026-12-01<", b">2026-12-01Z<"))
    assert message.registreringer[0].dato == dt.date(2026, 12, 1)
    with pytest.raises(BadRequest, match=r"Registrering/Dato '-2026-12-01': expected a date"):
        read_request(REQUEST.replace(b">2026-12-01<", b">-2026-12-01<"))


# -- the debtor system's balance report (toekgw debitor reconcile --report) -----------------

SALDO = write_saldo([Saldo("29189846", "F-1", 12_345), Saldo("29189846", "F-2", 0)])


@FUZZ
@given(
    fixed_mutations(SALDO.encode())
    | st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=30), max_size=4).map(
        lambda rows: "\n".join([HEADER, *rows]).encode()
    )
)
def test_a_damaged_balance_report_is_bad_saldo(data: bytes) -> None:
    lines = data.decode("utf-8", "replace").splitlines(keepends=True)
    rows, _ = refuses_only(lambda: list(read_saldo(lines)), BadSaldo)
    for row in rows or ():
        assert row.cvr.isascii() and row.restgaeld_ore >= 0


@pytest.mark.parametrize("amount", ["²", "١٢٣", "½"])
def test_an_amount_of_other_digits_is_bad_saldo(amount: str) -> None:
    # "²".isdigit() is True and int("²") a ValueError; "١٢٣" was read as 123.
    with pytest.raises(BadSaldo, match="restgaeld_ore: expected an integer"):
        list(read_saldo([HEADER, f"29189846;F-1;{amount}"]))
