"""G68 records <-> text lines, in both forms. Pure: no I/O.

Each form has a fast path (one compiled regular expression per record, straight into a
:class:`G68Payment`) and a slow path that checks every field and tag on its own and collects
every finding with its columns. Writing pads, aligns and refuses what does not fit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any, Protocol

from toekgw.formats.findings import Finding, Severity, mask_cpr
from toekgw.formats.fixed import EncodeError, Field, Kind
from toekgw.formats.g68.layouts import (
    CODE_PREFIX,
    FORBIDDEN_TEXT,
    FORM_FAST,
    FORM_FLOATING,
    G68_FAST,
    G68_FLOATING_PREFIX,
    G68_TAG_FIELDS,
    IDENT_ALIASES,
    MAX_TEXT_LINES,
    TAGS,
    TEXT_TAG_FIRST,
    codecs,
)
from toekgw.formats.g68.records import G68Delivery, G68Form, G68Header, G68Payment, G68Trailer

__all__ = [
    "FAST",
    "FLOATING",
    "G68DecodeError",
    "PaymentCodec",
    "PaymentValues",
    "decode_delivery",
    "decode_header",
    "decode_trailer",
    "encode_delivery",
    "encode_header",
    "encode_trailer",
    "payment_codec",
]

# The payment's fields in constructor order (``texts`` comes last, from the text tags).
PAYMENT_FIELDS = (
    "registration_place",
    "sequence",
    "transaction_type",
    "paying_unit",
    "organisation_type",
    "payment_ident",
    "amount",
    "sign",
    "ident_code",
    "beneficiary",
    "payment_date",
    "posting_reference",
)
_TAG_OF = {f.name: tag for tag, f in TAGS.items()}
_FIXED_TAGS = tuple(tag for tag in TAGS if tag < TEXT_TAG_FIRST)
_LAST_TEXT_TAG = TEXT_TAG_FIRST + MAX_TEXT_LINES - 1


class G68DecodeError(ValueError):
    """A delivery read strictly (:func:`decode_delivery`) is not valid; carries the findings."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        first = findings[0]
        super().__init__(f"{len(findings)} finding(s); first: line {first.line}: {first.message}")


def _finding(
    what: str,
    message: str,
    lineno: int,
    columns: tuple[int, int] | None,
    field: str | None = None,
    expected: str | None = None,
    found: str | None = None,
) -> Finding:
    return Finding(
        code=f"{CODE_PREFIX}.{what}",
        severity=Severity.ERROR,
        message=message,
        line=lineno,
        columns=columns,
        field=field,
        expected=expected,
        found=found,
    )


def _texts(values: Iterable[str | None]) -> tuple[str, ...]:
    out = ["" if v is None else v for v in values]
    while out and not out[-1]:
        out.pop()
    return tuple(out)


def _payment(values: dict[str, Any]) -> G68Payment:
    code = values["ident_code"]
    return G68Payment(
        values["registration_place"],
        values["sequence"],
        values["transaction_type"],
        values["paying_unit"],
        values["organisation_type"],
        values["payment_ident"],
        values["amount"],
        values["sign"],
        IDENT_ALIASES.get(code, code),
        values["beneficiary"],
        values["payment_date"],
        values["posting_reference"],
        _texts(values.get(f"text_{i + 1:02d}") for i in range(MAX_TEXT_LINES)),
    )


class PaymentCodec(Protocol):
    """What both forms offer; :func:`payment_codec` picks one."""

    form: G68Form

    def decode(self, line: str) -> G68Payment | None:
        """The payment of a valid record; ``None`` if anything is off (then diagnose)."""

    def diagnose(
        self, line: str, lineno: int
    ) -> tuple[G68Payment | None, dict[str, Any], list[Finding]]:
        """Every finding of the record, the fields that could be read, and the payment when
        there was nothing to find."""

    def locate(self, line: str, field: str) -> tuple[int, int] | None:
        """The columns of ``field`` in ``line`` (for findings of the rules)."""

    def encode(self, payment: G68Payment) -> str: ...


# --- fast form ---------------------------------------------------------------------------

#: A payment's fields as a tuple, in :class:`G68Payment`'s order (its constructor's arguments).
PaymentValues = tuple[
    str, int, str, str | None, str | None, str, int, str, str, str, dt.date | None, str,
    tuple[str, ...],
]  # fmt: skip


def _fast_texts(t1: str | None, t2: str | None) -> tuple[str, ...]:
    """The fast record's two text lines as the payment's texts (a blank first line before a
    second is ``""``)."""
    if t2 is not None:
        return ("" if t1 is None else t1, t2)
    return () if t1 is None else (t1,)


