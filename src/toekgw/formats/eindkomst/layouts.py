"""eIndkomst record layouts: one table per record type, on the fixed-record engine.

Each layout says where it comes from (``Layout.source``); a field whose status differs says so
in its own ``source`` (``Layout.field_source(name)`` gives either): *confirmed* (SKAT),
*public-impl* (a public implementation that talks to the real system) or *ours* (no public
source; the project's own choice). These tables are the only place the positions live: when
SKAT's Teknisk vejledning is at hand, correct the numbers here and nothing else changes.

Every record starts with the running line number (1/7) and the record type (8/4): confirmed.
"""

from __future__ import annotations

from toekgw.formats.fixed import Field, Kind, Layout, RecordCodec, compile_layout

__all__ = [
    "ADVICE_CODECS",
    "ADVICE_END",
    "ADVICE_LAYOUTS",
    "ADVICE_START",
    "CODECS",
    "INCOME_TYPES",
    "LAYOUTS",
    "ORDER_TYPES",
    "RECEIPT_TYPES",
    "REPORT_TYPES",
    "codec",
]

CODE_PREFIX = "eik"

# The field numbers a 3101 company line may carry (public-impl): 0000 with the nil mark, or an
# amount of 0059 (provisional A-tax on employer-administered age savings) or 0400 (AM
# contribution of special pension schemes).
NIL_FIELD = "0000"
COMPANY_LINE_FIELDS = (NIL_FIELD, "0059", "0400")

# Amounts (6001, 3101): 16 characters, kroner as 10 integer digits + 6 decimal digits, the sign
# in the next column: 1,234.50 kr is ``0000001234500000+``. Two independent public
# implementations agree (public-impl). In øre that is the øre value x 10,000.
KRONER_6 = 10_000

# Income types (5000 pos 74): confirmed.
INCOME_TYPES: dict[str, str] = {
    "00": "A-income",
    "01": "SU",
    "02": "special taxation",
    "03": "Greenland tax",
    "04": "other personal income without AM-contribution",
    "05": "B-income",
    "06": "kontanthjælp (municipalities)",
    "07": "sickness/maternity benefit paid by a public authority",
    "08": "researcher scheme",
    "09": "tax-free",
    "10": "wage via LG",
    "11": "wage from an estate",
    "20": "AFU fund",
    "24": "like 04 with wage withholding",
    "26": "age savings",
}

# Tax-card order types (2101 pos 85): confirmed.
ORDER_TYPES: dict[str, str] = {
    "1": "main card",
    "2": "secondary card",
    "6": "special withholding",
    "7": "special withholding",
}


def _head(rtype: str) -> list[Field]:
    return [
        Field("line", 1, 7, Kind.NUMBER, doc="running line number", source="confirmed"),
        Field("rtype", 8, 4, Kind.LITERAL, literal=rtype, doc="record type", source="confirmed"),
    ]


def _codes(*values: str) -> frozenset[str]:
    return frozenset(values)


_FB = _codes("F", "B")

L1000 = Layout(
    "1000",
    142,
    [
        *_head("1000"),
        Field("sent_date", 12, 8, Kind.DATE),
        Field("sent_time", 20, 6, Kind.TIME),
        Field("sender_se", 26, 8, Kind.DIGITS),
        Field("sender_cvr", 34, 8, Kind.DIGITS),
        Field(
            "sender_type", 42, 2, Kind.CODE, codes=_codes("01", "02"), doc="01 company, 02 bureau"
        ),
        Field("filler1", 44, 5, Kind.FILLER),
        Field("method", 49, 1, Kind.CODE, codes=_codes("0")),
        Field("system_name", 50, 20, Kind.TEXT),
        Field("system_version", 70, 20, Kind.TEXT),
        Field("main_report_id", 90, 16, Kind.TEXT),
        Field("format_version", 106, 3, Kind.DIGITS),
        Field("mode", 109, 1, Kind.CODE, codes=_codes("T", "P"), doc="T test, P production"),
        Field("filler2", 110, 32, Kind.FILLER),
        Field("system", 142, 1, Kind.LITERAL, literal="E", doc="E = eIndkomst"),
    ],
    source="public-impl",
    doc="sender / start of delivery",
)

