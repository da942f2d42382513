"""SF1490's import as the index reads it (:func:`read_import`, the simulator's side): an
effectuation without a registration, or with a date Python cannot hold, is
:class:`NotAnImport`, not an IndexError or ValueError."""

from __future__ import annotations

import pytest
from lxml import etree

from toekgw.formats.ydelsesindeks import NS, NotAnImport, read_answer, read_import


def _import(inner: str) -> etree._Element:
    return etree.fromstring(
        f'<yi:ImporterYdelseIndeksInput xmlns:yi="{NS["yi"]}" xmlns:oef="{NS["oef"]}"'
        f' xmlns:sd="{NS["sd"]}"><yi:OekonomiskEffektueringIndeks>'
        f"<oef:OekonomiskEffektueringIndeks>{inner}</oef:OekonomiskEffektueringIndeks>"
        "</yi:OekonomiskEffektueringIndeks></yi:ImporterYdelseIndeksInput>"
    )


def test_an_effectuation_without_a_registration_is_not_an_import() -> None:
    # Was IndexError (findall(...)[-1] of no registrations).
    body = _import("<sd:UUIDIdentifikator>x</sd:UUIDIdentifikator>")
    with pytest.raises(NotAnImport, match="no registration"):
        read_import(body)


def test_a_date_python_cannot_hold_is_not_an_import() -> None:
    props = "".join(
        f"<oef:{n}>{v}</oef:{n}>"
        for n, v in [("BrugervendtNoegle", "k"), ("Dispositionsdato", "12026-01-01T00:00:00")]
    )
    body = _import(
        "<sd:UUIDIdentifikator>x</sd:UUIDIdentifikator><oef:Registrering><oef:RelationListe>"
        "<oef:Aktoer><oef:CVR-nr>29189846</oef:CVR-nr></oef:Aktoer></oef:RelationListe>"
        f"<oef:AttributListe><oef:Egenskaber>{props}</oef:Egenskaber></oef:AttributListe>"
        "</oef:Registrering>"
    )
    with pytest.raises(NotAnImport, match="Dispositionsdato is not a date"):
        read_import(body)


@pytest.mark.parametrize("status", ["", "x", None, "2O", "1e3"])
def test_an_answer_whose_status_is_no_number_is_not_an_import(status: object) -> None:
    with pytest.raises(NotAnImport):
        read_answer(status, "tekst")
