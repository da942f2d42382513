"""Reading a whole G68 delivery as it streams: structure, layouts, rules and control totals.

Pure: it takes numbered lines (``toekgw.formats.fixed.Line``) or a binary stream and yields one
:class:`PaymentEntry` per G68 record as it goes, so a receiver can journal payments in batches
while reading. When the lines are exhausted, :meth:`DeliveryScan.result` says whether the whole
delivery is refused (no Z300/SLUTD, SLUTD count or sum off, supplier ids differ …) and why.

Two ways through the same state: one record at a time (:meth:`DeliveryScan.scan`,
:meth:`~DeliveryScan.scan_stream`: every payment as a ``G68Payment``), or a block at a time as
columns (:meth:`~DeliveryScan.check_stream`: for validating only; the records with findings
still go the first way, so the findings are the same).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from toekgw.formats.findings import Finding, Severity
from toekgw.formats.fixed import ENCODING, Line
from toekgw.formats.g68.codec import FastCodec, FloatingCodec, decode_header, decode_trailer
from toekgw.formats.g68.codec import payment_codec as _payment_codec
from toekgw.formats.g68.columns import (
    Lines,
    PaymentColumns,
    Screen,
    ScreenRules,
    split_lines,
)
from toekgw.formats.g68.layouts import (
    CODE_PREFIX,
    FAST_LENGTH,
    FORM_FAST,
    FORM_FLOATING,
    SLUTD,
)
from toekgw.formats.g68.records import G68Form, G68Header, G68Payment, G68Trailer
from toekgw.formats.g68.rules import (
    DeliveryTotals,
    G68Config,
    check_delivery,
    check_payment,
    payment_checker,
)

__all__ = ["CleanRun", "DeliveryScan", "G68Validation", "PaymentEntry"]

#: ``on_clean(first_line, columns, rows)``: a run of clean records, the ``rows`` of ``columns``
#: on the lines from ``first_line`` on (see :meth:`DeliveryScan.check_stream`).
CleanRun = Callable[[int, PaymentColumns, slice], None]

_TRAILER_COLUMNS = {f.name: f.columns for f in SLUTD.fields}


@dataclass(slots=True)
class PaymentEntry:
    """One G68 record: its line, the payment (``None`` if it could not be read) and its
    findings (empty when the payment is clean)."""

    line: int
    payment: G68Payment | None
    findings: tuple[Finding, ...]

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)


@dataclass(slots=True)
class G68Validation:
    """The outcome of reading one delivery.

    ``refused`` means the delivery as a whole cannot be trusted (its control totals do not
    hold, or its structure is broken): it goes to the error list whole, with ``refusal``
    saying why. Otherwise each payment with an error goes to the error list on its own.
    """

    file: str | None
    header: G68Header | None
    trailer: G68Trailer | None
    form: G68Form | None
    findings: list[Finding]
    refused: bool
    refusal: list[str]
    is_straks: bool
    count: int  # G68 records read
    recalls: int
    net_sum: int  # øre, over the readable records
    sum_verified: bool  # False when an amount could not be read, so SLUTD's sum was not checked
    payments_with_errors: int

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.refused and not self.errors


@dataclass(slots=True)
class _State:
    header: G68Header | None = None
    trailer: G68Trailer | None = None
    form: G68Form | None = None
    refusal: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    payments_with_errors: int = 0


def _whole(text: str) -> tuple[int, int]:
    return (1, max(1, len(text)))


def _before_start(_text: str) -> G68Payment | None:
    raise AssertionError("a record is decoded only once the form is known")


def _form_of_start(text: str) -> G68Form:
    mark = text[31:32]
    if mark in (FORM_FLOATING, FORM_FAST):
        return G68Form(mark)
    return G68Form.FAST if len(text) == FAST_LENGTH else G68Form.FLOATING


def _form_of_record(text: str) -> G68Form:
    if text[13:14] == FORM_FAST or len(text) == FAST_LENGTH:
        return G68Form.FAST
    return G68Form.FLOATING


class DeliveryScan:
    """Scan one delivery. Iterate :meth:`scan`, then read :meth:`result`."""

    def __init__(self, config: G68Config, file: str | None = None) -> None:
        self.config = config
        self.file = file
        self.totals = DeliveryTotals(config)
        self._s = _State()
        self._done = False
        self._number = 0  # lines read
        self._in_body = False  # between the start record and the end record
        self._after_end = False
        # Set from the start record (or the first line) before any record is read.
        self._codec: FastCodec | FloatingCodec = _payment_codec(G68Form.FAST)
        self._decode: Callable[[str], G68Payment | None] = _before_start
        self._check = payment_checker(config)
        self._screens: dict[G68Form, Screen] = {}
        self._unterminated: tuple[int, int] | None = None  # (line, length) without a line end

    # -- helpers ---------------------------------------------------------------------------

    def _add(self, findings: Iterable[Finding]) -> list[Finding]:
        out = [f.in_file(self.file) for f in findings] if self.file else list(findings)
        self._s.findings.extend(out)
        return out

    def _structure(
        self,
        what: str,
        message: str,
        line: int,
        refuse: bool,
        *,
        warning: bool = False,
        columns: tuple[int, int] | None = None,
    ) -> None:
        self._add(
            [
                Finding(
                    code=f"{CODE_PREFIX}.structure.{what}",
                    severity=Severity.WARNING if warning else Severity.ERROR,
                    message=message,
                    line=line,
                    columns=columns,
                )
            ]
        )
        if refuse:
            self._s.refusal.append(f"line {line}: {message}")

    def _locate(
        self, codec: FastCodec | FloatingCodec, text: str, findings: list[Finding]
    ) -> list[Finding]:
        return [
            f
            if f.columns is not None or f.field is None
            else replace(f, columns=codec.locate(text, f.field))
            for f in findings
        ]

    # -- the scan --------------------------------------------------------------------------

    def scan(self, lines: Iterable[Line]) -> Iterator[PaymentEntry]:
        """Yield each G68 record of the delivery as it is read from numbered lines."""

        def texts() -> Iterator[list[str]]:
            for number, text, terminated in lines:
                if not terminated:
                    self._unterminated = (number, len(text))
                yield [text]

        return self._run(texts())

    def scan_stream(
        self,
        stream: BinaryIO,
        *,
        block_size: int = 1 << 20,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[PaymentEntry]:
        """Yield each G68 record as it is read from a binary stream (CRLF or LF, ISO-8859-1),
        a block at a time: memory stays flat, and no per-line read."""
        return self._run(self._blocks(stream, block_size, progress))

    def _blocks(
        self, stream: BinaryIO, block_size: int, progress: Callable[[int], None] | None
    ) -> Iterator[list[str]]:
        # Lines end with LF or CRLF only (a lone CR is data): TextIOWrapper with
        # newline="\n" splits on LF and translates nothing; readlines() works in C.
        text = io.TextIOWrapper(stream, encoding=ENCODING, newline="\n")
        count = 0
        try:
            while True:
                raw = text.readlines(block_size)
                if not raw:
                    break
                last = raw[-1]
                lines = [t[:-2] if t[-2:] == "\r\n" else t[:-1] for t in raw]
                count += len(lines)
                if last[-1:] != "\n":  # only the file's last line can lack its line end
                    lines[-1] = last
                    self._unterminated = (count, len(last))
                if progress is not None:
                    progress(stream.tell())
                yield lines
        finally:
            text.detach()  # the caller's stream stays open

    def _run(self, blocks: Iterator[list[str]]) -> Iterator[PaymentEntry]:
        feed = self._feed
        for block in blocks:
            for text in block:
                entry = feed(text)
                if entry is not None:
                    yield entry
        self._finish()

    def _feed(self, text: str) -> PaymentEntry | None:
        """The next line of the delivery, whatever it is."""
        self._number += 1
        number = self._number
        if self._in_body:
            p = self._decode(text)
            if p is not None:
                found = self._check(number, p)
                more = self.totals.add(number, p)
                if found is None and more is None:
                    return PaymentEntry(number, p, ())
                return self._entry(number, p, self._codec, text, (found or []) + (more or []))
            if text[:5] == "SLUTD":
                self._trailer(number, text)
                self._in_body = False
                self._after_end = True
                return None
            if text[:4] == "Z300":
                self._structure(
                    "header_repeated",
                    "a second Z300 start record inside the delivery",
                    number,
                    refuse=True,
                    columns=_whole(text),
                )
                return None
            return self._slow(number, text, self._codec)
        if self._after_end:
            self._structure(
                "after_trailer",
                "a record after the SLUTD end record",
                number,
                refuse=True,
                columns=_whole(text),
            )
            return None
        # Before the start: the first line must be Z300.
        s = self._s
        if text[:4] == "Z300":
            self._header(number, text)
            form = s.form
        else:
            self._structure(
                "no_header",
                "the delivery does not start with a Z300 start record",
                number,
                refuse=True,
                columns=(1, 4),
            )
            form = _form_of_record(text)
        s.form = form
        assert form is not None
        self._codec = _payment_codec(form)
        self._decode = self._codec.decode
        self._in_body = True
        if text[:4] != "Z300":
            return self._slow(number, text, self._codec)
        return None

    def _finish(self) -> None:
        self._done = True
        if self._unterminated:
            line, length = self._unterminated
            self._structure(
                "unterminated",
                "the last line has no line end (truncated file?)",
                line,
                refuse=False,
                warning=True,
                columns=(length + 1, length + 1),
            )
        if not self._in_body and not self._after_end:
            self._structure("no_header", "the file is empty: no Z300 start record", 1, True)
        elif self._in_body:
            self._structure(
                "no_trailer",
                "the delivery has no SLUTD end record (truncated file?)",
                self._number + 1,
                refuse=True,
            )

    # -- column-wise -------------------------------------------------------------------------

    def check_stream(
        self,
        stream: BinaryIO,
        *,
        block_size: int = 1 << 22,
        progress: Callable[[int], None] | None = None,
        on_clean: CleanRun | None = None,
    ) -> Iterator[PaymentEntry]:
        """Read and check a delivery from a binary stream like :meth:`scan_stream`, with the
        same findings and :meth:`result`, but hand out only the records *with* findings.

        The clean records are decoded into columns and checked a block at a time
        (:mod:`toekgw.formats.g68.columns`), several times faster than one record at a time: the
        way to validate a delivery when nobody needs its payments as objects. Every record
        the columns cannot vouch for goes the exact way of :meth:`scan_stream`.

        With ``on_clean``, every record is accounted for, in file order: each run of clean
        records is given to ``on_clean(first_line, columns, rows)`` (the rows of ``columns``
        on the lines from ``first_line`` on) as it is counted, and every record that went the
        exact way is handed out, with findings or without (a recall, an unusual but valid
        record): the way for a receiver to read every payment without an object per record.
        """
        every = on_clean is not None
        if self.config.earlier_payment is not None:
            # Every payment is looked up in the receiver's journal: one at a time anyway.
            return (e for e in self.scan_stream(stream, progress=progress) if e.findings or every)
        return self._check_blocks(stream, block_size, progress, on_clean)

    def _check_blocks(
        self,
        stream: BinaryIO,
        block_size: int,
        progress: Callable[[int], None] | None,
        on_clean: CleanRun | None,
    ) -> Iterator[PaymentEntry]:
        pending: list[bytes] = []  # a line not yet ended, in pieces (joined once)
        while True:
            chunk = stream.read(block_size)
            if chunk:
                end = chunk.rfind(b"\n") + 1  # whole lines now, the rest with the next block
                if not end:
                    pending.append(chunk)
                    continue
                data = b"".join([*pending, chunk]) if pending else chunk
                cut = len(data) - len(chunk) + end
                pending = [data[cut:]] if cut < len(data) else []
            else:
                data = b"".join(pending)  # the end: a last line without its line end too
                cut = len(data)
            if cut:
                block = np.frombuffer(data, np.uint8, count=cut)
                yield from self._check_block(block, on_clean)
            if progress is not None:
                progress(stream.tell())
            if not chunk:
                break
        self._finish()

    def _check_block(
        self, data: npt.NDArray[np.uint8], on_clean: CleanRun | None
    ) -> Iterator[PaymentEntry]:
        lines = split_lines(data)
        n = len(lines)
        if lines.unterminated:
            self._unterminated = (self._number + n, int(lines.ends[-1] - lines.starts[-1]))
        feed = self._feed

        def text(i: int) -> str:
            return lines.text(i).decode(ENCODING)

        i = 0
        while i < n and not self._in_body:  # the start record sets the form
            entry = feed(text(i))
            i += 1
            if entry is not None and (entry.findings or on_clean is not None):
                yield entry
        if i >= n:
            return
        form = self._s.form
        assert form is not None
        screen = self._screens.get(form)
        if screen is None:
            screen = self._screens[form] = Screen(ScreenRules.of(self.config, form))
        offset = int(lines.starts[i])
        columns = screen(Lines(data[offset:], lines.starts[i:] - offset, lines.ends[i:] - offset))
        keys = columns.keys()
        amounts = columns.signed_amount
        m = n - i
        unclean = [*np.flatnonzero(~columns.clean).tolist(), m]
        next_unclean = 0  # index into ``unclean``
        done = 0  # rows of ``columns`` dealt with
        while done < m:
            while unclean[next_unclean] < done:
                next_unclean += 1
            stop = unclean[next_unclean]
            if done < stop and self._in_body:
                # Clean rows: counted in bulk as long as the totals have nothing to say.
                take = self.totals.take_run(
                    self._number + 1,
                    columns.sequence[done:stop],
                    amounts[done:stop],
                    columns.payment_date[done:stop],
                    keys[done:stop],
                )
                if take and on_clean is not None:
                    on_clean(self._number + 1, columns, slice(done, done + take))
                self._number += take
                done += take
                if take:
                    continue
            # An unclean row, or one the totals have something to say on: the exact way.
            entry = feed(text(i + done))
            done += 1
            if entry is not None and (entry.findings or on_clean is not None):
                yield entry

    def _entry(
        self,
        number: int,
        p: G68Payment | None,
        codec: FastCodec | FloatingCodec,
        text: str,
        found: list[Finding],
    ) -> PaymentEntry:
        findings = self._add(self._locate(codec, text, found))
        entry = PaymentEntry(number, p, tuple(findings))
        if entry.has_errors:
            self._s.payments_with_errors += 1
        return entry

    def _slow(self, number: int, text: str, codec: FastCodec | FloatingCodec) -> PaymentEntry:
        p, values, found = codec.diagnose(text, number)
        rules = check_payment(
            number,
            self.config,
            transaction_type=values.get("transaction_type"),
            paying_unit=values.get("paying_unit"),
            payment_ident=values.get("payment_ident"),
            amount=values.get("amount"),
            sign=values.get("sign"),
            ident_code=values.get("ident_code"),
            beneficiary=values.get("beneficiary"),
            payment_date=values.get("payment_date"),
        )
        if p is not None:
            more = self.totals.add(number, p)
        else:
            more = self.totals.add_unreadable(
                number, values.get("sequence"), values.get("amount"), values.get("sign")
            )
        return self._entry(number, p, codec, text, found + rules + (more or []))

    def _header(self, number: int, text: str) -> None:
        s = self._s
        form = _form_of_start(text)
        header, found = decode_header(text, form, number)
        if found:
            self._add(found)
            s.refusal.append(f"line {number}: the Z300 start record cannot be read")
        s.header = header
        s.form = header.form if header else form

    def _trailer(self, number: int, text: str) -> None:
        s = self._s
        assert s.form is not None
        trailer, found = decode_trailer(text, s.form, number)
        if found:
            self._add(found)
            s.refusal.append(f"line {number}: the SLUTD end record cannot be read")
        s.trailer = trailer
        if trailer is not None and s.header is not None:
            problems = self._add(
                check_delivery(s.header, trailer, number, self.totals, _TRAILER_COLUMNS)
            )
            s.refusal.extend(f"line {number}: {f.message}" for f in problems)

    # -- the outcome -----------------------------------------------------------------------

    def result(self) -> G68Validation:
        if not self._done:
            raise RuntimeError("read the whole delivery (iterate scan()) before the result")
        s = self._s
        t = self.totals
        return G68Validation(
            file=self.file,
            header=s.header,
            trailer=s.trailer,
            form=s.form,
            findings=s.findings,
            refused=bool(s.refusal),
            refusal=s.refusal,
            is_straks=t.is_straks,
            count=t.count,
            recalls=t.recalls,
            net_sum=t.net_sum,
            sum_verified=t.sum_known,
            payments_with_errors=s.payments_with_errors,
        )