L2001 = Layout(
    "2001",
    39,
    [
        *_head("2001"),
        Field("filler1", 12, 16, Kind.FILLER),
        Field("company_se", 28, 8, Kind.DIGITS),
        Field(
            "cancel_subscription",
            36,
            1,
            Kind.CODE,
            codes=_codes("A"),
            required=False,
            doc="A = cancel tax-card subscription (meaning confirmed)",
        ),
        Field("currency", 37, 3, Kind.CODE, codes=_codes("DKK")),
    ],
    source="public-impl",
    doc="reporting company",
)

L2101 = Layout(
    "2101",
    144,
    [
        *_head("2101"),
        Field("cpr", 12, 10, Kind.DIGITS, personal=True),
        Field("filler1", 22, 8, Kind.FILLER),
        Field("employee_no", 30, 15, Kind.TEXT, required=False),
        Field("employment_start", 45, 8, Kind.DATE),
        Field("employment_end", 53, 8, Kind.DATE, required=False),
        Field("filler2", 61, 24, Kind.FILLER),
        Field(
            "order_type",
            85,
            1,
            Kind.CODE,
            codes=frozenset(ORDER_TYPES),
            doc="1 main, 2 secondary, 6/7 special withholding (confirmed)",
        ),
        Field("valid_from", 86, 8, Kind.DATE),
        Field("extra_reference", 94, 50, Kind.TEXT, required=False),
        Field(
            "reorder",
            144,
            1,
            Kind.CODE,
            codes=_codes("R"),
            required=False,
            doc="R = re-order (public-impl; the gateway wrote J until December 2026)",
            source="public-impl",
        ),
    ],
    source="public-impl",
    doc="employment + tax-card order (content confirmed, positions public-impl)",
)

L3101 = Layout(
    "3101",
    82,
    [
        *_head("3101"),
        Field("pay_kind", 12, 1, Kind.CODE, codes=_FB, required=False, doc="F advance, B arrears"),
        Field("report_id", 13, 16, Kind.TEXT),
        Field("reference_id", 29, 16, Kind.TEXT, required=False),
        Field("period_start", 45, 8, Kind.DATE, doc="1st of the month"),
        Field("period_end", 53, 8, Kind.DATE, doc="last of the month"),
        Field(
            "nil_mark", 61, 1, Kind.CODE, codes=_codes("N"), required=False, doc="N = nil report"
        ),
        Field(
            "field_number",
            62,
            4,
            Kind.CODE,
            codes=_codes(*COMPANY_LINE_FIELDS),
            required=False,
            doc="0000 nil report, 0059 provisional A-tax on age savings, 0400 AM contribution "
            "of special pension schemes",
        ),
        Field(
            "amount",
            66,
            16,
            Kind.AMOUNT,
            required=False,
            scale=KRONER_6,
            doc="kroner: 10 integer + 6 decimal digits",
        ),
        Field("sign", 82, 1, Kind.SIGN, required=False),
    ],
    source="public-impl",
    doc="company-level line, used for the monthly nil report",
)

L4101 = Layout(
    "4101",
    55,
    [
        *_head("4101"),
        Field("report_id", 12, 16, Kind.TEXT, doc="the report to reverse"),
        Field("reference_id", 28, 16, Kind.TEXT, required=False),
        Field("filler1", 44, 1, Kind.FILLER),
        Field(
            "se_level",
            45,
            1,
            Kind.CODE,
            codes=_codes("J", "N"),
            doc="Tilbagefør SE: J = the whole report at SE level, N = for the CPR at 46",
        ),
        Field("cpr", 46, 10, Kind.DIGITS, personal=True, required=False),
    ],
    source="public-impl",
    doc="reversal of an earlier report: at SE level (J), or for one CPR (N, CPR at 46)",
)

