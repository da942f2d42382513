"""G68 deliveries from KSD into the journal: the G68 processor of the inbound pipeline.

:class:`G68Processor` plugs into :class:`toekgw.gateway.inbound.InboundPipeline` (``toekgw receive
g68``). For each staged delivery it reads and validates the whole file with the G68 reader
(first pass, streaming: the clean records checked a block at a time as columns, every other
record the exact way, as ``toekgw validate`` does), then hands the pipeline the clean payments
as a generator that reads the file once more (second pass, decode only), so a 99,999-payment
delivery is journaled in batches and memory stays flat.

- A refused delivery (control totals, structure) goes whole to the error list with every
  finding; nothing of it is journaled as a payment.
- Otherwise every readable payment without an error is journaled as one item:
  ``business_key``/``fingerprint``/``data`` from
  :class:`toekgw.adapters.g68.payments.PaymentInstruction`,
  ``seq`` = its line, in state ``pending`` (a ``-`` record: ``recall-requested``).
  ``amount_ore`` is **signed** (a recall counts negative), so a transmission's journaled total
  is SLUTD's net sum less what went to the error list; the payload keeps G68's unsigned
  amount and ``recall``.
- A record with an error goes to the error list (with its line, columns and findings, CPR
  masked) and is not journaled; warnings (a likely duplicate) go there too, but their payment
  is journaled.
- A payment ident already journaled for this supplier (or used earlier in the delivery) cannot
  be a second item: ``g68.payment.ident_reused`` (error), not journaled.
- A recall is matched against the payments journaled before (and those earlier in the
  delivery); an unmatched one is ``g68.recall.unmatched``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from toekgw.adapters.g68.payments import (
    NOT_PAID_STATES,
    PAYMENT_ITEM,
    control_key,
    control_key_text,
    received_item,
)
from toekgw.adapters.g68.reader import G68Config, G68Reader, G68Validation
from toekgw.adapters.serviceplatform import ReceiveSettings
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.fixed import ENCODING, iter_lines
from toekgw.formats.g68 import G68Form, G68Header, decode_header, payment_codec
from toekgw.formats.g68.columns import PaymentColumns
from toekgw.formats.g68.rules import DEFAULT_DAGPENGE_UNITS, DEFAULT_MAX_AGE_DAYS
from toekgw.gateway.config import ConfigError
from toekgw.gateway.danish_time import danish_today
from toekgw.gateway.inbound import Candidate, Processed, StagedFile, inbound_kind
from toekgw.gateway.journal import JournalReader, NewItem

__all__ = [
    "G68_DELIVERY",
    "PEEK_BYTES",
    "G68Processor",
    "ProgressFactory",
    "delivery_key",
    "looks_straks",
]

#: The journal kind of a received G68 delivery: the inbound file states, payment items.
G68_DELIVERY = inbound_kind("g68-delivery", PAYMENT_ITEM)

#: ``progress(path)`` -> a context giving ``update(bytes_read)`` (or None: no bar).
ProgressFactory = Callable[[Path], AbstractContextManager[Callable[[int], None] | None]]

_LOOKUP_BATCH = 1000
#: How much of a remote file ``priority`` reads: Z300 and about 60 fast (250 floating) records.
PEEK_BYTES = 16_384
_OPTIONS = ("max_age_days", "dagpenge_units", "straks_marker")


def delivery_key(header: G68Header) -> str:
    """The delivery's identity for duplicate detection: data supplier id + delivery number."""
    return f"{header.supplier_id}/{header.delivery_number:05d}"