class FastCodec:
    form = G68Form.FAST

    def __init__(self) -> None:
        self._codec = codecs.fast
        assert self._codec.names[: len(PAYMENT_FIELDS)] == PAYMENT_FIELDS
        aliases = IDENT_ALIASES

        def values(
            rp: str, seq: int, tt: str, unit: str | None, otype: str | None, ident: str,
            amount: int, sign: str, code: str, ben: str, date: dt.date | None, ref: str,
            t1: str | None, t2: str | None,
        ) -> PaymentValues:  # fmt: skip
            code = aliases.get(code, code)
            texts = _fast_texts(t1, t2)
            return rp, seq, tt, unit, otype, ident, amount, sign, code, ben, date, ref, texts

        def build(*fields: Any) -> G68Payment:
            return G68Payment(*values(*fields))

        self.decode: Callable[[str], G68Payment | None] = self._codec.decoder(build)
        """The payment of a valid record; ``None`` if anything is off (then diagnose)."""
        self.values_of_matching: Callable[[str], PaymentValues | None] = self._codec.cut_decoder(
            values
        )
        """The payment's values of a record known to match the fast form's pattern (one
        :attr:`decode` read before, or one the column screen passed): in :class:`G68Payment`'s
        field order, each cut at its position and converted as :attr:`decode` converts it,
        without matching the pattern again, and no :class:`G68Payment` made (for a second
        pass over many records). The pattern's fields have fixed widths, so a record it
        matches has its values at those positions. Not a check: of any other record the
        values are undefined (a property test holds that the column screen's clean rows
        match the pattern; nothing holds it of every record :meth:`diagnose` takes)."""

    def diagnose(
        self, line: str, lineno: int
    ) -> tuple[G68Payment | None, dict[str, Any], list[Finding]]:
        values, findings = self._codec.decode_checked(line, lineno)
        named = dict(zip(self._codec.names, values, strict=True))
        if findings:
            return None, named, findings
        return _payment(named), named, []

    def locate(self, line: str, field: str) -> tuple[int, int] | None:
        f = G68_FAST.by_name.get(field)
        return f.columns if f else None

    def encode(self, payment: G68Payment) -> str:
        p = payment
        if len(p.texts) > 2:
            raise EncodeError(
                G68_FAST.key, "texts", f"the fast form holds 2 text lines, got {len(p.texts)}"
            )
        t1 = p.texts[0] if p.texts else None
        t2 = p.texts[1] if len(p.texts) > 1 else None
        return self._codec.encode(
            (
                p.registration_place,
                p.sequence,
                p.transaction_type,
                p.paying_unit,
                p.organisation_type,
                p.payment_ident,
                p.amount,
                p.sign,
                p.ident_code,
                p.beneficiary,
                p.payment_date,
                p.posting_reference,
                t1 or None,
                t2 or None,
            )
        )


# --- floating form -----------------------------------------------------------------------

_BANNED = "".join(chr(c) for c in range(32)) + "\x7f" + FORBIDDEN_TEXT
_TEXT_CHAR = "[^" + "".join(re.escape(c) for c in _BANNED) + "]"


def _value_pattern(f: Field) -> str:
    """The regex of one tag value: exact width for numbers and dates, up to width for text."""
    n = f.length
    if f.kind in (Kind.DIGITS, Kind.NUMBER, Kind.AMOUNT, Kind.DATE, Kind.TIME):
        return f"[0-9]{{{n}}}"
    if f.kind is Kind.SIGN:
        return "[+-]"
    if f.kind is Kind.CODE:
        assert f.codes is not None
        return "|".join(re.escape(c) for c in sorted(f.codes, key=lambda c: (-len(c), c)))
    if f.kind is Kind.LITERAL:
        assert f.literal is not None
        return re.escape(f.literal)
    return f"{_TEXT_CHAR}{{{1 if f.required else 0},{n}}}"


def _value_converter(f: Field) -> Callable[[str], Any]:
    if f.kind is Kind.DIGITS or f.kind is Kind.SIGN:
        return str
    if f.kind in (Kind.NUMBER, Kind.AMOUNT):
        return int
    if f.kind is Kind.DATE:
        return dt.date.fromisoformat
    if f.kind is Kind.CODE:
        aliases = IDENT_ALIASES
        return lambda v: aliases.get(v, v)
    if f.required:

        def required_text(v: str) -> str:
            v = v.rstrip()
            if not v:
                raise ValueError
            return v

        return required_text
    return str.rstrip


