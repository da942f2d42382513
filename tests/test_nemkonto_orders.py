"""A payment's notification lines: textwrap's lines, without textwrap's cost where a text fits."""

from __future__ import annotations

import textwrap

from hypothesis import given
from hypothesis import strategies as st

from toekgw.adapters.nemkonto.orders import NOTIFICATION_LINES, NOTIFICATION_WIDTH, _notification


@given(st.lists(st.text(alphabet=st.sampled_from("ab æ-\t\n\xa0.,"), max_size=50), max_size=5))
def test_notification_lines_are_textwraps(texts: list[str]) -> None:
    expected: list[str] = []
    for text in texts:
        if text.strip():
            expected.extend(textwrap.wrap(text.strip(), NOTIFICATION_WIDTH))
    assert _notification(tuple(texts)) == tuple(expected[:NOTIFICATION_LINES])