class G68Processor:
    """The :class:`~toekgw.gateway.inbound.InboundProcessor` for G68 deliveries.

    ``profile`` is the ``[receive.g68]`` table: ``senders``, ``counterpart`` (default the
    profile's name; ``ksd`` in the example) and the options ``max_age_days`` (default 60),
    ``dagpenge_units`` (list of paying units, default 5110, 5120) and ``straks_marker``
    (default ``"STRAKS"``: a file whose name contains it is taken first). ``today`` is the
    date the rules take as today (default: the real today).
    """

    kind = G68_DELIVERY

    def __init__(
        self,
        profile: ReceiveSettings,
        *,
        today: dt.date | None = None,
        progress: ProgressFactory | None = None,
    ) -> None:
        options = dict(profile.options)
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise ConfigError(
                f"[receive.{profile.name}]: unknown key {unknown[0]!r} "
                f"(known: senders, counterpart, {', '.join(_OPTIONS)})"
            )
        self.counterpart = profile.counterpart
        self.today = today or danish_today()
        self.max_age_days = _integer(profile.name, options, "max_age_days", DEFAULT_MAX_AGE_DAYS)
        self.dagpenge_units = _units(profile.name, options)
        marker = options.get("straks_marker", "STRAKS")
        if not isinstance(marker, str):
            raise ConfigError(
                f"[receive.{profile.name}] straks_marker: expected a string, found {marker!r}"
            )
        self.straks_marker = marker.upper()
        self._progress = progress

    # -- the seam -------------------------------------------------------------------------

    def priority(self, candidate: Candidate) -> int:
        """Straks first. A delivery is straks when *all* its payments are dated today, which
        only the whole file tells; before the download two cheap signs are used: the file
        name holds ``straks_marker``, or the first ``PEEK_BYTES`` of the file (usually all of
        a straks delivery) hold only payments dated today."""
        if self.straks_marker and self.straks_marker in candidate.name.upper():
            return 0
        return 0 if looks_straks(candidate.head(PEEK_BYTES), self.today) else 1

    def process(self, staged: StagedFile, journal: JournalReader) -> Processed:
        header = _peek_header(staged.path)
        scan = _FirstPass(self, journal, header)
        config = G68Config(
            today=self.today,
            max_age_days=self.max_age_days,
            dagpenge_units=self.dagpenge_units,
            recall_known=scan.recall_known,
        )
        progress = self._progress(staged.path) if self._progress else nullcontext(None)
        with progress as update:
            reader = G68Reader(
                staged.path, config, name=staged.name, progress=update, on_clean=scan.clean
            )
            scan.run(reader)
        result = reader.result()
        findings = [*result.findings, *scan.findings]
        findings.sort(key=lambda f: f.line or 0)
        key = delivery_key(result.header) if result.header else None
        meta: dict[str, object] = {
            "g68_count": result.count,
            "g68_net_sum_ore": result.net_sum,
            "straks": result.is_straks,
        }
        if result.refused or result.header is None or result.form is None:
            return Processed(
                accepted=False,
                findings=findings,
                delivery_key=key,
                subject="delivery",
                summary=_describe(result, 0, refused=True),
                meta={**meta, "refusal": list(result.refusal)},
            )
        clean = result.count - len(scan.excluded)
        more = []
        if scan.recalls:
            more.append(
                (
                    "recall-requested",
                    self._items(staged.path, result, scan.excluded, recalls=True),
                )
            )
        return Processed(
            accepted=True,
            findings=findings,
            delivery_key=key,
            items=self._items(staged.path, result, scan.excluded, recalls=False),
            item_state="pending",
            more_items=more,
            subject="record",
            summary=_describe(result, clean, refused=False),
            meta={**meta, "payments_to_error_list": len(scan.excluded)},
        )

    # -- the second pass ------------------------------------------------------------------

    def _items(
        self, path: Path, result: G68Validation, excluded: set[int], *, recalls: bool
    ) -> Iterator[NewItem]:
        """The journaled payments (or recalls), read again: the first pass found the lines
        with errors; every other record decodes, and only the codec runs now."""
        header, form = result.header, result.form
        assert header is not None and form is not None
        codec = payment_codec(G68Form(form))
        last = result.count + 1  # the records are lines 2 .. count + 1
        straks = result.is_straks
        # Decoded as read (ISO-8859-1: every byte is a character); only LF ends a line, a
        # lone CR is data, as in iter_lines.
        with path.open(encoding=ENCODING, newline="\n") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1 or number in excluded:
                    continue
                if number > last:
                    return
                text = raw[:-2] if raw.endswith("\r\n") else raw.removesuffix("\n")
                payment = codec.decode(text) or codec.diagnose(text, number)[0]
                assert payment is not None, f"line {number} read in the first pass"
                if payment.is_recall != recalls:
                    continue
                yield received_item(payment, header, number, straks=straks)