def _floating_regex() -> re.Pattern[str]:
    parts = []
    for f in G68_FLOATING_PREFIX.fields:
        pat = _value_pattern(f)
        parts.append(pat if f.kind is Kind.LITERAL else f"({pat})")
    for tag in _FIXED_TAGS:
        f = TAGS[tag]
        item = f"&{tag:02d}({_value_pattern(f)})"
        parts.append(item if f.required else f"(?:{item})?")
    # The text tags as one group: their order is checked when they are split.
    text_ids = "|".join(f"{t:02d}" for t in range(TEXT_TAG_FIRST, _LAST_TEXT_TAG + 1))
    parts.append(f"((?:&(?:{text_ids}){_TEXT_CHAR}{{0,81}})*)")
    return re.compile("".join(parts), re.DOTALL)


def _texts_of(tail: str) -> tuple[str, ...]:
    """The text lines of the tagged tail (usually one ``&40`` line, or none)."""
    if not tail:
        return ()
    if tail[:3] == "&40" and tail.find("&", 3) < 0:
        text = tail[3:].rstrip()
        return (text,) if text else ()
    return _split_texts(tail)


def _split_texts(tail: str) -> tuple[str, ...]:
    """Text tags (known to be well-formed) into lines; ``ValueError`` if not ascending."""
    texts: list[str] = []
    previous = TEXT_TAG_FIRST - 1
    for part in tail.split("&")[1:]:
        tag = int(part[:2])
        if tag <= previous:
            raise ValueError
        texts.extend([""] * (tag - previous - 1))
        texts.append(part[2:].rstrip())
        previous = tag
    while texts and not texts[-1]:
        texts.pop()
    return tuple(texts)


class _Tag:
    """One ``&NN value`` of a floating record, with its 1-based columns."""

    __slots__ = ("column", "raw", "tag", "value")

    def __init__(self, raw: str, column: int) -> None:
        self.raw = raw  # without the '&'
        self.column = column  # column of the '&'
        head = raw[:2]
        # isascii: '²' is a digit to isdigit() but not to int()
        self.tag = int(head) if len(head) == 2 and head.isdigit() and head.isascii() else None
        self.value = raw[2:]

    @property
    def value_columns(self) -> tuple[int, int]:
        start = self.column + 3
        return (start, max(start, start + len(self.value) - 1))

    @property
    def columns(self) -> tuple[int, int]:
        return (self.column, self.column + len(self.raw))


def _tags(line: str) -> Iterator[_Tag]:
    tail = line[G68_FLOATING_PREFIX.length :]
    column = G68_FLOATING_PREFIX.length + 1
    if not tail:
        return
    pieces = tail.split("&")
    if pieces[0]:
        # Characters between the prefix and the first tag: a tag without its '&'.
        yield _Tag("\0" + pieces[0], column - 1)
    column += len(pieces[0])
    for piece in pieces[1:]:
        yield _Tag(piece, column)
        column += len(piece) + 1


