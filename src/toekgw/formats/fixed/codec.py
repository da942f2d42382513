"""A layout compiled into a fast decoder and a strict encoder.

Decoding has two paths. The fast path is one compiled regular expression per record type plus
a generated tuple constructor: the overwhelmingly common valid record costs one ``fullmatch``
and a few conversions. Only when that fails does the slow path walk the fields one by one and
collect *every* finding of the record, with columns, expected and found values.

Encoding pads and aligns, and refuses (never truncates) a value that does not fit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from toekgw.formats.findings import Finding, Severity, mask_cpr
from toekgw.formats.fixed.layout import Align, Field, Kind, Layout

__all__ = ["EncodeError", "RecordCodec", "compile_layout"]

T = TypeVar("T")

# Control characters never belong in a text field of a fixed record.
_CONTROL = "".join(chr(c) for c in range(32)) + "\x7f"


class EncodeError(ValueError):
    """A value cannot be written into its field. Names the record type and field."""

    def __init__(self, layout: str, field: str, reason: str) -> None:
        self.layout = layout
        self.field = field
        self.reason = reason
        super().__init__(f"{layout}.{field}: {reason}")


def _text_class(f: Field) -> str:
    banned = _CONTROL + f.forbidden
    return "[^" + "".join(re.escape(c) for c in banned) + "]"


def _field_pattern(f: Field) -> str:
    n = f.length
    if f.kind is Kind.LITERAL:
        assert f.literal is not None
        return f"(?:{re.escape(f.literal)})"
    if f.kind is Kind.FILLER:
        return f"(?:{re.escape(f.padding)}{{{n}}})"
    if f.kind in (Kind.DIGITS, Kind.NUMBER, Kind.AMOUNT, Kind.DATE, Kind.TIME):
        if (f.alignment is Align.RIGHT and f.padding == "0") or f.kind in (Kind.DATE, Kind.TIME):
            core = f"[0-9]{{{n}}}"
        else:
            core = f"[0-9{re.escape(f.padding)}]{{{n}}}"  # checked in the converter
    elif f.kind is Kind.SIGN:
        core = "[+ -]" if f.blank_sign else "[+-]"
    elif f.kind is Kind.CODE:
        assert f.codes is not None
        padded = sorted(_pad(f, c) for c in f.codes)
        core = "(?:" + "|".join(re.escape(c) for c in padded) + ")"
    else:
        core = f"{_text_class(f)}{{{n}}}"
    if not f.required and f.kind is not Kind.TEXT:
        core = f"(?:{core}| {{{n}}})"
    return f"({core})"


def _pad(f: Field, text: str) -> str:
    if f.alignment is Align.RIGHT:
        return text.rjust(f.length, f.padding)
    return text.ljust(f.length, f.padding)


def _blank(f: Field, raw: str) -> bool:
    """Whether a field holds no value. A layout pads with spaces: a number, date or code
    field is blank only when it is all spaces (a no-break space or a control character there
    is a wrong character, not padding); a text is blank when it is whitespace (as its value
    is read: ``rstrip()``), but not when it holds a control character, which the text rule
    refuses."""
    if f.kind is Kind.TEXT:
        return raw.strip() == "" and not any(c in _CONTROL for c in raw)
    return raw.strip(" ") == ""


def _unpad(f: Field, raw: str) -> str:
    if f.alignment is Align.RIGHT:
        return raw.lstrip(f.padding) if f.kind is Kind.TEXT else raw
    return raw.rstrip(f.padding)


# --- conversions: raw slice -> value; ValueError means "not valid, diagnose" ---------------


def _converter(f: Field) -> Callable[[str], Any]:
    kind = f.kind
    pad = f.padding
    if kind is Kind.DIGITS:
        if f.alignment is Align.RIGHT and pad == "0":
            conv: Callable[[str], Any] = str
        else:

            def conv(raw: str) -> str:
                v = _unpad(f, raw)
                if not v.isdigit():
                    raise ValueError
                return v

    elif kind is Kind.AMOUNT and f.scale != 1:
        scale = f.scale

        def conv(raw: str) -> int:
            v = _unpad(f, raw)
            if not v.isdigit():
                raise ValueError
            whole, rest = divmod(int(v), scale)
            if rest:
                raise ValueError  # more precise than whole øre
            return whole

    elif kind in (Kind.NUMBER, Kind.AMOUNT):
        if f.alignment is Align.RIGHT and pad == "0":
            conv = int
        else:

            def conv(raw: str) -> int:
                v = _unpad(f, raw)
                if not v.isdigit():
                    raise ValueError
                return int(v)

    elif kind is Kind.DATE:
        conv = dt.date.fromisoformat
    elif kind is Kind.TIME:
        conv = dt.time.fromisoformat
    elif kind is Kind.SIGN:
        blank = f.blank_sign

        def conv(raw: str) -> str:
            if raw == " ":
                if blank is None:
                    raise ValueError
                return blank
            return raw

    elif kind is Kind.CODE:

        def conv(raw: str) -> str:
            return _unpad(f, raw)

    else:  # TEXT
        if f.alignment is Align.LEFT and pad == " ":

            def conv(raw: str) -> str:
                return raw.rstrip()

        else:

            def conv(raw: str) -> str:
                return _unpad(f, raw)

    if f.required:
        if kind is Kind.TEXT:
            text_conv = conv

            def required_text(raw: str) -> str:
                v: str = text_conv(raw)
                if not v:
                    raise ValueError
                return v

            return required_text
        return conv

    inner = conv
    blank = " " * f.length

    def optional(raw: str) -> Any:
        if raw == blank:
            return None
        if kind is Kind.TEXT:
            v = inner(raw)
            return v or None
        return inner(raw)

    return optional


def _required(text: str) -> str:
    if not text:
        raise ValueError
    return text


def _inline(f: Field, i: int, namespace: dict[str, Any]) -> str:
    """The expression that converts group ``g<i>`` in the generated decoder.

    The common kinds are written out inline (a function call per field is a large share of a
    decode); anything else calls the field's converter ``c<i>``. Same results either way.
    """
    g = f"g{i}"
    kind = f.kind
    zero_right = f.alignment is Align.RIGHT and f.padding == "0"
    if kind is Kind.DIGITS and zero_right:
        expr = g
    elif kind in (Kind.NUMBER, Kind.AMOUNT) and zero_right and f.scale == 1:
        expr = f"int({g})"
    elif kind is Kind.DATE:
        expr = f"fromiso({g})"
    elif kind is Kind.SIGN and f.blank_sign is None:
        expr = g
    elif kind is Kind.CODE and f.alignment is Align.LEFT:
        expr = f"{g}.rstrip({f.padding!r})"
    elif kind is Kind.CODE:
        expr = f"{g}.lstrip({f.padding!r})"
    elif kind is Kind.TEXT and f.alignment is Align.LEFT and f.padding == " ":
        if f.required:
            return f"required({g}.rstrip())"
        return f"({g}.rstrip() or None)"
    else:
        return f"c{i}({g})"
    if f.required:
        return expr
    namespace[f"b{i}"] = " " * f.length
    return f"(None if {g} == b{i} else {expr})"


class RecordCodec:
    """The compiled form of one :class:`Layout`."""

    def __init__(self, layout: Layout, code_prefix: str) -> None:
        self.layout = layout
        self.code_prefix = code_prefix
        self.fields = layout.value_fields
        self.names = tuple(f.name for f in self.fields)
        self._regex = re.compile("".join(_field_pattern(f) for f in layout.fields), re.DOTALL)
        self._converters = tuple(_converter(f) for f in self.fields)
        self._fast: Callable[[str], tuple[Any, ...] | None] = self._generate_fast_decoder()
        self._formatters = tuple(self._formatter(f) for f in layout.fields)
        self._fast_encode = self._generate_fast_encoder()
        self._formatter_by_name = {
            f.name: fmt for f, fmt in zip(layout.fields, self._formatters, strict=True)
        }

    # -- decoding -----------------------------------------------------------------------

    def _generate_fast_decoder(
        self, factory: Callable[..., Any] | None = None, *, checked: bool = True
    ) -> Callable[[str], Any]:
        # One generated function per layout: a fullmatch, then each group through its
        # converter, straight into a tuple (or the factory). Cheaper than any loop over the
        # fields. Not ``checked``: each value cut at its position instead (no pattern).
        n = len(self.fields)
        args = ", ".join(f"g{i}" for i in range(n))
        namespace: dict[str, Any] = {f"c{i}": c for i, c in enumerate(self._converters)}
        namespace["fullmatch"] = self._regex.fullmatch
        namespace["fromiso"] = dt.date.fromisoformat
        namespace["required"] = _required
        namespace["factory"] = factory
        body = ", ".join(_inline(f, i, namespace) for i, f in enumerate(self.fields))
        build = f"({body},)" if factory is None else f"factory({body})"
        if n == 0:
            empty = "()" if factory is None else "factory()"
            src = f"def fast(line):\n    return {empty} if fullmatch(line) is not None else None\n"
        else:
            unpack = f"{args}," if n == 1 else args
            src = (
                "def fast(line):\n"
                + (
                    "    m = fullmatch(line)\n"
                    "    if m is None:\n"
                    "        return None\n"
                    f"    {unpack} = m.groups()\n"
                    if checked
                    else f"    {unpack} = {self._cuts()}\n"
                )
                + "    try:\n"
                f"        return {build}\n"
                "    except ValueError:\n"
                "        return None\n"
            )
        name = f"<fixed:{self.layout.key}{'' if checked else ':cut'}>"
        exec(compile(src, name, "exec"), namespace)  # noqa: S102
        fast: Callable[[str], Any] = namespace["fast"]
        return fast

    def decoder(self, factory: Callable[..., T]) -> Callable[[str], T | None]:
        """A fast-path decoder that builds ``factory(*values)`` (values in ``names`` order)
        instead of a tuple: a typed record without the intermediate tuple. ``None`` when the
        record is not valid, or when ``factory`` raises ``ValueError``."""
        fast: Callable[[str], T | None] = self._generate_fast_decoder(factory)
        return fast

    def cut_decoder(self, factory: Callable[..., T]) -> Callable[[str], T | None]:
        """:meth:`decoder` for a record already known to match the record's pattern (matched
        before, or checked as strictly column-wise): each value cut at its position and
        converted as :meth:`decoder` converts it, without matching the pattern. Every field of
        the pattern has a fixed width, so a record it matches holds its values at those
        positions. Not a check: of any other record the values are undefined (``None`` only
        where a conversion fails), even of one :meth:`diagnose` finds nothing in."""
        cut: Callable[[str], T | None] = self._generate_fast_decoder(factory, checked=False)
        return cut

    def _cuts(self) -> str:
        """The value fields' slices of ``line``, as the generated decoder's source."""
        return "".join(f"line[{f.start - 1}:{f.end}], " for f in self.fields)

    def decode(self, line: str) -> tuple[Any, ...] | None:
        """The values of a valid record, in ``names`` order; ``None`` if anything is off."""
        return self._fast(line)

    def decode_checked(self, line: str, lineno: int) -> tuple[tuple[Any, ...], list[Finding]]:
        """Values (``None`` where a field is bad) and every finding of the record."""
        values = self._fast(line)
        if values is not None:
            return values, []
        return self.diagnose(line, lineno)

    def _finding(
        self,
        f: Field | None,
        what: str,
        message: str,
        lineno: int,
        columns: tuple[int, int] | None,
        expected: str | None,
        found: str | None,
        severity: Severity = Severity.ERROR,
    ) -> Finding:
        return Finding(
            code=f"{self.code_prefix}.{what}",
            severity=severity,
            message=message,
            line=lineno,
            columns=columns,
            field=f.name if f else None,
            expected=expected,
            found=found,
        )

    def diagnose(self, line: str, lineno: int) -> tuple[tuple[Any, ...], list[Finding]]:
        """The slow path: check every field on its own and collect every finding."""
        layout = self.layout
        findings: list[Finding] = []
        if len(line) != layout.length:
            findings.append(
                self._finding(
                    None,
                    "record.length",
                    f"record {layout.key} is {len(line)} characters long, "
                    f"expected {layout.length}"
                    + (" (truncated?)" if len(line) < layout.length else ""),
                    lineno,
                    (min(len(line), layout.length) + 1, max(len(line), layout.length)),
                    str(layout.length),
                    str(len(line)),
                )
            )
        values: list[Any] = []
        for f in layout.fields:
            if f.start - 1 >= len(line):
                # Past the end of a truncated line: the length finding says it all.
                if f.carries_value:
                    values.append(None)
                continue
            raw = line[f.start - 1 : f.end]
            value, finding = self._check_field(f, raw, lineno)
            if finding is not None:
                findings.append(finding)
            if f.carries_value:
                values.append(value)
        return tuple(values), findings

    def check_value(self, f: Field, raw: str, lineno: int) -> tuple[Any, Finding | None]:
        """Check one raw field value (public so tagged formats can reuse the field rules)."""
        return self._check_field(f, raw, lineno)

    def _check_field(self, f: Field, raw: str, lineno: int) -> tuple[Any, Finding | None]:
        shown = mask_cpr(raw) if f.personal and raw.strip() else raw
        cols = (f.start, f.start + len(raw) - 1) if raw else f.columns

        def bad(what: str, expected: str, message: str) -> tuple[None, Finding]:
            return None, self._finding(
                f, what, f"{f.name}: {message}", lineno, cols, expected, shown
            )

        if len(raw) < f.length:
            # A field cut short by a truncated line: the length finding already says so.
            return None, None
        if f.kind is Kind.LITERAL:
            if raw != f.literal:
                return bad("field.literal", repr(f.literal), f"expected the literal {f.literal!r}")
            return None, None
        if f.kind is Kind.FILLER:
            if raw.strip(f.padding) != "":
                return bad(
                    "field.filler", f"{f.length} × {f.padding!r}", "filler holds other characters"
                )
            return None, None
        if _blank(f, raw) and not (f.kind is Kind.SIGN and f.blank_sign):
            if f.required:
                return bad("field.required", f"a {f.kind.value} value", "required field is blank")
            return None, None
        if f.kind is Kind.TEXT:
            banned = sorted({c for c in raw if c in _CONTROL or c in f.forbidden})
            if banned:
                listed = ", ".join(repr(c) for c in banned)
                return bad(
                    "field.chars",
                    f"no {listed}",
                    f"forbidden character {listed}",
                )
        if f.kind in (Kind.DIGITS, Kind.NUMBER, Kind.AMOUNT):
            core = _unpad(f, raw) if not (f.alignment is Align.RIGHT and f.padding == "0") else raw
            if not (core.isdigit() and core.isascii()) or len(raw) != f.length:
                return bad("field.digits", f"{f.length} digits", "expected digits only")
            if f.kind is Kind.AMOUNT and int(core) % f.scale:
                zeros = len(str(f.scale)) - 1
                return bad(
                    "field.precision",
                    f"whole øre (the last {zeros} digits 0)",
                    "more precise than whole øre",
                )
        if f.kind in (Kind.DATE, Kind.TIME):
            fmt = "YYYYMMDD" if f.kind is Kind.DATE else "HHMMSS"
            if not (raw.isdigit() and raw.isascii()) or len(raw) != f.length:
                return bad(f"field.{f.kind.value}", fmt, f"expected a {f.kind.value} {fmt}")
        if f.kind is Kind.SIGN and raw not in ("+", "-") and not (raw == " " and f.blank_sign):
            return bad("field.sign", "'+' or '-'", "expected a sign + or -")
        if f.kind is Kind.CODE:
            assert f.codes is not None
            if _unpad(f, raw) not in f.codes:
                allowed = ", ".join(sorted(f.codes))
                return bad("field.code", f"one of {allowed}", "not an allowed code")
        try:
            value = self._converters[self.fields.index(f)](raw)
        except ValueError:
            if f.kind in (Kind.DATE, Kind.TIME):
                return bad(
                    f"field.{f.kind.value}",
                    "a valid calendar date" if f.kind is Kind.DATE else "a valid time",
                    f"not a valid {f.kind.value}",
                )
            return bad(f"field.{f.kind.value}", f"a valid {f.kind.value}", "not valid")
        return value, None

    # -- encoding -----------------------------------------------------------------------

    def _formatter(self, f: Field) -> Callable[[Any], str]:
        key = self.layout.key
        n = f.length

        def refuse(reason: str) -> EncodeError:
            return EncodeError(key, f.name, reason)

        if f.kind is Kind.LITERAL:
            lit = f.literal or ""
            return lambda _v: lit
        if f.kind is Kind.FILLER:
            fill = f.padding * n
            return lambda _v: fill

        def fmt(value: Any) -> str:
            if value is None:
                if f.required:
                    raise refuse("is required")
                return " " * n
            kind = f.kind
            if kind is Kind.DATE:
                if not isinstance(value, dt.date):
                    raise refuse(f"expected a date, got {type(value).__name__}")
                text = value.isoformat().replace("-", "")
                if len(text) != 8:
                    raise refuse("year must have four digits")
                return text
            if kind is Kind.TIME:
                if not isinstance(value, dt.time):
                    raise refuse(f"expected a time, got {type(value).__name__}")
                return value.strftime("%H%M%S")
            if kind in (Kind.NUMBER, Kind.AMOUNT):
                if not isinstance(value, int) or isinstance(value, bool):
                    raise refuse(f"expected an integer, got {type(value).__name__}")
                if value < 0:
                    raise refuse("must not be negative (the sign is a field of its own)")
                text = str(value * f.scale) if kind is Kind.AMOUNT else str(value)
            elif kind is Kind.DIGITS:
                if not isinstance(value, str) or not (value.isdigit() and value.isascii()):
                    raise refuse("expected a string of digits")
                text = value
            elif kind is Kind.SIGN:
                if value not in ("+", "-"):
                    raise refuse("expected '+' or '-'")
                return str(value)
            elif kind is Kind.CODE:
                assert f.codes is not None
                if value not in f.codes:
                    raise refuse(f"{value!r} is not one of {sorted(f.codes)}")
                text = str(value)
            else:
                if not isinstance(value, str):
                    raise refuse(f"expected text, got {type(value).__name__}")
                if f.required and not value.strip():
                    raise refuse("is required")
                banned = sorted({c for c in value if c in _CONTROL or c in f.forbidden})
                if banned:
                    raise refuse(f"forbidden character(s) {banned}")
                try:
                    value.encode("iso-8859-1")
                except UnicodeEncodeError as exc:
                    raise refuse(f"character {value[exc.start]!r} is not in ISO-8859-1") from None
                text = value
            if len(text) > n:
                shown = mask_cpr(text) if f.personal else text
                raise refuse(f"{shown!r} does not fit in {n} characters")
            return _pad(f, text)

        return fmt

    def _fast_formatter(self, f: Field) -> Callable[[Any], str | None]:
        """The common valid value of ``f`` formatted with few checks, else ``None`` (then the
        full formatter decides: it pads the unusual and refuses the wrong, with a reason)."""
        n = f.length
        kind = f.kind
        right_zero = f.alignment is Align.RIGHT and f.padding == "0"
        if kind in (Kind.NUMBER, Kind.AMOUNT) and right_zero:
            scale = f.scale if kind is Kind.AMOUNT else 1
            limit = 10**n // scale

            def number(v: Any) -> str | None:
                if type(v) is int and 0 <= v < limit:
                    return str(v * scale).zfill(n)
                return None

            return number
        if kind is Kind.DIGITS and right_zero:

            def digits(v: Any) -> str | None:
                if type(v) is str and 0 < len(v) <= n and v.isdigit() and v.isascii():
                    return v.zfill(n)
                return None

            return digits
        if kind is Kind.DATE:

            def date(v: Any) -> str | None:
                if type(v) is dt.date and v.year >= 1000:
                    return f"{v.year}{v.month:02d}{v.day:02d}"
                return None

            return date
        if kind is Kind.SIGN:
            return lambda v: v if v == "+" or v == "-" else None
        if kind is Kind.CODE:
            assert f.codes is not None
            padded = {c: _pad(f, c) for c in f.codes}
            return lambda v: padded.get(v) if type(v) is str else None
        if kind is Kind.TEXT and f.alignment is Align.LEFT and f.padding == " " and not f.forbidden:
            blank = " " * n

            def text(v: Any) -> str | None:
                if type(v) is str and v.isascii() and v.isprintable() and len(v) <= n:
                    if v.strip():
                        return v.ljust(n)
                    if not f.required:
                        return blank
                return None

            return text
        return lambda v: None

    def _generate_fast_encoder(self) -> Callable[[Sequence[Any]], str | None]:
        # Like the fast decoder: one generated function per layout, no loop over the fields.
        parts: list[str] = []
        lines: list[str] = []
        namespace: dict[str, Any] = {}
        value_index = 0
        for i, f in enumerate(self.layout.fields):
            if not f.carries_value:
                namespace[f"k{i}"] = self._formatters[i](None)
                parts.append(f"k{i}")
                continue
            fast_fmt = self._fast_formatter(f)
            if not f.required:
                fast_fmt = _blank_when_none(fast_fmt, " " * f.length)
            namespace[f"f{i}"] = fast_fmt
            lines.append(f"    r{i} = f{i}(values[{value_index}])")
            lines.append(f"    if r{i} is None:\n        return None")
            parts.append(f"r{i}")
            value_index += 1
        src = (
            "def fast(values):\n"
            + "\n".join(lines)
            + ("\n" if lines else "")
            + f"    return ''.join(({', '.join(parts)},))\n"
        )
        exec(compile(src, f"<fixed-encode:{self.layout.key}>", "exec"), namespace)  # noqa: S102
        fast: Callable[[Sequence[Any]], str | None] = namespace["fast"]
        return fast

    def encode(self, values: Sequence[Any]) -> str:
        """One record from its values in ``names`` order (literals and fillers are added)."""
        if len(values) == len(self.fields):
            line = self._fast_encode(values)
            if line is not None:
                return line
        return self.encode_full(values)

    def encode_full(self, values: Sequence[Any]) -> str:
        """``encode`` through the full formatters only (what the fast path must agree with)."""
        if len(values) != len(self.fields):
            raise EncodeError(
                self.layout.key, "*", f"expected {len(self.fields)} values, got {len(values)}"
            )
        it = iter(values)
        out = []
        for f, fmt in zip(self.layout.fields, self._formatters, strict=True):
            out.append(fmt(next(it) if f.carries_value else None))
        return "".join(out)

    def encode_field(self, name: str, value: Any) -> str:
        """One field's value as written in the record (padded, aligned, checked)."""
        fmt = self._formatter_by_name.get(name)
        if fmt is None:
            raise EncodeError(self.layout.key, name, "no such field")
        return fmt(value)

    def encode_mapping(self, values: Mapping[str, Any]) -> str:
        unknown = set(values) - set(self.names)
        if unknown:
            raise EncodeError(self.layout.key, ",".join(sorted(unknown)), "no such field")
        return self.encode([values.get(name) for name in self.names])


def _blank_when_none(inner: Callable[[Any], str | None], blank: str) -> Callable[[Any], str | None]:
    def optional(v: Any) -> str | None:
        return blank if v is None else inner(v)

    return optional


def compile_layout(layout: Layout, code_prefix: str) -> RecordCodec:
    """Compile ``layout`` once; findings get codes ``<code_prefix>.<what>``."""
    return RecordCodec(layout, code_prefix)