class _FirstPass:
    """Reads the delivery once: which lines are not journaled, and the adapter's findings."""

    def __init__(self, owner: G68Processor, journal: JournalReader, header: G68Header | None):
        self.counterpart = owner.counterpart
        self.journal = journal
        self.supplier = header.supplier_id if header else None
        self.excluded: set[int] = set()
        self.findings: list[Finding] = []
        self.recalls = 0
        self.paid: dict[str, int] = {}  # payment ident -> line, payments of this delivery
        self.controlled: dict[str, int] = {}  # control key -> line, payments of this delivery
        self.suspects: list[Finding] = []
        self.to_control: dict[str, tuple[int, str]] = {}  # control key -> line, ident
        self.pending: dict[str, int] = {}  # business key -> line, to look up in the journal
        self._block: PaymentColumns | None = None  # the block of the last clean run
        self._values: list[tuple[str, str]] = []  # its payment idents and control keys

    def recall_known(self, ident: str) -> bool:
        if ident in self.paid:
            return True
        if self.supplier is None:
            return False
        key = f"{self.supplier}:{ident}"
        return bool(self.journal.existing_items(self.counterpart, [key]))

    def run(self, reader: G68Reader) -> None:
        """Read the delivery: the clean runs come column-wise to :meth:`clean` as they are
        read, every other record here, in file order."""
        for entry in reader:
            line, payment = entry.line, entry.payment
            if payment is None or entry.has_errors:
                self.excluded.add(line)
                continue
            if payment.is_recall:
                self.recalls += 1
                continue
            key = control_key(
                payment.paying_unit, payment.ident_code, payment.beneficiary, payment.amount,
                payment.payment_date,
            )  # fmt: skip
            self._payment(line, payment.payment_ident, key)
        self._lookup()
        self._control_lookup()
        # A line refused for its reused ident is not journaled: no suspect to hold.
        self.suspects.sort(key=lambda f: f.line or 0)
        self.findings.extend(f for f in self.suspects if f.line not in self.excluded)

    def clean(self, first_line: int, columns: PaymentColumns, rows: slice) -> None:
        """A run of clean payments, as columns (never a recall: each goes the exact way)."""
        if columns is not self._block:  # a block's values are read out once, for all its runs
            self._block = columns
            self._values = _idents_and_keys(columns)
        values = self._values[rows]
        if self._fresh_run(first_line, values):
            return
        for n, (ident, key) in enumerate(values):
            self._payment(first_line + n, ident, key)

    def _fresh_run(self, first_line: int, values: list[tuple[str, str]]) -> bool:
        """The common run, taken whole: each ident and each control key new in the delivery,
        so that :meth:`_payment` would find nothing in it. ``False``: nothing taken."""
        lines = range(first_line, first_line + len(values))
        idents = dict(zip((ident for ident, _ in values), lines, strict=True))
        keys = {key: (line, ident) for (ident, key), line in zip(values, lines, strict=True)}
        if (
            len(idents) < len(values)
            or len(keys) < len(values)
            or not self.paid.keys().isdisjoint(idents)
            or not self.controlled.keys().isdisjoint(keys)
        ):
            return False
        self.paid.update(idents)
        self.controlled.update(zip(keys, lines, strict=True))
        self.to_control.update(keys)
        if self.supplier is not None:
            prefix = f"{self.supplier}:"
            self.pending.update(zip([prefix + ident for ident in idents], lines, strict=True))
        if len(self.pending) >= _LOOKUP_BATCH:
            self._lookup()
        if len(self.to_control) >= _LOOKUP_BATCH:
            self._control_lookup()
        return True

    def _payment(self, line: int, ident: str, key: str) -> None:
        """A readable payment without errors: its ident is not used before, and the
        duplicate-payment control is asked (both in batches)."""
        first = self.paid.get(ident)
        if first is not None:
            self._reused(line, ident, f"line {first} of this delivery")
            return
        self.paid[ident] = line
        self._control(line, ident, key)
        if self.supplier is not None:
            self.pending[f"{self.supplier}:{ident}"] = line
            if len(self.pending) >= _LOOKUP_BATCH:
                self._lookup()

    def _lookup(self) -> None:
        pending, self.pending = self.pending, {}
        for key, ref in self.journal.existing_items(self.counterpart, pending).items():
            self._reused(pending[key], key.partition(":")[2], ref.describe())

    def _control(self, line: int, ident: str, key: str) -> None:
        """The duplicate-payment control at receive: same paying unit, beneficiary, amount
        and date as a payment under another ident, in this delivery or journaled before (not
        recalled, not failed). A warning: the payment is journaled, and release holds it.
        The journal is asked in batches (:meth:`_control_lookup`)."""
        first = self.controlled.setdefault(key, line)
        if first != line:
            self._suspect(line, ident, f"line {first} of this delivery")
            return
        self.to_control[key] = (line, ident)
        if len(self.to_control) >= _LOOKUP_BATCH:
            self._control_lookup()

    def _control_lookup(self) -> None:
        pending, self.to_control = self.to_control, {}
        if not pending:
            return
        for key, earlier in self.journal.items_by_lookups(self.counterpart, pending).items():
            line, ident = pending[key]
            same_ident = f"{self.supplier}:{ident}"  # the ident-reuse error, found apart
            for item in earlier:
                if item.state not in NOT_PAID_STATES and item.business_key != same_ident:
                    self._suspect(line, ident, f"payment {item.business_key} ({item.state})")
                    break

    def _suspect(self, line: int, ident: str, where: str) -> None:
        self.suspects.append(
            Finding(
                "g68.payment.suspected_duplicate",
                Severity.WARNING,
                f"payment {ident} has the paying unit, beneficiary, amount and date of {where}: "
                "journaled, and held as a suspected duplicate at release",
                line=line,
                field="payment_ident",
                expected="one payment per paying unit, beneficiary, amount and date",
                found=ident,
            )
        )

    def _reused(self, line: int, ident: str, where: str) -> None:
        self.excluded.add(line)
        self.findings.append(
            Finding(
                "g68.payment.ident_reused",
                Severity.ERROR,
                f"payment ident {ident} is already used by {where}: not journaled a second time",
                line=line,
                field="payment_ident",
                expected="a payment ident not used before by this data supplier",
                found=ident,
            )
        )


