"""G68 payment records decoded and checked a block at a time, as columns (numpy).

One record at a time, Python spends ~9 µs on a G68 record (typed object, every rule); a
validator of a million payments wants far less. Here a block of whole lines is one numpy byte
array: the G68 records of the block are cut into typed columns (sequence, amount, date, …) and
every layout rule and payment rule is checked for all of them at once.

The outcome is a mask, ``clean``: a clean row passes everything the exact per-record path
(:mod:`toekgw.formats.g68.codec` and :func:`toekgw.formats.g68.rules.payment_checker`) checks,
so that path would find nothing in it. Every other row goes through the exact path, which has the
last
word and writes the findings. So this module must be *sound* (never call a row clean that the
exact path finds fault with); it may leave an unusual but valid row to the exact path (a
recall, a blank paying unit written as a floating tag, a date tag of spaces …). Property tests
hold it to that against the exact path.

Positions and widths come from the layout tables (:mod:`toekgw.formats.g68.layouts`); the birth-date
and CVR rules from :mod:`toekgw.formats.idents` (the verdicts of python-stdnum, looked up).
Pure: bytes in, arrays out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from toekgw.formats.dates import valid_dates, ymd
from toekgw.formats.fixed import Kind
from toekgw.formats.g68.layouts import (
    FORBIDDEN_TEXT,
    FORM_FAST,
    FORM_FLOATING,
    G68_FAST,
    G68_FLOATING_PREFIX,
    IDENT_ALIASES,
    TAGS,
    TEXT_TAG_FIRST,
)
from toekgw.formats.g68.records import G68Form
from toekgw.formats.g68.rules import DUPLICATE_KEY_FIELDS, G68Config
from toekgw.formats.idents import CENTURY_RULE_INDEX, birth_date_table

__all__ = ["Lines", "PaymentColumns", "Screen", "split_lines"]

Bytes = npt.NDArray[np.uint8]
Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

_SPACE = 0x20
_CR = 0x0D
_LF = 0x0A
_AMP = ord("&")

# --- where each value sits: from the layout tables --------------------------------------

# The payment's fixed-width values: one "canonical" row of bytes per record, the same for both
# forms (cut from the fast record, gathered from the floating form's tags). The duplicate key
# comes last, so that it is one slice.
_CANON = ("organisation_type", "ident_code", *DUPLICATE_KEY_FIELDS)
_TAG_OF = {f.name: tag for tag, f in TAGS.items()}
_WIDTH = {name: TAGS[_TAG_OF[name]].length for name in _CANON}
assert all(G68_FAST.by_name[n].length == w for n, w in _WIDTH.items()), "tag and fast widths"
_OFFSET: dict[str, int] = {}
_at = 0
for _name in _CANON:
    _OFFSET[_name] = _at
    _at += _WIDTH[_name]
CANON_WIDTH = _at
del _at, _name


def _span(name: str) -> slice:
    return slice(_OFFSET[name], _OFFSET[name] + _WIDTH[name])


_FAST_CANON_COLUMNS = np.concatenate(
    [
        np.arange(G68_FAST.by_name[n].start - 1, G68_FAST.by_name[n].end, dtype=np.intp)
        for n in _CANON
    ]
)
_KEY = slice(_OFFSET[DUPLICATE_KEY_FIELDS[0]], CANON_WIDTH)
KEY_WIDTH = CANON_WIDTH - _KEY.start

_PREFIX = G68_FLOATING_PREFIX
PREFIX_LENGTH = _PREFIX.length
for _f in _PREFIX.fields:  # the fast record starts with the same prefix
    _g = G68_FAST.by_name[_f.name]
    assert (_g.start, _g.length) == (_f.start, _f.length), _f.name
del _f, _g


def _prefix(name: str) -> slice:
    f = _PREFIX.by_name[name]
    return slice(f.start - 1, f.end)


_FAST_REFERENCE = slice(
    G68_FAST.by_name["posting_reference"].start - 1, G68_FAST.by_name["posting_reference"].end
)

# Floating tags: the fixed ones in their (ascending) order, and each id's value length bounds:
# numbers, codes and dates fill their width (a code may be a one-letter alias), text holds up
# to its width. An unknown id gets bounds no length meets.
_FIXED_TAGS = [(tag, f) for tag, f in sorted(TAGS.items()) if tag < TEXT_TAG_FIRST]
_TAG_LO = np.ones(256, np.int64)
_TAG_HI = np.zeros(256, np.int64)
for _tag, _field in TAGS.items():
    if _field.kind is Kind.TEXT:
        _TAG_LO[_tag] = 1 if _field.required else 0
    elif _field.kind is Kind.CODE and _field.codes:
        _TAG_LO[_tag] = min(len(c) for c in _field.codes)
    else:
        _TAG_LO[_tag] = _field.length
    _TAG_HI[_tag] = _field.length
del _tag, _field
_UNKNOWN_TAG = 0xFF

# Bytes that may not stand anywhere in a record: control characters (the line end aside) and
# the forbidden text characters. '&' separates the floating form's tags; in the fast form it
# is forbidden like the others (and never valid in a digit or code field either).
_CONTROL = np.zeros(256, np.bool_)
_CONTROL[:32] = True
_CONTROL[0x7F] = True
_BANNED = {FORM_FAST: _CONTROL.copy(), FORM_FLOATING: _CONTROL.copy()}
for _c in FORBIDDEN_TEXT.encode("ascii"):
    _BANNED[FORM_FAST][_c] = True
    if _c != _AMP:
        _BANNED[FORM_FLOATING][_c] = True
del _c

_BANNED_ABOVE_CONTROL = {
    form: [int(b) for b in np.flatnonzero(table[32:]) + 32] for form, table in _BANNED.items()
}
# What the exact path's text check warns of (g68.text.encoding) goes the exact way: a C1 byte
# (0x80-0x9F: every Windows-1252 typographic character) anywhere in a row, and a continuation
# byte (0xA0-0xBF) right after a UTF-8 lead byte (0xC2-0xF4), a possible UTF-8 sequence. A
# byte of 0xA0-0xBF on its own is ISO-8859-1 text ('§ 34', '½', '°'): clean.
_C1_LO, _C1_HI = 0x80, 0x9F
_CONTINUATION_LO, _CONTINUATION_HI = 0xA0, 0xBF
_LEAD_LO, _LEAD_HI = 0xC2, 0xF4
for _table in _BANNED.values():
    _table[_C1_LO : _C1_HI + 1] = True
del _table

# What str.rstrip() takes away in ISO-8859-1: a required text of only these is blank.
_WHITESPACE = np.zeros(256, np.bool_)
for _c in range(256):
    _WHITESPACE[_c] = chr(_c).isspace()
del _c


def _code(text: str) -> int:
    raw = text.encode("ascii")
    return raw[0] * 256 + raw[1]


_IDENT = {code: _code(code) for code in ("01", "02", "03", "11", "12")}
_ALIAS = {_code(alias.ljust(2)): _IDENT[digits] for alias, digits in IDENT_ALIASES.items()}
_TYPE_OTHER = _code("01")  # another destination allowed
_TYPE_FORCED = _code("10")  # forced destination: needs ident code 01

_POWERS = {n: 10 ** np.arange(n - 1, -1, -1, dtype=np.int64) for n in range(1, 19)}


# --- lines -------------------------------------------------------------------------------


@dataclass(slots=True)
class Lines:
    """The lines of a block of bytes: where each one's text starts and ends (without its line
    end, CRLF or LF)."""

    data: Bytes
    starts: Ints
    ends: Ints

    def __len__(self) -> int:
        return len(self.starts)

    def text(self, i: int) -> bytes:
        return self.data[self.starts[i] : self.ends[i]].tobytes()

    @property
    def unterminated(self) -> bool:
        """The last line has no line end (the data ends inside it)."""
        return bool(len(self.ends)) and int(self.ends[-1]) == len(self.data)


def split_lines(data: Bytes) -> Lines:
    """Lines end with LF or CRLF; a lone CR is data. A last line without its LF is a line."""
    newlines = np.flatnonzero(data == _LF)
    size = len(data)
    unterminated = size and data[-1] != _LF
    bounds = np.append(newlines, size) if unterminated else newlines
    starts = np.empty(len(bounds), np.int64)
    if len(bounds):
        starts[0] = 0
        starts[1:] = bounds[:-1] + 1
    ends = bounds.astype(np.int64)
    lf = ends < size  # those that end with a LF (all but an unterminated last line)
    before = np.maximum(ends - 1, 0)
    cr = lf & (ends > starts) & (data[before] == _CR)
    ends = ends - cr
    return Lines(data, starts, ends)


# --- the rules that need more than the bytes -----------------------------------------------


class _BirthDates:
    """Which CPR birth dates :func:`toekgw.formats.idents.cpr_problem` accepts, as a table of every
    DDMMYY under each century rule (of the 7th digit) on the configured day; made anew when
    that day changes."""

    def __init__(self) -> None:
        self._rule = np.array(CENTURY_RULE_INDEX, np.int64)
        self._rules = len(set(CENTURY_RULE_INDEX))
        self._day: dt.date | None = None
        self._table: Mask = np.zeros(0, np.bool_)

    def valid(self, ddmmyy: Ints, seventh: Ints, today: dt.date) -> Mask:
        if today != self._day:
            self._table = birth_date_table(today)
            self._day = today
        ok: Mask = self._table[ddmmyy * self._rules + self._rule[seventh]]
        return ok


_BIRTH_DATES = _BirthDates()
_CVR_WEIGHTS = np.array([2, 7, 6, 5, 4, 3, 2, 1], np.int64)


@dataclass(frozen=True, slots=True)
class ScreenRules:
    """The settings of :class:`G68Config` that the screen needs, as numbers."""

    form: str
    today: dt.date  # the date the rules take as today (a CPR's birth date is not after it)
    oldest: int  # YYYYMMDD
    dagpenge: Ints  # paying units (as numbers) where a P-number is refused
    recalls: bool  # a recall can be clean: nobody asks whether its payment was paid

    @classmethod
    def of(cls, config: G68Config, form: G68Form) -> ScreenRules:
        width = _WIDTH["paying_unit"]
        units = sorted(
            int(u) for u in config.dagpenge_units if len(u) == width and u.isdigit() and u.isascii()
        )
        return cls(
            form.value,
            config.today,
            ymd(config.oldest_date),
            np.array(units, np.int64),
            recalls=config.recall_known is None,
        )


# --- the screen ----------------------------------------------------------------------------


@dataclass(slots=True)
class PaymentColumns:
    """The typed columns of a block's records. Values are meaningful where ``clean`` holds.

    ``prefix`` holds each record's first bytes (registration place … form) and ``fields`` its
    fixed-width values (organisation type, ident code, then the duplicate key's fields); the
    typed columns are cut from them.
    """

    clean: Mask
    fields: Bytes
    prefix: Bytes
    sequence: Ints
    amount: Ints  # øre, unsigned
    recall: Mask  # sign '-'
    payment_date: Ints  # YYYYMMDD, 0 when the record has none

    @property
    def signed_amount(self) -> Ints:
        out: Ints = np.where(self.recall, -self.amount, self.amount)
        return out

    def column(self, name: str) -> Any:
        """A fixed-width value as a bytes column (``S<width>``), e.g. ``beneficiary`` or
        ``registration_place``."""
        part = self.fields[:, _span(name)] if name in _OFFSET else self.prefix[:, _prefix(name)]
        return np.ascontiguousarray(part).view(f"S{part.shape[1]}").ravel()

    @property
    def ident_code(self) -> Any:
        """The ident code, letter aliases read as their digit codes."""
        raw = self.fields[:, _span("ident_code")].astype(np.int64)
        code = raw[:, 0] * 256 + raw[:, 1]
        for alias, digits in _ALIAS.items():
            code = np.where(code == alias, digits, code)
        pair = np.stack([code // 256, code % 256], axis=1).astype(np.uint8)
        return pair.view("S2").ravel()

    @property
    def dates(self) -> npt.NDArray[np.datetime64]:
        """``payment_date`` as ``datetime64[D]`` (NaT where there is none)."""
        ymd = self.payment_date
        y, md = np.divmod(ymd, 10000)
        m, d = np.divmod(md, 100)
        months = (y - 1970) * 12 + (m - 1)
        days = months.astype("datetime64[M]").astype("datetime64[D]") + (d - 1)
        out: npt.NDArray[np.datetime64] = np.where(ymd > 0, days, np.datetime64("NaT"))
        return out

    def keys(self) -> list[bytes]:
        """The duplicate-payment key of each record
        (:func:`toekgw.formats.g68.rules.duplicate_key`)."""
        rows = np.ascontiguousarray(self.fields[:, _KEY])
        keys: list[bytes] = rows.view(f"S{KEY_WIDTH}").ravel().tolist()
        return keys


@dataclass(slots=True)
class Screen:
    """Decode and check the G68 records among ``lines`` in one go."""

    rules: ScreenRules

    def __call__(self, lines: Lines) -> PaymentColumns:
        if self.rules.form == FORM_FAST:
            prefix, fields, ok = _fast(lines)
        else:
            prefix, fields, ok = _floating(lines)
        return _check(prefix, fields, ok & ~self._banned_rows(lines), self.rules)

    def _banned_rows(self, lines: Lines) -> Mask:
        """Rows holding a control character (other than their line end), a forbidden one, or a
        byte that suggests another encoding (a C1 byte, or a possible UTF-8 sequence)."""
        data, starts, ends = lines.data, lines.starts, lines.ends
        banned = _BANNED[self.rules.form]
        out = np.zeros(len(starts), np.bool_)
        if not len(data):
            return out
        # Every LF ends a line, and so does each CR just before one: if there are no more
        # banned bytes than that, no line holds one (the common case: a few passes, no index).
        terminated = ends[ends < len(data)]
        line_ends = len(terminated) + int(np.count_nonzero(data[terminated] == _CR))
        found = int(np.count_nonzero(data < 32))
        found += int(np.count_nonzero((data >= _C1_LO) & (data <= _C1_HI)))
        for byte in _BANNED_ABOVE_CONTROL[self.rules.form]:
            found += int(np.count_nonzero(data == byte))
        utf8 = _utf8_pairs(data)
        if found == line_ends and not len(utf8):
            return out
        at = np.union1d(np.flatnonzero(banned[data]), utf8)
        row = np.searchsorted(starts, at, side="right") - 1
        inside = at < ends[row]
        out[row[inside]] = True
        return out


def _utf8_pairs(data: Bytes) -> Ints:
    """Where a continuation byte (0xA0-0xBF) follows a UTF-8 lead byte (0xC2-0xF4)."""
    follows = np.flatnonzero((data[1:] >= _CONTINUATION_LO) & (data[1:] <= _CONTINUATION_HI))
    if not len(follows):
        return follows
    lead = data[follows]  # the byte before each
    out: Ints = follows[(lead >= _LEAD_LO) & (lead <= _LEAD_HI)] + 1
    return out


def _number(digits: Bytes) -> Ints:
    """Rows of digit values (0-9) as integers."""
    out: Ints = digits.astype(np.int64) @ _POWERS[digits.shape[1]]
    return out


def _windows(data: Bytes, starts: Ints, width: int) -> Bytes:
    """``width`` bytes from each start, as an (n, width) array. Bytes past the end of the data
    read as its last byte (such a row runs past its line end, and no check looks there)."""
    size = len(data)
    if size < width:
        small: Bytes = data.take(starts[:, None] + np.arange(width), mode="clip")
        return small
    limit = size - width
    # Indexing a window view copies each row whole: twice as fast as a 2-D index.
    out: Bytes = sliding_window_view(data, width)[np.minimum(starts, limit)]
    late = np.flatnonzero(starts > limit)
    if len(late):
        out[late] = data.take(starts[late][:, None] + np.arange(width), mode="clip")
    return out


def _rows(data: Bytes, starts: Ints, width: int, whole: Mask) -> Bytes:
    """``width`` bytes from each start, as an (n, width) array; a view when the lines lie at
    a fixed stride (a clean fast-form block), else gathered (bytes past the data read as the
    last byte: those rows are not ``whole`` and so never clean)."""
    n = len(starts)
    if n and whole.all():
        step = np.diff(starts)
        stride = int(step[0]) if n > 1 else width
        if n == 1 or bool((step == stride).all()):
            base = data[int(starts[0]) :]
            if len(base) >= (n - 1) * stride + width:
                view: Bytes = np.lib.stride_tricks.as_strided(
                    base, shape=(n, width), strides=(stride, 1), writeable=False
                )
                return view
    return _windows(data, starts, width)


def _fast(lines: Lines) -> tuple[Bytes, Bytes, Mask]:
    whole = (lines.ends - lines.starts) == G68_FAST.length
    rows = _rows(lines.data, lines.starts, G68_FAST.length, whole)
    prefix = rows[:, :PREFIX_LENGTH]
    fields = np.ascontiguousarray(rows[:, _FAST_CANON_COLUMNS])
    ok = whole & _not_blank(rows[:, _FAST_REFERENCE], np.full(len(rows), G68_FAST.length))
    return prefix, fields, ok


def _not_blank(text: Bytes, length: Ints) -> Mask:
    """Rows of ``text`` with a byte other than whitespace among their first ``length``."""
    # Most texts start with a letter or digit: look further only where one does not.
    out: Mask = (length > 0) & ~_WHITESPACE[text[:, 0]]
    rest = np.flatnonzero(~out & (length > 1))
    if len(rest):
        within = np.arange(text.shape[1]) < length[rest][:, None]
        out[rest] = (within & ~_WHITESPACE[text[rest]]).any(axis=1)
    return out


def _floating(lines: Lines) -> tuple[Bytes, Bytes, Mask]:
    data, starts, ends = lines.data, lines.starts, lines.ends
    n = len(starts)
    zero = np.uint8(48)
    ok = (ends - starts) > PREFIX_LENGTH
    prefix = _windows(data, starts, PREFIX_LENGTH)
    fields = np.full((n, CANON_WIDTH), _SPACE, np.uint8, order="F")

    # Every '&' of the block; the tags of row r are amps[first[r] : first[r] + count[r]].
    amps = np.flatnonzero(data == _AMP)
    k = len(amps)
    first = np.searchsorted(amps, starts)
    count = np.diff(np.append(first, k))
    ok &= count > 0
    rows = np.flatnonzero(count > 0)
    if not len(rows):
        return prefix, fields, ok
    head = first[rows]
    tail = head + count[rows] - 1

    d1 = data.take(amps + 1, mode="clip") - zero
    d2 = data.take(amps + 2, mode="clip") - zero
    tag = np.where((d1 < 10) & (d2 < 10), d1 * 10 + d2, _UNKNOWN_TAG)
    # A value runs to the next '&', the row's last one to the line end.
    end = np.empty(k, np.int64)
    end[:-1] = amps[1:]
    end[tail] = ends[rows]
    length = end - amps - 3
    good = (length >= _TAG_LO[tag]) & (length <= _TAG_HI[tag])
    ascending = np.empty(k, np.bool_)  # ids ascending within a row: each at most once
    ascending[0] = True
    np.greater(tag[1:], tag[:-1], out=ascending[1:])
    ascending[head] = True
    good &= ascending
    bad = np.flatnonzero(~good)
    if len(bad):
        ok[np.searchsorted(first, bad, side="right") - 1] = False
    row_ok = amps[head] == starts[rows] + PREFIX_LENGTH  # the first tag right after the prefix

    # The fixed tags, walked in order: each is at the next position, or absent if optional.
    every_row = len(rows) == n
    at = head
    for tag_id, f in _FIXED_TAGS:
        here = np.minimum(at, tail)
        present = (at <= tail) & (tag[here] == tag_id)
        if f.required:
            row_ok &= present
        start = amps[here] + 3
        if f.name in _OFFSET:
            values = _windows(data, start, f.length)
            if every_row:
                fields[:, _span(f.name)] = values
                if not f.required:
                    fields[~present, _span(f.name)] = _SPACE
            else:
                fields[rows, _span(f.name)] = np.where(present[:, None], values, _SPACE)
            if f.kind is Kind.CODE:  # a one-letter alias reads as 'C '
                fields[rows[present & (length[here] == 1)], _OFFSET[f.name] + 1] = _SPACE
        elif f.kind is Kind.TEXT and f.required:  # the posting reference: not blank
            row_ok &= _not_blank(_windows(data, start, f.length), length[here])
        at = at + present
    ok[rows] &= row_ok
    return prefix, fields, ok


_LITERAL = {
    f.name: np.frombuffer(f.literal.encode("ascii"), np.uint8)
    for f in _PREFIX.fields
    if f.literal is not None and f.name != "form"
}


def _check(prefix: Bytes, fields: Bytes, ok: Mask, rules: ScreenRules) -> PaymentColumns:
    # Column-major: a check across a value's bytes is then a few passes down whole columns
    # (a row-wise reduction over a few bytes per row is ~20 times slower).
    prefix = np.asfortranarray(prefix)
    fields = np.asfortranarray(fields)
    zero = np.uint8(48)
    p_digit = (prefix - zero) < 10
    ok &= p_digit[:, _prefix("registration_place")].all(axis=1)
    ok &= p_digit[:, _prefix("sequence")].all(axis=1)
    for name, literal in _LITERAL.items():
        ok &= (prefix[:, _prefix(name)] == literal).all(axis=1)
    ok &= prefix[:, _prefix("form").start] == ord(rules.form)
    tt = prefix[:, _prefix("transaction_type")].astype(np.int64)
    tt = tt[:, 0] * 256 + tt[:, 1]
    ok &= (tt == _TYPE_OTHER) | (tt == _TYPE_FORCED)

    values = fields - zero  # digit values where the byte is a digit

    def digits(name: str) -> Mask:
        out: Mask = np.less(values[:, _span(name)], 10).all(axis=1)
        return out

    def blank(name: str) -> Mask:
        out: Mask = (fields[:, _span(name)] == _SPACE).all(axis=1)
        return out

    unit_digits = digits("paying_unit")
    ok &= unit_digits | blank("paying_unit")
    ok &= digits("organisation_type") | blank("organisation_type")
    ok &= digits("payment_ident") & digits("amount") & digits("beneficiary")
    sign = fields[:, _span("sign").start]
    recall = sign == ord("-")
    if rules.recalls:  # a recall must name the payment it recalls
        ok &= (sign == ord("+")) | (recall & values[:, _span("payment_ident")].any(axis=1))
    else:  # each recall is looked up: the exact way
        ok &= sign == ord("+")

    sequence = _number(prefix[:, _prefix("sequence")] - zero)
    amount = _number(values[:, _span("amount")])
    ok &= amount > 0

    # Payment date: blank, or a valid date not older than allowed.
    ymd = _number(values[:, _span("payment_date")])
    year, md = np.divmod(ymd, 10000)
    month, day = np.divmod(md, 100)
    valid = digits("payment_date") & valid_dates(year, month, day)
    ok &= blank("payment_date") | (valid & (ymd >= rules.oldest))
    payment_date = np.where(valid, ymd, 0)

    # Ident code and beneficiary: toekgw.formats.g68.rules.ident_problem, column-wise.
    raw = fields[:, _span("ident_code")].astype(np.int64)
    code = raw[:, 0] * 256 + raw[:, 1]
    for alias, digits_code in _ALIAS.items():
        code = np.where(code == alias, digits_code, code)
    ben = values[:, _span("beneficiary")]
    lead4 = ~ben[:, :4].any(axis=1)
    lead6 = ~ben[:, :6].any(axis=1)
    ident_ok = np.zeros(len(ok), np.bool_)

    cpr = np.flatnonzero(ok & (code == _IDENT["02"]) & lead4)
    if len(cpr):
        part = ben[cpr]
        ident_ok[cpr] = _BIRTH_DATES.valid(
            _number(part[:, 4:10]), part[:, 10].astype(np.int64), rules.today
        )
    organisation = ok & ((code == _IDENT["11"]) | (code == _IDENT["03"])) & lead6
    checksum = (ben[:, 6:14].astype(np.int64) @ _CVR_WEIGHTS) % 11
    ident_ok |= organisation & (ben[:, 6] != 0) & (checksum == 0)
    unit = np.where(unit_digits, _number(values[:, _span("paying_unit")]), -1)
    dagpenge = np.isin(unit, rules.dagpenge)
    ident_ok |= (code == _IDENT["12"]) & lead4 & ~dagpenge
    ident_ok |= (code == _IDENT["01"]) & ~lead4 & ben[:, 4:14].any(axis=1)
    ok &= ident_ok
    ok &= (tt == _TYPE_OTHER) | (code == _IDENT["01"])
    return PaymentColumns(ok, fields, prefix, sequence, amount, recall, payment_date)
