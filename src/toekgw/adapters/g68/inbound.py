"""G68 deliveries from KSD into the journal: the G68 processor of the inbound pipeline.

:class:`G68Processor` plugs into :class:`toekgw.gateway.inbound.InboundPipeline` (``toekgw receive
g68``). For each staged delivery it reads and validates the whole file with the G68 reader
(first pass, streaming: the clean records checked a block at a time as columns, every other
record the exact way, as ``toekgw validate`` does), then hands the pipeline the clean payments
as a generator that reads the file once more (second pass, decode only: a fast-form record
the first pass's column screen passed is cut at its positions), so a 99,999-payment delivery
is journaled in batches and memory stays flat. The second pass touches no journal, so it is
handed over as :class:`~toekgw.gateway.prefetch.Standalone`: the journal reads it on a thread
of its own, a batch ahead of its inserts.

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
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import NamedTuple

from toekgw.adapters.g68.first_pass import FirstPass
from toekgw.adapters.g68.payments import PAYMENT_ITEM, item_of_values, received_item
from toekgw.adapters.g68.reader import G68Config, G68Reader, G68Validation
from toekgw.adapters.g68.settings import g68_options
from toekgw.adapters.serviceplatform import ReceiveSettings
from toekgw.formats.fixed import ENCODING, iter_lines
from toekgw.formats.g68 import FAST, G68Form, G68Header, decode_header, payment_codec
from toekgw.gateway.danish_time import danish_today
from toekgw.gateway.inbound import Candidate, Processed, StagedFile, inbound_kind
from toekgw.gateway.journal import JournalReader, NewItem
from toekgw.gateway.kinds import register_kind
from toekgw.gateway.prefetch import Standalone

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
register_kind(G68_DELIVERY)

#: ``progress(path)`` -> a context giving ``update(bytes_read)`` (or None: no bar).
ProgressFactory = Callable[[Path], AbstractContextManager[Callable[[int], None] | None]]

#: How much of a remote file ``priority`` reads: Z300 and about 60 fast (250 floating) records.
PEEK_BYTES = 16_384


class Journaled(NamedTuple):
    """What the second pass reads by, from the first: the lines not journaled, and the clean
    ones (1 at a line's number: :meth:`FirstPass.clean_lines`)."""

    excluded: set[int]
    clean: bytearray


def delivery_key(header: G68Header) -> str:
    """The delivery's identity for duplicate detection: data supplier id + delivery number."""
    return f"{header.supplier_id}/{header.delivery_number:05d}"


class G68Processor:
    """The :class:`~toekgw.gateway.inbound.InboundProcessor` for G68 deliveries.

    ``profile`` is the ``[receive.g68]`` table: ``senders``, ``counterpart`` (default the
    profile's name; ``ksd`` in the example) and the options ``max_age_days`` (default 60),
    ``dagpenge_units`` (list of paying units, default 5110, 5120) and ``straks_marker``
    (default ``"STRAKS"``: a file whose name contains it is taken first), read by
    :func:`toekgw.adapters.g68.settings.g68_options`. ``today`` is the date the rules take as
    today (default: the real today).
    """

    kind = G68_DELIVERY

    def __init__(
        self,
        profile: ReceiveSettings,
        *,
        today: dt.date | None = None,
        progress: ProgressFactory | None = None,
    ) -> None:
        options = g68_options(profile)  # as the configuration was checked when loaded
        self.counterpart = profile.counterpart
        self.today = today or danish_today()
        self.max_age_days = options.max_age_days
        self.dagpenge_units = options.dagpenge_units
        self.straks_marker = options.straks_marker
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
        scan = FirstPass(self.counterpart, journal, header)
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
        # The second pass keeps what it reads by, not the first pass (its dicts hold every
        # payment's ident and control key).
        lines = Journaled(scan.excluded, scan.clean_lines(result.count + 1))
        more = []
        if scan.recalls:
            more.append(
                (
                    "recall-requested",
                    Standalone(self._items(staged.path, result, lines, recalls=True)),
                )
            )
        return Processed(
            accepted=True,
            findings=findings,
            delivery_key=key,
            # The second pass reads the staged file only: the journal may run it on a thread.
            items=Standalone(self._items(staged.path, result, lines, recalls=False)),
            item_state="pending",
            more_items=more,
            subject="record",
            summary=_describe(result, clean, refused=False),
            meta={**meta, "payments_to_error_list": len(scan.excluded)},
        )

    # -- the second pass ------------------------------------------------------------------

    def _items(
        self, path: Path, result: G68Validation, lines: Journaled, *, recalls: bool
    ) -> Iterator[NewItem]:
        """The journaled payments (or recalls), read again: the first pass found the lines
        with errors; every other record decodes, and only the codec runs now. A fast-form
        record the first pass's column screen passed (``lines.clean``) is cut at its
        positions (``FAST.values_of_matching``); any other is decoded the exact way, which
        also reads a record its pattern does not match but whose fields pass one by one."""
        header, form = result.header, result.form
        assert header is not None and form is not None
        codec = payment_codec(G68Form(form))
        last = result.count + 1  # the records are lines 2 .. count + 1
        straks = result.is_straks
        excluded, clean = lines.excluded, lines.clean
        cut = FAST.values_of_matching if codec is FAST else None
        # Decoded as read (ISO-8859-1: every byte is a character); only LF ends a line, a
        # lone CR is data, as in iter_lines.
        with path.open(encoding=ENCODING, newline="\n") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1 or number in excluded:
                    continue
                if number > last:
                    return
                text = raw[:-2] if raw.endswith("\r\n") else raw.removesuffix("\n")
                values = cut(text) if cut and clean[number] else None
                if values is not None:
                    if (values[7] == "-") == recalls:  # the sign
                        yield item_of_values(values, header, number, straks=straks)
                    continue
                payment = codec.decode(text) or codec.diagnose(text, number)[0]
                assert payment is not None, f"line {number} read in the first pass"
                if payment.is_recall != recalls:
                    continue
                yield received_item(payment, header, number, straks=straks)


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