class FloatingCodec:
    form = G68Form.FLOATING

    def __init__(self) -> None:
        self._regex = _floating_regex()
        self._fullmatch = self._regex.fullmatch
        self._prefix = codecs.floating_prefix
        self._tags = codecs.tags
        self._aliases = IDENT_ALIASES
        self._fromiso = dt.date.fromisoformat

    def decode(self, line: str) -> G68Payment | None:
        m = self._fullmatch(line)
        if m is None:
            return None
        rp, seq, tt, unit, otype, ident, amount, sign, code, ben, date, ref, tail = m.groups()
        try:
            ref = ref.rstrip()
            if not ref:
                return None
            return G68Payment(
                rp,
                int(seq),
                tt,
                unit,
                otype,
                ident,
                int(amount),
                sign,
                self._aliases.get(code, code),
                ben,
                None if date is None else self._fromiso(date),
                ref,
                _texts_of(tail),
            )
        except ValueError:
            return None

    def diagnose(
        self, line: str, lineno: int
    ) -> tuple[G68Payment | None, dict[str, Any], list[Finding]]:
        values: dict[str, Any] = dict.fromkeys(PAYMENT_FIELDS)
        findings = self._read_prefix(line, lineno, values)
        seen = self._read_tags(line, lineno, values, findings)
        findings.extend(_missing_tags(seen, line, lineno))
        if values["ident_code"] is not None:
            values["ident_code"] = self._aliases.get(values["ident_code"], values["ident_code"])
        if findings:
            return None, values, findings
        return _payment(values), values, []

    def _read_prefix(self, line: str, lineno: int, values: dict[str, Any]) -> list[Finding]:
        """The fixed prefix's values into ``values``; its findings."""
        prefix_len = G68_FLOATING_PREFIX.length
        prefix_values, findings = self._prefix.decode_checked(line[:prefix_len], lineno)
        if len(line) < prefix_len:
            findings = [
                replace(f, code=f"{CODE_PREFIX}.record.length", expected=f"at least {prefix_len}")
                if f.code.endswith(".record.length")
                else f
                for f in findings
            ]
        values.update(zip(self._prefix.names, prefix_values, strict=True))
        return list(findings)

    def _read_tags(
        self, line: str, lineno: int, values: dict[str, Any], findings: list[Finding]
    ) -> dict[int, _Tag]:
        """Each tag's value into ``values`` and its findings onto ``findings``: a tag that is
        malformed, unknown or repeated is skipped; one out of order is read all the same. The
        tags read, by field id."""
        seen: dict[int, _Tag] = {}
        last = 0
        for t in _tags(line):
            f = None if t.tag is None else TAGS.get(t.tag)
            if t.tag is None or f is None or t.tag in seen:
                findings.append(_unusable_tag(t, f, lineno))
                continue
            seen[t.tag] = t
            if t.tag < last:
                findings.append(
                    _finding(
                        "tag.order",
                        f"{f.name}: field id {t.tag:02d} comes after {last:02d}",
                        lineno,
                        t.columns,
                        field=f.name,
                        expected="field ids in ascending order",
                        found=f"&{t.tag:02d} after &{last:02d}",
                    )
                )
            last = max(last, t.tag)
            value, finding = self._check_tag(f, t, lineno)
            if finding is not None:
                findings.append(finding)
            values[f.name] = value
        return seen

    def _check_tag(self, f: Field, t: _Tag, lineno: int) -> tuple[Any, Finding | None]:
        raw = t.value
        exact = f.kind is not Kind.TEXT
        if f.kind is Kind.CODE and raw in IDENT_ALIASES:
            raw = raw.ljust(f.length)
        if (exact and len(raw) != f.length) or len(raw) > f.length:
            shown = mask_cpr(raw) if f.personal and raw.strip() else raw
            want = f"{f.length} characters" if exact else f"at most {f.length} characters"
            return None, _finding(
                "tag.width",
                f"{f.name}: field id {t.tag:02d} holds {len(raw)} characters, expected "
                + want.replace(" characters", ""),
                lineno,
                t.value_columns,
                field=f.name,
                expected=want,
                found=shown,
            )
        value, finding = self._tags.check_value(f, raw.ljust(f.length), lineno)
        if finding is not None:
            shown = mask_cpr(raw) if f.personal and raw.strip() else t.value
            return None, replace(finding, columns=t.value_columns, found=shown)
        if f.kind is Kind.TEXT and value is None:
            value = ""  # an optional text tag present but blank
        return value, None

    def locate(self, line: str, field: str) -> tuple[int, int] | None:
        prefix = G68_FLOATING_PREFIX.by_name.get(field)
        if prefix is not None:
            return prefix.columns
        tag = _TAG_OF.get(field)
        for t in _tags(line):
            if t.tag == tag:
                return t.value_columns
        return None

    def encode(self, payment: G68Payment) -> str:
        p = payment
        if len(p.texts) > MAX_TEXT_LINES:
            raise EncodeError(
                G68_TAG_FIELDS.key,
                "texts",
                f"at most {MAX_TEXT_LINES} text lines, got {len(p.texts)}",
            )
        head = self._prefix.encode((p.registration_place, p.sequence, p.transaction_type))
        given = [
            p.paying_unit,
            p.organisation_type,
            p.payment_ident,
            p.amount,
            p.sign,
            p.ident_code,
            p.beneficiary,
            p.payment_date,
            p.posting_reference,
            *(t or None for t in p.texts),
        ]
        out = [head]
        encode = self._tags.encode_field
        for (tag, f), value in zip(TAGS.items(), given, strict=False):
            if value is None:
                if f.required:
                    raise EncodeError(G68_TAG_FIELDS.key, f.name, "is required")
                continue
            # Each value is checked and padded as its field; text is written unpadded.
            text = encode(f.name, value)
            out.append(f"&{tag:02d}{text.rstrip() if f.kind is Kind.TEXT else text}")
        return "".join(out)


FAST = FastCodec()
FLOATING = FloatingCodec()


