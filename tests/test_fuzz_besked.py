"""Fuzzing the Beskedfordeler's envelope (``Haendelsesbesked``) and the ØiR payload it brings
(``DebitorkontoSlettet``).

:func:`read_besked` raises only :class:`BeskedError` (``NotAnEnvelope``, ``MissingField``,
``BadPayload``), :func:`read_debitorkonto_slettet` only :class:`BadPayload`; no message shows a
CPR number in clear (the consumer prints and lists them as they are).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzkit import FUZZ, PLANTED_CPR, refuses_only, xml_mutations
from tests.test_beskedfordeler import RAW_SAMPLE
from toekgw.formats.debitor.besked import (
    DebitorkontoSlettet,
    build_debitorkonto_slettet,
    read_debitorkonto_slettet,
)
from toekgw.formats.kombit import besked

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
PAYLOAD = build_debitorkonto_slettet(DebitorkontoSlettet("D-4711", "29189846", NOW))
ENVELOPE = besked.build_besked(
    besked_type="5d0f6a4e-7c1b-4f51-9a0e-3c4f1e2d9b70",
    payload=PAYLOAD,
    recipient_cvr="29189846",
    created=NOW,
    besked_id="0f6a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b",
)
PUSHED = (
    b'<ModtagBeskedInput xmlns="urn:oio:sts:1.0.0">'
    + RAW_SAMPLE[RAW_SAMPLE.index(b"<k:Haendelsesbesked") :]
    + b"</ModtagBeskedInput>"
)


@FUZZ
@given(st.sampled_from([ENVELOPE, RAW_SAMPLE, PUSHED]).flatmap(xml_mutations))
def test_a_damaged_envelope_is_refused_precisely(data: bytes) -> None:
    message, _ = refuses_only(lambda: besked.read_besked(data), besked.BeskedError)
    if message is not None and message.payload is not None:
        refuses_only(lambda: read_debitorkonto_slettet(message.payload), besked.BadPayload)


@FUZZ
@given(xml_mutations(PAYLOAD))
def test_a_damaged_payload_is_refused_precisely(data: bytes) -> None:
    refuses_only(lambda: read_debitorkonto_slettet(data), besked.BadPayload)
    refuses_only(lambda: read_debitorkonto_slettet(data.replace(b"29189846", PLANTED_CPR.encode())),
                 besked.BadPayload)  # fmt: skip


def test_a_refusal_quoting_a_cpr_number_masks_it() -> None:
    # Was "... expected a CVR (8 digits), '0101701234'": printed and listed by the consumer.
    payload = PAYLOAD.replace(b"29189846", PLANTED_CPR.encode())
    with pytest.raises(besked.BadPayload, match=r"'010170-\*\*\*\*'"):
        read_debitorkonto_slettet(payload)
    envelope = ENVELOPE.replace(b"0f6a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b", PLANTED_CPR.encode())
    with pytest.raises(besked.MissingField, match=r"found '010170-\*\*\*\*'"):
        besked.read_besked(envelope)