def _idents_and_keys(columns: PaymentColumns) -> list[tuple[str, str]]:
    """Each row's payment ident and :func:`control_key` text (a blank paying unit is none).
    Only the clean rows' values are used; the others' may hold any byte (hence latin-1)."""
    unit_column = columns.column("paying_unit").tolist()
    code_column = columns.ident_code.tolist()
    date_column = columns.payment_date.tolist()
    # A block holds a handful of dates, paying units and ident codes: each made text once.
    units = {u: u.strip().decode("latin-1") for u in set(unit_column)}
    codes = {c: c.decode("latin-1") for c in set(code_column)}
    dates = {ymd: _iso(ymd) for ymd in set(date_column)}
    return [
        (
            ident.decode("latin-1"),
            control_key_text(units[u], codes[c], b.decode("latin-1"), a, dates[d]),
        )
        for ident, u, c, b, a, d in zip(
            columns.column("payment_ident").tolist(),
            unit_column,
            code_column,
            columns.column("beneficiary").tolist(),
            columns.amount.tolist(),
            date_column,
            strict=True,
        )
    ]


def _iso(ymd: int) -> str:
    """A YYYYMMDD number as ISO text; ``""`` for 0 (no date)."""
    return f"{ymd // 10000:04d}-{ymd // 100 % 100:02d}-{ymd % 100:02d}" if ymd else ""


def looks_straks(head: bytes, today: dt.date) -> bool:
    """Whether the start of a delivery holds at least one payment and only payments dated
    ``today``. A sign, not a verdict: the reader decides ``is_straks`` on the whole file."""
    # Whole lines only (LF or CRLF; a lone CR is data): the peek may end mid-record.
    lines = list(iter_lines(part + b"\n" for part in head.split(b"\n")[:-1]))
    if not lines or not lines[0].text.startswith("Z300"):
        return False
    header = _header(lines[0].text)
    if header is None:
        return False
    codec = payment_codec(header.form)
    seen = 0
    for line in lines[1:]:
        if line.text.startswith("SLUTD"):
            break
        payment = codec.decode(line.text)
        if payment is None or payment.payment_date != today:
            return False
        seen += 1
    return seen > 0


def _peek_header(path: Path) -> G68Header | None:
    """Z300, read on its own before the scan: the supplier id keys the journal look-ups."""
    with path.open("rb") as handle:
        # Bounded: a file that is not G68 may have no line end at all.
        first = next(iter_lines([handle.readline(512)]), None)
    if first is None or not first.text.startswith("Z300"):
        return None
    return _header(first.text)


def _header(text: str) -> G68Header | None:
    mark = text[31:32]
    if mark in (G68Form.FLOATING.value, G68Form.FAST.value):
        form = G68Form(mark)
    else:
        form = G68Form.FAST if len(text) > 40 else G68Form.FLOATING
    header, findings = decode_header(text, form, 1)
    return None if findings else header


def _describe(result: G68Validation, journaled: int, *, refused: bool) -> str:
    head = result.header
    what = f"delivery {delivery_key(head)}, " if head else ""
    straks = ", straks" if result.is_straks else ""
    if refused:
        return f"{what}{result.count} payments{straks}: refused whole ({len(result.errors)} errors)"
    return (
        f"{what}{result.count} payments{straks}, {journaled} journaled, "
        f"{result.count - journaled} to the error list"
    )


def _integer(profile: str, options: Mapping[str, Any], key: str, default: int) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"[receive.{profile}] {key}: expected an integer >= 0, found {value!r}")
    return value


def _units(profile: str, options: Mapping[str, Any]) -> frozenset[str]:
    value = options.get("dagpenge_units")
    if value is None:
        return DEFAULT_DAGPENGE_UNITS
    if not isinstance(value, list) or not all(
        isinstance(v, str) and len(v) == 4 and v.isdigit() for v in value
    ):
        raise ConfigError(
            f"[receive.{profile}] dagpenge_units: expected a list of 4-digit paying units, "
            f"found {value!r}"
        )
    return frozenset(value)