def _unusable_tag(t: _Tag, f: Field | None, lineno: int) -> Finding:
    """The finding of a tag not read: malformed, of an unknown field id, or repeated."""
    if t.tag is None:
        return _finding(
            "tag.malformed",
            "expected '&' followed by a two-digit field id",
            lineno,
            t.columns,
            expected="&NN",
            found=t.raw.lstrip("\0")[:10],
        )
    if f is None:
        return _finding(
            "tag.unknown",
            f"unknown field id {t.tag:02d}",
            lineno,
            t.columns,
            expected="a field id of the G68 tag table",
            found=f"&{t.raw[:2]}",
        )
    return _finding(
        "tag.repeated",
        f"{f.name}: field id {t.tag:02d} appears more than once",
        lineno,
        t.columns,
        field=f.name,
        expected="each field id once",
        found=f"&{t.tag:02d} again",
    )


def _missing_tags(seen: dict[int, _Tag], line: str, lineno: int) -> list[Finding]:
    """A finding per required field id not read, at the column of the next tag read."""
    findings = []
    for tag, f in TAGS.items():
        if f.required and tag not in seen:
            column = next((t.column for k, t in sorted(seen.items()) if k > tag), len(line) + 1)
            findings.append(
                _finding(
                    "tag.missing",
                    f"{f.name}: required field id {tag:02d} is missing",
                    lineno,
                    (column, column),
                    field=f.name,
                    expected=f"&{tag:02d}",
                    found="nothing",
                )
            )
    return findings


def payment_codec(form: G68Form | str) -> FastCodec | FloatingCodec:
    return FAST if G68Form(form) is G68Form.FAST else FLOATING


# --- Z300 and SLUTD -----------------------------------------------------------------------


def _form_key(form: G68Form | str) -> str:
    return FORM_FAST if G68Form(form) is G68Form.FAST else FORM_FLOATING


def decode_header(
    line: str, form: G68Form | str, lineno: int = 1
) -> tuple[G68Header | None, list[Finding]]:
    codec = codecs.z300[_form_key(form)]
    values, findings = codec.decode_checked(line, lineno)
    if findings:
        return None, findings
    supplier, date, time, number, form_code = values
    return G68Header(supplier, date, time, number, G68Form(form_code)), []


def decode_trailer(
    line: str, form: G68Form | str, lineno: int
) -> tuple[G68Trailer | None, list[Finding]]:
    codec = codecs.slutd[_form_key(form)]
    values, findings = codec.decode_checked(line, lineno)
    if findings:
        return None, findings
    supplier, count, net, sign = values
    return G68Trailer(supplier, count, -net if sign == "-" else net), []


def encode_header(header: G68Header) -> str:
    h = header
    return codecs.z300[_form_key(h.form)].encode(
        (h.supplier_id, h.created_date, h.created_time, h.delivery_number, h.form.value)
    )


def encode_trailer(trailer: G68Trailer, form: G68Form | str) -> str:
    t = trailer
    return codecs.slutd[_form_key(form)].encode(
        (t.supplier_id, t.count, abs(t.net_sum), "-" if t.net_sum < 0 else "+")
    )


def encode_delivery(delivery: G68Delivery) -> Iterator[str]:
    """The lines of a delivery (without line ends); the trailer is computed if not given."""
    form = delivery.header.form
    codec = payment_codec(form)
    yield encode_header(delivery.header)
    for p in delivery.payments:
        yield codec.encode(p)
    yield encode_trailer(delivery.trailer or delivery.control_trailer(), form)


def decode_delivery(lines: Iterable[str]) -> G68Delivery:
    """A whole delivery, strictly: structure and every record's layout (not the rules).

    For small deliveries and tests; a receiver streams with ``toekgw.adapters.g68`` instead.
    Raises :class:`G68DecodeError` with every layout finding.
    """
    items = list(lines)
    findings: list[Finding] = []
    if not items or not items[0].startswith("Z300"):
        raise G68DecodeError([_finding("structure.no_header", "no Z300 start record", 1, None)])
    form = G68Form.FAST if len(items[0]) == G68_FAST.length else G68Form.FLOATING
    header, found = decode_header(items[0], form)
    findings.extend(found)
    if header is not None:
        form = header.form
    if len(items) < 2 or not items[-1].startswith("SLUTD"):
        findings.append(
            _finding("structure.no_trailer", "no SLUTD end record", len(items) + 1, None)
        )
        raise G68DecodeError(findings)
    trailer, found = decode_trailer(items[-1], form, len(items))
    findings.extend(found)
    codec = payment_codec(form)
    payments = []
    for lineno, line in enumerate(items[1:-1], start=2):
        p = codec.decode(line)
        if p is None:
            p, _values, found = codec.diagnose(line, lineno)
            findings.extend(found)
        if p is not None:
            payments.append(p)
    if findings or header is None:
        raise G68DecodeError(findings)
    return G68Delivery(header, payments, trailer)
