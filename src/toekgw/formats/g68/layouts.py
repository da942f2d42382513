"""G68 record layouts: Z300, SLUTD, the fast G68 record and the floating form's prefix and tags.

This module is the one place that knows where a G68 field sits. Sources (see docs/layouts.md):

- **ours** (no public source; replace with KMD GF200001Q / GF28913N when a municipality holds
  it): ``Z300``, ``SLUTD`` and the fast record ``G68_FAST``. Change the tables here, nothing else.
- **public-impl** (from a public implementation): the floating prefix ``G68_FLOATING_PREFIX``
  and the tag table ``TAGS`` (ids, widths, kinds).
- **confirmed**: the delivery structure Z300 / G68... / SLUTD, and the ident codes 11/C, 12/E.

The floating form's tags are declared as an ordinary layout (``G68_TAG_FIELDS``), laid end to
end, so that widths, kinds and per-field diagnosis come from the fixed-record engine too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from toekgw.formats.fixed import Field, Kind, Layout, RecordCodec, compile_layout

__all__ = [
    "CODE_PREFIX",
    "FAST_LENGTH",
    "FORBIDDEN_TEXT",
    "FORM_FAST",
    "FORM_FLOATING",
    "G68_FAST",
    "G68_FLOATING_PREFIX",
    "G68_TAG_FIELDS",
    "IDENT_ALIASES",
    "IDENT_CODES",
    "MAX_PAYMENTS",
    "MAX_TEXT_LINES",
    "SLUTD",
    "SLUTD_FAST",
    "TAGS",
    "TEXT_TAG_FIRST",
    "Z300",
    "Z300_FAST",
    "codecs",
]

CODE_PREFIX = "g68"
FORM_FLOATING = "1"
FORM_FAST = "2"
FAST_LENGTH = 256
MAX_PAYMENTS = 99_999  # the 5-digit line sequence number
FORBIDDEN_TEXT = "&!\\"

# Ident codes (confirmed: 11/C CVR, 12/E P-number; public-impl: 01 account, 02 CPR, 03 SE).
IDENT_ALIASES = {"C": "11", "E": "12"}
IDENT_CODES = frozenset({"01", "02", "03", "11", "12"})
_IDENT_READ = frozenset(IDENT_CODES | IDENT_ALIASES.keys())


def _padded(layout: Layout, length: int) -> Layout:
    """The same record padded with spaces to ``length`` (the fast form pads Z300/SLUTD)."""
    filler = Field("padding", layout.length + 1, length - layout.length, Kind.FILLER)
    return Layout(
        layout.key, length, (*layout.fields, filler), source=layout.source, doc=layout.doc
    )


# --- Z300 start record: ours ---------------------------------------------------------------
Z300 = Layout(
    "Z300",
    32,
    [
        Field("record_type", 1, 4, Kind.LITERAL, literal="Z300"),
        Field("supplier_id", 5, 8, Kind.DIGITS, doc="data supplier id (dataleverandør-id)"),
        Field("created_date", 13, 8, Kind.DATE),
        Field("created_time", 21, 6, Kind.TIME),
        Field("delivery_number", 27, 5, Kind.NUMBER, doc="+1 per delivery from this supplier"),
        Field("form", 32, 1, Kind.CODE, codes=frozenset({FORM_FLOATING, FORM_FAST})),
    ],
    source="ours",
    doc="start record of a G68 delivery",
)

# --- SLUTD end record: ours ----------------------------------------------------------------
SLUTD = Layout(
    "SLUTD",
    36,
    [
        Field("record_type", 1, 5, Kind.LITERAL, literal="SLUTD"),
        Field("supplier_id", 6, 8, Kind.DIGITS, doc="must equal Z300's"),
        Field("count", 14, 7, Kind.NUMBER, doc="number of G68 records"),
        Field("net_sum", 21, 15, Kind.AMOUNT, doc="plus minus minus, in øre"),
        Field("net_sign", 36, 1, Kind.SIGN),
    ],
    source="ours",
    doc="end record of a G68 delivery: control totals",
)

Z300_FAST = _padded(Z300, FAST_LENGTH)
SLUTD_FAST = _padded(SLUTD, FAST_LENGTH)

# --- the payment record's fields, shared by both forms --------------------------------------
_TRANSACTION_TYPES = frozenset({"01", "10"})


def _prefix_fields(form: str) -> list[Field]:
    return [
        Field("registration_place", 1, 3, Kind.DIGITS, doc="registreringssted"),
        Field("interface", 4, 3, Kind.LITERAL, literal="G68"),
        Field("sequence", 7, 5, Kind.NUMBER, doc="from 00001, +1 per transaction"),
        Field("transaction_type", 12, 2, Kind.CODE, codes=_TRANSACTION_TYPES),
        Field("form", 14, 1, Kind.LITERAL, literal=form),
    ]


# Floating prefix: public-impl.
G68_FLOATING_PREFIX = Layout(
    "G68-floating",
    14,
    _prefix_fields(FORM_FLOATING),
    source="public-impl",
    doc="fixed prefix of a floating G68 record; tagged fields follow",
)

# Fast record GF28913N: ours (positions); the fields and widths follow the tag table.
G68_FAST = Layout(
    "G68-fast",
    FAST_LENGTH,
    [
        *_prefix_fields(FORM_FAST),
        Field("paying_unit", 15, 4, Kind.DIGITS, required=False),
        Field("organisation_type", 19, 2, Kind.DIGITS, required=False),
        Field("payment_ident", 21, 18, Kind.DIGITS),
        Field("amount", 39, 11, Kind.AMOUNT),
        Field("sign", 50, 1, Kind.SIGN),
        Field("ident_code", 51, 2, Kind.CODE, codes=_IDENT_READ),
        Field("beneficiary", 53, 14, Kind.DIGITS, personal=True),
        Field("payment_date", 67, 8, Kind.DATE, required=False),
        Field("posting_reference", 75, 20, Kind.TEXT, forbidden=FORBIDDEN_TEXT),
        Field("text_01", 95, 81, Kind.TEXT, required=False, forbidden=FORBIDDEN_TEXT),
        Field("text_02", 176, 81, Kind.TEXT, required=False, forbidden=FORBIDDEN_TEXT),
    ],
    source="ours",
    doc="fast G68 record (fixed positions), padded with spaces to 256",
)

# --- floating tags: public-impl --------------------------------------------------------------
TEXT_TAG_FIRST = 40
MAX_TEXT_LINES = 36  # tags 40-75

# Each tag's field; ``start`` is assigned when the fields are laid end to end below.
_TAG_TABLE: tuple[tuple[int, Field], ...] = (
    (2, Field("paying_unit", 1, 4, Kind.DIGITS, required=False)),
    (3, Field("organisation_type", 1, 2, Kind.DIGITS, required=False)),
    (7, Field("payment_ident", 1, 18, Kind.DIGITS)),
    (8, Field("amount", 1, 11, Kind.AMOUNT)),
    (9, Field("sign", 1, 1, Kind.SIGN)),
    (10, Field("ident_code", 1, 2, Kind.CODE, codes=_IDENT_READ)),
    (11, Field("beneficiary", 1, 14, Kind.DIGITS, personal=True)),
    (12, Field("payment_date", 1, 8, Kind.DATE, required=False)),
    (16, Field("posting_reference", 1, 20, Kind.TEXT, forbidden=FORBIDDEN_TEXT)),
    *(
        (
            TEXT_TAG_FIRST + i,
            Field(f"text_{i + 1:02d}", 1, 81, Kind.TEXT, required=False, forbidden=FORBIDDEN_TEXT),
        )
        for i in range(MAX_TEXT_LINES)
    ),
)


def _end_to_end(fields: Iterable[Field]) -> Layout:
    laid = []
    start = 1
    for f in fields:
        laid.append(replace(f, start=start))
        start += f.length
    return Layout("G68-tags", start - 1, laid, source="public-impl", doc="floating tags")


# The tag fields as one layout, so widths, kinds and per-field checks come from the engine.
# Numbers and dates fill their width exactly; text tags hold up to their width, unpadded.
G68_TAG_FIELDS = _end_to_end(f for _tag, f in _TAG_TABLE)
TAGS: dict[int, Field] = {tag: G68_TAG_FIELDS.by_name[f.name] for tag, f in _TAG_TABLE}


class Codecs:
    """The compiled layouts, built once per process."""

    def __init__(self) -> None:
        self.z300 = {FORM_FLOATING: compile_layout(Z300, CODE_PREFIX)}
        self.z300[FORM_FAST] = compile_layout(Z300_FAST, CODE_PREFIX)
        self.slutd = {FORM_FLOATING: compile_layout(SLUTD, CODE_PREFIX)}
        self.slutd[FORM_FAST] = compile_layout(SLUTD_FAST, CODE_PREFIX)
        self.fast: RecordCodec = compile_layout(G68_FAST, CODE_PREFIX)
        self.floating_prefix: RecordCodec = compile_layout(G68_FLOATING_PREFIX, CODE_PREFIX)
        self.tags: RecordCodec = compile_layout(G68_TAG_FIELDS, CODE_PREFIX)


codecs = Codecs()