L5000 = Layout(
    "5000",
    75,
    [
        *_head("5000"),
        Field(
            "correction",
            12,
            1,
            Kind.CODE,
            codes=_codes("R"),
            required=False,
            doc="R = correction of an earlier period",
            source="confirmed",
        ),
        Field("report_id", 13, 16, Kind.TEXT),
        Field("reference_id", 29, 16, Kind.TEXT, required=False),
        Field("period_start", 45, 8, Kind.DATE),
        Field("period_end", 53, 8, Kind.DATE),
        Field("disposition_date", 61, 8, Kind.DATE),
        Field("filler1", 69, 1, Kind.FILLER),
        Field("pay_kind", 70, 1, Kind.CODE, codes=_FB, required=False),
        Field("greenland_municipality", 71, 3, Kind.DIGITS, required=False),
        Field(
            "income_type",
            74,
            2,
            Kind.CODE,
            codes=frozenset(INCOME_TYPES),
            doc="income type",
            source="confirmed",
        ),
    ],
    source="public-impl",
    doc="report header: one pay period, one disposition date, one income type",
)

L6000 = Layout(
    "6000",
    95,
    [
        *_head("6000"),
        Field("filler1", 12, 8, Kind.FILLER, pad="0", doc="zeros", source="confirmed"),
        Field("cpr", 20, 10, Kind.DIGITS, personal=True, required=False, source="confirmed"),
        Field(
            "cvr_se", 30, 8, Kind.DIGITS, required=False, doc="instead of CPR", source="confirmed"
        ),
        Field("employee_no", 38, 15, Kind.TEXT, required=False, source="confirmed"),
        Field("tin", 53, 27, Kind.TEXT, required=False, doc="foreign TIN, since the TIN change"),
        Field("tin_country", 80, 2, Kind.TEXT, required=False),
        Field("income_kind", 82, 4, Kind.DIGITS, required=False, doc="indtægtsart, kode 68"),
        Field("p_number", 86, 10, Kind.DIGITS, required=False),
    ],
    source="public-impl",
    doc="income recipient: fields to pos 52 confirmed; TIN 53/27, TIN country 80/2, income "
    "kind 82/4, P-number 86/10 and the length 95 from two public implementations",
)

_FIELD_NUMBER = Field("field_number", 12, 4, Kind.DIGITS, source="public-impl")

L6001 = Layout(
    "6001",
    32,
    [
        *_head("6001"),
        _FIELD_NUMBER,
        Field("amount", 16, 16, Kind.AMOUNT, scale=KRONER_6, doc="kroner: 10 + 6 decimal digits"),
        Field("sign", 32, 1, Kind.SIGN, blank_sign="+", doc="blank reads as +", source="ours"),
    ],
    source="public-impl",
    doc="amount field: 1,234.50 kr is 0000001234500000+ (two public implementations agree)",
)

L6002 = Layout(
    "6002",
    25,
    [*_head("6002"), _FIELD_NUMBER, Field("code", 16, 10, Kind.TEXT)],
    source="public-impl",
    doc="code field",
)

L6003 = Layout(
    "6003",
    16,
    [*_head("6003"), _FIELD_NUMBER, Field("tick", 16, 1, Kind.LITERAL, literal="X")],
    source="public-impl",
    doc="tick field",
)

L6004 = Layout(
    "6004",
    73,
    [*_head("6004"), _FIELD_NUMBER, Field("text", 16, 58, Kind.TEXT)],
    source="public-impl",
    doc="text field",
)

L6005 = Layout(
    "6005",
    24,
    [
        *_head("6005"),
        _FIELD_NUMBER,
        Field("whole", 16, 6, Kind.NUMBER),
        Field("decimals", 22, 2, Kind.NUMBER),
        Field("sign", 24, 1, Kind.SIGN, blank_sign="+"),
    ],
    source="public-impl",
    doc="count field (e.g. paid hours)",
)

L8001 = Layout(
    "8001",
    146,
    [
        *_head("8001"),
        Field("birth_date", 12, 8, Kind.DATE),
        Field(
            "sex", 20, 1, Kind.CODE, codes=_codes("1", "2", "3"), doc="1 male, 2 female, 3 unknown"
        ),
        Field("country", 21, 2, Kind.TEXT),
        Field("name", 23, 40, Kind.TEXT, doc="surname, first names"),
        Field("street", 63, 40, Kind.TEXT, required=False),
        Field("postcode", 103, 9, Kind.TEXT, required=False),
        Field("town", 112, 35, Kind.TEXT, required=False),
    ],
    source="public-impl",
    doc="extra person data, required for recipients abroad (content confirmed)",
)

