"""The rules of a G68 delivery, over typed records: pure functions plus small accumulators.

Every finding has a stable code ``g68.<...>`` (documented in docs/g68.md). Payment rules
return findings without columns; the delivery scan adds the columns of the form it reads.
The rules get their settings from :class:`G68Config`, never from globals.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from toekgw.formats.dates import ymd
from toekgw.formats.findings import Finding, Severity, mask_cpr
from toekgw.formats.g68.layouts import CODE_PREFIX, MAX_PAYMENTS
from toekgw.formats.g68.records import G68Header, G68Payment, G68Trailer
from toekgw.formats.idents import cpr_problem, cvr_problem, pnumber_problem, se_problem

__all__ = [
    "DEFAULT_DAGPENGE_UNITS",
    "DEFAULT_MAX_AGE_DAYS",
    "DUPLICATE_KEY_FIELDS",
    "MAX_AGE_DAYS_LIMIT",
    "DeliveryTotals",
    "G68Config",
    "PaymentKey",
    "check_delivery",
    "check_payment",
    "duplicate_key",
    "ident_problem",
    "is_paying_unit",
    "payment_checker",
]

# Ours: paying units that pay dagpenge, where KMD Udbetaling refuses P-numbers. A municipality
# sets its own list (CLI --dagpenge-unit, or G68Config.dagpenge_units).
DEFAULT_DAGPENGE_UNITS = frozenset({"5110", "5120"})
# G68's paying unit: four digits (a dagpenge unit of another width would match no record).
PAYING_UNIT_DIGITS = 4
# Ours: how old a payment (disposition) date may be.
DEFAULT_MAX_AGE_DAYS = 60
# Ours: the most max_age_days may be (a century), so that today minus it is still a date.
MAX_AGE_DAYS_LIMIT = 36_500

# paying unit, payment ident, beneficiary, date, amount, sign
PaymentKey = tuple[str | None, str, str, dt.date | None, int, str]

# "The same payment": these fields, as written in the record (fixed width, blank when absent).
DUPLICATE_KEY_FIELDS = (
    "paying_unit",
    "payment_ident",
    "amount",
    "sign",
    "beneficiary",
    "payment_date",
)


def is_paying_unit(text: str) -> bool:
    """Whether ``text`` can be a paying unit: four ASCII digits, as G68 writes one."""
    return len(text) == PAYING_UNIT_DIGITS and text.isdigit() and text.isascii()


@dataclass(frozen=True, slots=True)
class G68Config:
    """The settings of the G68 rules.

    ``recall_known(payment_ident)`` says whether an earlier payment with that ident is known
    (a receiver passes its journal); when ``None``, recalls are not matched.
    ``earlier_payment(key)`` says where an identical payment was seen before in *other*
    deliveries (a receiver passes its journal), or ``None``; duplicates within a delivery are
    always found.
    """

    today: dt.date
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    dagpenge_units: frozenset[str] = DEFAULT_DAGPENGE_UNITS
    recall_known: Callable[[str], bool] | None = None
    earlier_payment: Callable[[PaymentKey], str | None] | None = None
    oldest_date: dt.date = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "oldest_date", self.today - dt.timedelta(days=self.max_age_days))


def _error(
    what: str,
    message: str,
    lineno: int,
    field: str | None,
    expected: str | None,
    found: str | None,
    severity: Severity = Severity.ERROR,
    columns: tuple[int, int] | None = None,
) -> Finding:
    return Finding(
        code=f"{CODE_PREFIX}.{what}",
        severity=severity,
        message=message,
        line=lineno,
        columns=columns,
        field=field,
        expected=expected,
        found=found,
    )


# (code suffix, leading zeros in the 14-digit field, check, what the number is)
# A check takes the number and the date the rules take as today (only a CPR's birth date
# depends on it).
_IDENT_RULES: dict[str, tuple[str, int, Callable[[str, dt.date], str | None], str]] = {
    "02": ("ident.cpr", 4, cpr_problem, "a CPR number (10 digits, DDMMYY valid)"),
    "11": ("ident.cvr", 6, lambda n, _: cvr_problem(n), "a CVR number (8 digits, mod-11)"),
    "03": ("ident.se", 6, lambda n, _: se_problem(n), "an SE number (8 digits, mod-11)"),
    "12": ("ident.pnumber", 4, lambda n, _: pnumber_problem(n), "a P-number (10 digits)"),
}


def _account_problem(number: str) -> str | None:
    if number[:4] == "0000":
        return "the bank registration number (first 4 digits) is 0000"
    if number[4:].strip("0") == "":
        return "the account number (last 10 digits) is all zeros"
    return None


def ident_problem(code: str, number: str, today: dt.date) -> tuple[str, str, str] | None:
    """``(code suffix, expected, reason)`` when the 14-digit beneficiary field does not fit its
    ident code on ``today``, else ``None``. The reason never repeats the number."""
    rule = _IDENT_RULES.get(code)
    if rule is None:
        if code == "01":
            reason = _account_problem(number)
            if reason:
                return "ident.account", "registration number (4) + account number (10)", reason
        return None
    what, zeros, check, expected = rule
    if number[:zeros].strip("0"):
        return what, expected, f"only {14 - zeros} significant digits are allowed for code {code}"
    reason = check(number[zeros:], today)
    if reason:
        return what, expected, reason
    return None


def check_payment(
    lineno: int,
    config: G68Config,
    *,
    transaction_type: str | None,
    paying_unit: str | None,
    payment_ident: str | None,
    amount: int | None,
    sign: str | None,
    ident_code: str | None,
    beneficiary: str | None,
    payment_date: dt.date | None,
) -> list[Finding]:
    """The rules of one payment. A ``None`` input (unreadable field) skips the rules on it."""
    out: list[Finding] = []
    if amount == 0:
        out.append(
            _error("amount.zero", "amount must be greater than zero", lineno, "amount", "> 0", "0")
        )
    if ident_code is not None and beneficiary is not None:
        problem = ident_problem(ident_code, beneficiary, config.today)
        if problem is not None:
            what, expected, reason = problem
            shown = mask_cpr(beneficiary) if ident_code == "02" else beneficiary
            out.append(
                _error(
                    what,
                    f"beneficiary does not fit ident code {ident_code}: {reason}",
                    lineno,
                    "beneficiary",
                    expected,
                    shown,
                )
            )
    if transaction_type == "10" and ident_code is not None and ident_code != "01":
        out.append(
            _error(
                "type10.ident",
                "transaction type 10 (forced destination) needs ident code 01 "
                "(registration and account number)",
                lineno,
                "ident_code",
                "01",
                ident_code,
            )
        )
    if ident_code == "12" and paying_unit is not None and paying_unit in config.dagpenge_units:
        out.append(
            _error(
                "ident.pnumber_dagpenge",
                f"a P-number is not accepted for dagpenge (paying unit {paying_unit})",
                lineno,
                "ident_code",
                "a CPR or CVR number for a dagpenge paying unit",
                ident_code,
            )
        )
    if payment_date is not None and payment_date < config.oldest_date:
        out.append(
            _error(
                "date.too_old",
                f"payment date is more than {config.max_age_days} days in the past",
                lineno,
                "payment_date",
                f"on or after {config.oldest_date.isoformat()}",
                payment_date.isoformat(),
            )
        )
    if sign == "-" and payment_ident is not None:
        if payment_ident.strip("0") == "":
            out.append(
                _error(
                    "recall.ident",
                    "a recall (sign -) must name the payment it recalls by its payment ident",
                    lineno,
                    "payment_ident",
                    "the payment ident of an earlier payment",
                    payment_ident,
                )
            )
        elif config.recall_known is not None and not config.recall_known(payment_ident):
            out.append(
                _error(
                    "recall.unmatched",
                    "a recall (sign -) of a payment ident that was never paid",
                    lineno,
                    "payment_ident",
                    "the payment ident of an earlier payment",
                    payment_ident,
                )
            )
    return out


# Text read in the wrong encoding. UTF-8 read as ISO-8859-1 turns 'æ' into 'Ã¦' (a lead byte
# 0xC2-0xF4 and continuation bytes 0x80-0xBF); Windows-1252 puts its typographic characters
# (– ’ €) on 0x80-0x9F, the C1 controls of ISO-8859-1. No Danish letter of ISO-8859-1 is in
# 0x80-0xBF, so that range alone decides whether a text is looked at more closely.
_SUSPECT = re.compile("[\x80-\xbf]")
_UTF8_SEQUENCE = re.compile("[\xc2-\xf4][\x80-\xbf]+")
_C1 = re.compile("[\x80-\x9f]")


def _encoding_problem(text: str) -> tuple[str, str] | None:
    """``(found, explanation)`` when ``text`` looks mis-decoded, else ``None``."""
    if not _SUSPECT.search(text):
        return None
    for match in _UTF8_SEQUENCE.finditer(text):
        try:
            meant = match.group().encode("iso-8859-1").decode("utf-8")
        except UnicodeDecodeError:
            continue
        return match.group(), f"which is UTF-8 for {meant!r}"
    c1 = _C1.search(text)
    if c1:
        byte = c1.group().encode("iso-8859-1")
        try:
            meant = f"; in Windows-1252 it is {byte.decode('cp1252')!r}"
        except UnicodeDecodeError:
            meant = ""
        return c1.group(), f"a C1 control character (0x{byte.hex().upper()}){meant}"
    return None


def text_findings(lineno: int, payment: G68Payment) -> list[Finding]:
    """Warnings for text that looks written in another encoding than ISO-8859-1. The text is
    kept exactly as written: the operator decides."""
    out = []
    fields = [("posting_reference", payment.posting_reference)]
    fields += [(f"text_{n:02d}", t) for n, t in enumerate(payment.texts, 1)]
    for name, text in fields:
        problem = _encoding_problem(text)
        if problem is not None:
            found, why = problem
            out.append(
                _error(
                    "text.encoding",
                    f"{name} holds {found!r}, {why}: the file may not be ISO-8859-1; the text "
                    "is kept as written",
                    lineno,
                    name,
                    "ISO-8859-1 text",
                    found,
                    Severity.WARNING,
                )
            )
    return out


def payment_checker(config: G68Config) -> Callable[[int, G68Payment], list[Finding] | None]:
    """``check(lineno, payment)``: the findings of :func:`check_payment`, or ``None`` when
    there are none.

    The common clean payment costs a few comparisons: CPR birth dates and CVR/SE verdicts are
    remembered (per checker, so make one per delivery: memory stays bounded). Anything that
    might be off goes through :func:`check_payment`, which has the last word.
    """
    oldest = config.oldest_date
    dagpenge = config.dagpenge_units
    birth_dates: dict[str, bool] = {}  # DDMMYY + 7th digit -> a valid birth date
    organisations: dict[str, bool] = {}  # CVR/SE field -> passes mod-11
    full = check_payment

    def ident_ok(code: str, ben: str) -> bool:
        if code == "02":
            if ben[:4] != "0000":
                return False
            part = ben[4:11]
            ok = birth_dates.get(part)
            if ok is None:
                if len(birth_dates) > 1 << 17:
                    birth_dates.clear()
                ok = birth_dates[part] = cpr_problem(ben[4:], config.today) is None
            return ok
        if code == "11" or code == "03":
            ok = organisations.get(ben)
            if ok is None:
                if len(organisations) > 1 << 17:
                    organisations.clear()
                ok = organisations[ben] = ident_problem(code, ben, config.today) is None
            return ok
        return ident_problem(code, ben, config.today) is None

    def check(lineno: int, p: G68Payment) -> list[Finding] | None:
        texts = text_findings(lineno, p)
        if texts:
            return [*texts, *(rules(lineno, p) or [])]
        return rules(lineno, p)

    def rules(lineno: int, p: G68Payment) -> list[Finding] | None:
        code = p.ident_code
        date = p.payment_date
        if (
            p.amount
            and p.sign == "+"
            and (date is None or date >= oldest)
            and (p.transaction_type == "01" or code == "01")
        ):
            ben = p.beneficiary
            if code == "02":  # most payments go to citizens: the short way
                if birth_dates.get(ben[4:11]) and ben[:4] == "0000":
                    return None
                if ident_ok(code, ben):
                    return None
            elif not (code == "12" and p.paying_unit in dagpenge) and ident_ok(code, ben):
                return None
        found = full(
            lineno,
            config,
            transaction_type=p.transaction_type,
            paying_unit=p.paying_unit,
            payment_ident=p.payment_ident,
            amount=p.amount,
            sign=p.sign,
            ident_code=code,
            beneficiary=p.beneficiary,
            payment_date=date,
        )
        return found or None

    return check


def payment_key(p: G68Payment) -> PaymentKey:
    return (p.paying_unit, p.payment_ident, p.beneficiary, p.payment_date, p.amount, p.sign)


_NO_UNIT = " " * 4
_NO_DATE = " " * 8


def duplicate_key(p: G68Payment, dates: dict[dt.date, str] | None = None) -> bytes:
    """The :data:`DUPLICATE_KEY_FIELDS` of a payment as the record writes them: equal keys,
    equal payments. The column-wise reader (``toekgw.formats.g68.columns``) cuts the same bytes
    straight from the record, so both paths share one duplicate index.

    ``dates`` caches the dates' text (a delivery has few distinct dates).
    """
    d = p.payment_date
    if d is None:
        day = _NO_DATE
    elif dates is None:
        day = f"{ymd(d):08d}"
    else:
        day = dates.get(d) or dates.setdefault(d, f"{ymd(d):08d}")
    text = (
        f"{p.paying_unit or _NO_UNIT}{p.payment_ident}{p.amount:011d}{p.sign}{p.beneficiary}{day}"
    )
    return text.encode("iso-8859-1")


class DeliveryTotals:
    """What a delivery adds up to while it streams: counts, net sum, sequence, duplicates.

    Memory is bounded by the delivery (at most 99,999 payments): the duplicate index keeps one
    56-byte key (:func:`duplicate_key`) and one line number per payment, about 10 MB at most.
    """

    __slots__ = (
        "_candidates",
        "_config",
        "_dates",
        "_earlier",
        "_next_sequence",
        "_seen",
        "_today_ymd",
        "all_today",
        "count",
        "net_sum",
        "recalls",
        "sum_known",
    )

    def __init__(self, config: G68Config) -> None:
        self._config = config
        self._seen: dict[bytes, int] = {}  # duplicate key -> line of its first payment
        self._dates: dict[dt.date, str] = {}
        self.count = 0  # payment records (lines between Z300 and SLUTD)
        self.recalls = 0
        self.net_sum = 0
        self.sum_known = True  # False once an amount or sign could not be read
        self.all_today = True
        self._next_sequence = 1  # the expected sequence number; -1: one of _candidates
        self._candidates: tuple[int, ...] = ()
        self._today_ymd = ymd(config.today)
        self._earlier = config.earlier_payment

    def add(self, lineno: int, payment: G68Payment) -> list[Finding] | None:
        """Count a readable payment; the findings of the delivery-level rules on it, or
        ``None`` when there are none (the common case, kept cheap)."""
        self.count += 1
        out: list[Finding] | None = None
        if payment.sequence == self._next_sequence:
            self._next_sequence += 1
        else:
            out = []
            self._sequence(lineno, payment.sequence, out)
        if payment.sign == "+":
            self.net_sum += payment.amount
        else:
            self.net_sum -= payment.amount
            self.recalls += 1
        if self.all_today and payment.payment_date != self._config.today:
            self.all_today = False
        first = self._seen.setdefault(duplicate_key(payment, self._dates), lineno)
        if first != lineno:
            out = [*(out or ()), self._duplicate(lineno, f"line {first}")]
        elif self._earlier is not None:
            where = self._earlier(payment_key(payment))
            if where is not None:
                out = [*(out or ()), self._duplicate(lineno, where)]
        return out

    def take_run(
        self,
        first_line: int,
        sequences: npt.NDArray[np.int64],
        amounts: npt.NDArray[np.int64],
        dates: npt.NDArray[np.int64],
        keys: list[bytes],
    ) -> int:
        """Count a run of clean payments (every payment rule passed) on the lines from
        ``first_line`` on, read column-wise: their sequence numbers, signed amounts (a recall
        negative), dates (YYYYMMDD, 0 for none) and :func:`duplicate_key` s.

        Takes the longest head of the run that raises no delivery-level finding, and returns
        how many it took: the payment after them (a sequence slip, a duplicate) goes through
        :meth:`add` like any other, so its finding is written the one way. Nothing is taken
        when an ``earlier_payment`` look-up is set (that asks per payment).
        """
        n = len(keys)
        nxt = self._next_sequence
        if n == 0 or nxt < 0 or self._earlier is not None:
            return 0
        expected = np.arange(nxt, nxt + n)
        slips = np.flatnonzero(sequences != expected)
        take = int(slips[0]) if len(slips) else n
        lines = range(first_line, first_line + take)
        fresh = dict(zip(keys[:take], lines, strict=True))
        seen = self._seen
        if len(fresh) < take or not seen.keys().isdisjoint(fresh):
            # A duplicate in the run: take the payments before it.
            fresh = {}
            for i, key in enumerate(keys[:take]):
                if key in seen or key in fresh:
                    take = i
                    break
                fresh[key] = first_line + i
        if take == 0:
            return 0
        seen.update(fresh)
        self.count += take
        self._next_sequence = nxt + take
        signed = amounts[:take]
        self.net_sum += int(signed.sum())
        self.recalls += int(np.count_nonzero(signed < 0))
        if self.all_today and bool((dates[:take] != self._today_ymd).any()):
            self.all_today = False
        return take

    def add_unreadable(
        self, lineno: int, sequence: int | None, amount: int | None, sign: str | None
    ) -> list[Finding]:
        """Count a record with layout findings, using what could be read of it."""
        self.count += 1
        self.all_today = False
        out: list[Finding] = []
        self._sequence(lineno, sequence, out)
        if amount is None or sign is None:
            self.sum_known = False
        else:
            self.net_sum += -amount if sign == "-" else amount
            self.recalls += sign == "-"
        return out

    def _sequence(self, lineno: int, sequence: int | None, out: list[Finding]) -> None:
        """Called when ``sequence`` is not simply the next number (or could not be read)."""
        nxt = self._next_sequence
        expected = self._candidates if nxt < 0 else (nxt,)
        if sequence is None:
            following = tuple(e + 1 for e in expected)
        elif sequence in expected:
            following = (sequence + 1,)
        else:
            out.append(
                _error(
                    "sequence",
                    "line sequence numbers must run from 00001, +1 per transaction",
                    lineno,
                    "sequence",
                    f"{expected[0]:05d}",
                    f"{sequence:05d}",
                )
            )
            # Either this number is wrong (the next is expected+1) or records are missing (the
            # next is sequence+1): accept both, so one slip is one finding.
            following = (expected[0] + 1, sequence + 1)
        if len(following) == 1:
            self._next_sequence = following[0]
        else:
            self._next_sequence = -1
            self._candidates = following

    def _duplicate(self, lineno: int, where: str) -> Finding:
        return _error(
            "payment.duplicate",
            f"likely duplicate of the payment at {where} "
            "(same paying unit, payment ident, beneficiary, date, amount and sign)",
            lineno,
            "payment_ident",
            "each payment once",
            f"same as {where}",
            severity=Severity.WARNING,
        )

    @property
    def is_straks(self) -> bool:
        """All payments have today's disposition date: an immediate ("straks") delivery."""
        return self.count > 0 and self.all_today


