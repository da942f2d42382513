"""The receiver's first pass over a G68 delivery: which lines are not journaled, and why.

The G68 reader (:mod:`toekgw.adapters.g68.reader`) validates every record; this pass adds
what only the journal can tell, as the records go by:

- a payment ident already used by the same data supplier (earlier in the delivery, or
  journaled before) cannot be a second item: ``g68.payment.ident_reused``, an error, and the
  line is not journaled;
- a payment with the paying unit, ident code, beneficiary, amount and date of another payment
  (in the delivery, or journaled and not recalled or failed) is a suspected duplicate:
  ``g68.payment.suspected_duplicate``, a warning; the payment is journaled, and release holds
  it;
- a recall is matched against the payments before it (``recall_known``, asked by the reader's
  rules as each recall is read: the journal once per recall).

Idents and duplicate-control keys are asked of the journal in batches of
:data:`LOOKUP_BATCH`. Clean runs come column-wise (:meth:`FirstPass.clean`): each block's
idents and control keys are read out of its columns once, and a run whose idents and keys
are all new in the delivery is taken whole.
"""

from __future__ import annotations

from toekgw.adapters.g68.payments import NOT_PAID_STATES, control_key, control_key_text
from toekgw.adapters.g68.reader import G68Reader
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.g68 import G68Header
from toekgw.formats.g68.columns import PaymentColumns
from toekgw.gateway.journal import JournalReader

__all__ = ["LOOKUP_BATCH", "FirstPass"]

#: Keys asked of the journal at a time (payment idents; duplicate-control keys).
LOOKUP_BATCH = 1000


class FirstPass:
    """Reads the delivery once: which lines are not journaled, and the adapter's findings."""

    def __init__(self, counterpart: str, journal: JournalReader, header: G68Header | None):
        self.counterpart = counterpart
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
        self._clean_runs: list[tuple[int, int]] = []  # (first line, count) of each clean run

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
        self._clean_runs.append((first_line, rows.stop - rows.start))
        if columns is not self._block:  # a block's values are read out once, for all its runs
            self._block = columns
            self._values = _idents_and_keys(columns)
        values = self._values[rows]
        if self._fresh_run(first_line, values):
            return
        for n, (ident, key) in enumerate(values):
            self._payment(first_line + n, ident, key)

    def clean_lines(self, last: int) -> bytearray:
        """1 at the number of each line up to ``last`` that came in a clean run (:meth:`clean`):
        a record the column screen passed, so one its form's pattern matches."""
        lines = bytearray(last + 1)
        for first, count in self._clean_runs:
            lines[first : first + count] = b"\x01" * count
        return lines

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
        if len(self.pending) >= LOOKUP_BATCH:
            self._lookup()
        if len(self.to_control) >= LOOKUP_BATCH:
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
            if len(self.pending) >= LOOKUP_BATCH:
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
        if len(self.to_control) >= LOOKUP_BATCH:
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