L9999 = Layout(
    "9999",
    18,
    [*_head("9999"), Field("record_count", 12, 7, Kind.NUMBER, doc="1000 and 9999 included")],
    source="public-impl",
    doc="end of delivery",
)

# Receipts: that 7100 is a receipt record is confirmed; its layout is ours. Errors and advice
# come in SKAT's error/advice file (ADVICE_LAYOUTS below), which replaced our invented 7200.
L7100 = Layout(
    "7100",
    60,
    [
        *_head("7100"),
        Field("report_id", 12, 16, Kind.TEXT),
        Field("status_date", 28, 8, Kind.DATE),
        Field("status", 36, 1, Kind.CODE, codes=_codes("G", "A"), doc="G accepted, A rejected"),
        Field("count_6000", 37, 7, Kind.NUMBER),
        Field("amount_sum", 44, 16, Kind.AMOUNT),
        Field("sign", 60, 1, Kind.SIGN, blank_sign="+"),
    ],
    source="ours",
    doc="sum receipt per report",
)

REPORT_TYPES = (
    "1000",
    "2001",
    "2101",
    "3101",
    "4101",
    "5000",
    "6000",
    "6001",
    "6002",
    "6003",
    "6004",
    "6005",
    "8001",
    "9999",
)
RECEIPT_TYPES = ("7100",)

LAYOUTS: dict[str, Layout] = {
    layout.key: layout
    for layout in (
        L1000,
        L2001,
        L2101,
        L3101,
        L4101,
        L5000,
        L6000,
        L6001,
        L6002,
        L6003,
        L6004,
        L6005,
        L8001,
        L9999,
        L7100,
    )
}

CODECS: dict[str, RecordCodec] = {
    key: compile_layout(layout, CODE_PREFIX) for key, layout in LAYOUTS.items()
}


# SKAT's error and advice file (fejl- og advisfil): public-impl (one source). Records of 361
# characters with the record type at 1/4 - no running line number. Start and end hold nothing
# we read beyond their type (ours: not public).
ADVICE_START = "0001"
ADVICE_END = "9999"
ADVICE_LENGTH = 361


def _advice_entry(rtype: str, doc: str) -> Layout:
    return Layout(
        rtype,
        ADVICE_LENGTH,
        [
            Field("rtype", 1, 4, Kind.LITERAL, literal=rtype, doc="record type"),
            Field("line_number", 5, 7, Kind.NUMBER, doc="line in the submitted file"),
            Field(
                "field_index", 12, 2, Kind.DIGITS, required=False, doc="field no. in that record"
            ),
            Field("report_id", 14, 16, Kind.TEXT, required=False),
            Field("se", 30, 8, Kind.DIGITS, required=False),
            Field("number", 38, 6, Kind.DIGITS, doc="error / advice number"),
            Field("text", 44, 300, Kind.TEXT, required=False),
            Field("cpr", 344, 10, Kind.DIGITS, required=False, personal=True),
            Field("se_person", 354, 8, Kind.TEXT, required=False, doc="SE person number"),
        ],
        source="public-impl",
        doc=doc,
    )


def _advice_frame(rtype: str, doc: str) -> Layout:
    return Layout(
        rtype,
        ADVICE_LENGTH,
        [
            Field("rtype", 1, 4, Kind.LITERAL, literal=rtype, doc="record type"),
            Field("rest", 5, ADVICE_LENGTH - 4, Kind.TEXT, required=False, source="ours"),
        ],
        source="public-impl",
        doc=doc,
    )


ADVICE_LAYOUTS: dict[str, Layout] = {
    layout.key: layout
    for layout in (
        _advice_frame(ADVICE_START, "error/advice file: start (content not public)"),
        _advice_entry("0002", "error/advice file: an error on a line of the delivery"),
        _advice_entry("0003", "error/advice file: an advice on a line of the delivery"),
        _advice_frame(ADVICE_END, "error/advice file: end (content not public)"),
    )
}
ADVICE_CODECS: dict[str, RecordCodec] = {
    key: compile_layout(layout, f"{CODE_PREFIX}.advice") for key, layout in ADVICE_LAYOUTS.items()
}


def codec(record_type: str) -> RecordCodec:
    return CODECS[record_type]