def check_delivery(
    header: G68Header,
    trailer: G68Trailer,
    trailer_line: int,
    totals: DeliveryTotals,
    columns: dict[str, tuple[int, int]],
) -> list[Finding]:
    """SLUTD against the records and Z300. Every finding here refuses the whole delivery.

    ``columns`` are SLUTD's columns per field name, for the findings.
    """
    out: list[Finding] = []
    if trailer.supplier_id != header.supplier_id:
        out.append(
            _error(
                "slutd.supplier",
                "SLUTD's data supplier id differs from Z300's",
                trailer_line,
                "supplier_id",
                header.supplier_id,
                trailer.supplier_id,
                columns=columns.get("supplier_id"),
            )
        )
    if trailer.count != totals.count:
        out.append(
            _error(
                "slutd.count",
                f"SLUTD says {trailer.count} G68 records, the delivery holds {totals.count}",
                trailer_line,
                "count",
                str(totals.count),
                str(trailer.count),
                columns=columns.get("count"),
            )
        )
    if totals.sum_known and trailer.net_sum != totals.net_sum:
        out.append(
            _error(
                "slutd.sum",
                f"SLUTD's net sum {_kr(trailer.net_sum)} differs from the records' "
                f"{_kr(totals.net_sum)}",
                trailer_line,
                "net_sum",
                f"{totals.net_sum} øre",
                f"{trailer.net_sum} øre",
                columns=_span(columns.get("net_sum"), columns.get("net_sign")),
            )
        )
    if totals.count > MAX_PAYMENTS:
        out.append(
            _error(
                "structure.too_many",
                f"a delivery holds at most {MAX_PAYMENTS} payments (5-digit sequence number)",
                trailer_line,
                None,
                f"at most {MAX_PAYMENTS}",
                str(totals.count),
            )
        )
    return out


def _span(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    if a is None or b is None:
        return a or b
    return (min(a[0], b[0]), max(a[1], b[1]))


def _kr(ore: int) -> str:
    """Øre as Danish kroner: ``-1.234,56 kr``."""
    sign = "-" if ore < 0 else ""
    kroner, rest = divmod(abs(ore), 100)
    return f"{sign}{kroner:,}".replace(",", ".") + f",{rest:02d} kr"
