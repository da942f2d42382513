"""docs/layouts.md is made from the layout tables the code uses, and lists every schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from toekgw.formats.eindkomst.layouts import ADVICE_LAYOUTS, LAYOUTS
from toekgw.formats.fixed import Field, Kind, Layout
from toekgw.formats.fixed.doc import markdown_table

DOC = Path(__file__).resolve().parent.parent / "docs" / "layouts.md"
XSD = Path(__file__).resolve().parent.parent / "src" / "toekgw" / "xsd"


@pytest.mark.parametrize("key", sorted(LAYOUTS))
def test_every_eindkomst_layout_is_documented_as_the_code_has_it(key: str) -> None:
    assert markdown_table(LAYOUTS[key]) in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("key", sorted(ADVICE_LAYOUTS))
def test_skats_error_and_advice_file_is_documented_as_the_code_has_it(key: str) -> None:
    assert markdown_table(ADVICE_LAYOUTS[key]) in DOC.read_text(encoding="utf-8")


def test_every_schema_is_listed() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for schema in XSD.rglob("*.xsd"):
        assert schema.name in doc, schema


def test_markdown_table_names_sources_codes_and_literals() -> None:
    layout = Layout(
        "X",
        6,
        [
            Field("kind", 1, 1, Kind.LITERAL, literal="X", source="confirmed"),
            Field("code", 2, 2, Kind.CODE, codes=frozenset({"01", "02"}), doc="what"),
            Field("fill", 4, 3, Kind.FILLER),
        ],
        source="public-impl",
    )
    assert markdown_table(layout).splitlines()[2:] == [
        "| 1 | 1 | `kind` = `X` | literal |  | confirmed |",
        "| 2 | 2 | `code`: `01`, `02` (what) | code | yes | public-impl |",
        "| 4 | 3 | `fill` | filler |  | public-impl |",
    ]
