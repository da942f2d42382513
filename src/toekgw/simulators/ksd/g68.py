"""Generate G68 deliveries as KSD would send them, with planted errors on request.

Deterministic for a seed, streaming (memory does not grow with the count), realistic: CPR
numbers with valid birth dates, CVR/SE numbers that pass mod-11, Danish payment texts, amounts
and disposition dates around ``today``. Every planted error is reported (line, finding code,
kind) so that a test can check that the validator finds exactly those and nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from toekgw.formats.fixed import write_lines
from toekgw.formats.g68 import (
    MAX_PAYMENTS,
    G68Form,
    G68Header,
    G68Payment,
    G68Trailer,
    encode_header,
    encode_trailer,
    payment_codec,
)
from toekgw.formats.g68.rules import DEFAULT_DAGPENGE_UNITS, DEFAULT_MAX_AGE_DAYS
from toekgw.gateway.danish_time import danish_today
from toekgw.gateway.errors import UsageError

__all__ = [
    "ERROR_KINDS",
    "GenerationSummary",
    "GeneratorSettings",
    "Planted",
    "generate_lines",
    "manifest_path",
    "write_deliveries",
    "write_delivery",
]

# Planted error kind -> the finding code the validator must report on that line.
ERROR_KINDS: dict[str, str] = {
    "amount_not_digits": "g68.field.digits",
    "cpr_bad_date": "g68.ident.cpr",
    "cvr_check_digit": "g68.ident.cvr",
    "forbidden_char": "g68.field.chars",
    "type10_not_account": "g68.type10.ident",
    "zero_amount": "g68.amount.zero",
    "date_too_old": "g68.date.too_old",
    "date_invalid": "g68.field.date",
    "duplicate_payment": "g68.payment.duplicate",
    "pnumber_dagpenge": "g68.ident.pnumber_dagpenge",
    # floating form only
    "tag_out_of_order": "g68.tag.order",
    "tag_missing": "g68.tag.missing",
    "tag_unknown": "g68.tag.unknown",
    "tag_width": "g68.tag.width",
    # fast form only
    "required_blank": "g68.field.required",
}
_FLOATING_ONLY = {"tag_out_of_order", "tag_missing", "tag_unknown", "tag_width"}
_FAST_ONLY = {"required_blank"}

_BENEFITS = (
    "Kontanthjælp",
    "Boligstøtte",
    "Førtidspension",
    "Sygedagpenge",
    "Børne- og ungeydelse",
    "Enkeltydelse, tandpleje",
    "Særlig støtte §34",
    "Uddannelseshjælp",
    "Ældrecheck",
    "Hjælp til flytning",
    "Ressourceforløbsydelse",
    "Tilskud til medicin",
)
_MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)
_SECOND_LINES = (
    "Udbetalt af Jobcenter Århus",
    "Ydelsescenter Ølstykke",
    "Spørgsmål: ring til Borgerservice",
    "Efterbetaling for perioden",
    "Modregnet tidligere udlæg",
    "Sagsbehandler: Søren Kjærgård",
)
_PAYING_UNITS = ("4410", "4420", "6130", "6140", "7210")
_CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)


@dataclass(frozen=True, slots=True)
class GeneratorSettings:
    count: int
    seed: int
    form: G68Form = G68Form.FAST
    error_rate: float = 0.0
    today: dt.date | None = None  # default: the real today
    supplier_id: str = "29189846"
    delivery_number: int = 1
    registration_place: str = "101"
    straks: bool = False  # all disposition dates today: an immediate delivery
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    dagpenge_units: frozenset[str] = DEFAULT_DAGPENGE_UNITS
    created: dt.datetime | None = None  # Z300's creation time; default: today 06:00:00


@dataclass(frozen=True, slots=True)
class Planted:
    line: int
    code: str
    kind: str


@dataclass(frozen=True, slots=True)
class GenerationSummary:
    path: Path
    manifest: Path
    count: int
    planted: int
    net_sum: int
    delivery_number: int


def _cvr(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(6)]
        check = (-sum(w * d for w, d in zip(_CVR_WEIGHTS, digits, strict=True))) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


def _cpr(rng: random.Random) -> str:
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 65))
    # The 7th digit tells the century: 0-3 for 1900-1999, 4 for 2000-2036.
    seventh = rng.randint(0, 3) if born.year < 2000 else 4
    return f"{born:%d%m%y}{seventh}{rng.randrange(1000):03d}"


class _Payments:
    """Valid payments, one after the other, from one random stream."""

    def __init__(self, s: GeneratorSettings, rng: random.Random, today: dt.date) -> None:
        self.s = s
        self.rng = rng
        self.today = today
        self.ident_base = rng.randrange(10**6)
        # A municipality pays a limited set of firms and workplaces, again and again.
        self.firms = ["000000" + _cvr(rng) for _ in range(2_000)]
        self.workplaces = [f"00001{rng.randrange(10**9):09d}" for _ in range(500)]

    def make(self, seq: int) -> G68Payment:
        rng = self.rng
        roll = rng.random()
        if roll < 0.70:
            code, number = "02", "0000" + _cpr(rng)
        elif roll < 0.80:
            code, number = "11", rng.choice(self.firms)
        elif roll < 0.85:
            code, number = "03", rng.choice(self.firms)
        elif roll < 0.90:
            code, number = "12", rng.choice(self.workplaces)
        else:
            code = "01"
            number = f"{rng.randint(1000, 9899)}{rng.randint(10**6, 10**10 - 1):010d}"
        unit = rng.choice(_PAYING_UNITS)
        if code != "12" and rng.random() < 0.15:
            unit = rng.choice(sorted(self.s.dagpenge_units) or _PAYING_UNITS)
        days = 0 if self.s.straks else rng.choice((0, 1, 1, 2, 3, 5, 7, 14, -1, -3))
        benefit = rng.choice(_BENEFITS)
        month = _MONTHS[(self.today.month - 1) % 12]
        texts: tuple[str, ...] = (f"{benefit} {month} {self.today.year}",)
        if rng.random() < 0.4:
            texts = (*texts, rng.choice(_SECOND_LINES))
        return G68Payment(
            registration_place=self.s.registration_place,
            sequence=seq,
            transaction_type="10" if code == "01" else "01",
            paying_unit=unit,
            organisation_type=rng.choice(("01", "02", "03", None)),
            payment_ident=f"{self.ident_base:06d}{self.s.delivery_number:05d}{seq:07d}",
            amount=rng.randint(5_000, 2_500_000),
            sign="-" if rng.random() < 0.02 else "+",
            ident_code=code,
            beneficiary=number,
            payment_date=self.today + dt.timedelta(days=days),
            posting_reference=f"KSD-{rng.randrange(10**10):010d}",
            texts=texts,
        )


def _mutate_value(line: str, form: G68Form, field: str, new: Callable[[str], str]) -> str:
    """Replace the value of ``field`` in an encoded line."""
    codec = payment_codec(form)
    columns = codec.locate(line, field)
    assert columns is not None
    start, end = columns
    return line[: start - 1] + new(line[start - 1 : end]) + line[end:]


def _tag_span(line: str, tag: str) -> tuple[int, int]:
    start = line.index("&" + tag)
    end = line.find("&", start + 1)
    return start, len(line) if end < 0 else end


class _Planter:
    def __init__(self, s: GeneratorSettings, rng: random.Random, today: dt.date) -> None:
        self.s = s
        self.rng = rng
        self.today = today
        excluded = _FAST_ONLY if s.form is G68Form.FLOATING else _FLOATING_ONLY
        self.kinds = [k for k in ERROR_KINDS if k not in excluded]

    def plant(self, p: G68Payment, last_clean: G68Payment | None) -> tuple[str, str] | None:
        """``(kind, line)`` for a payment with one planted error, or None if none fits."""
        kind = self.rng.choice(self.kinds)
        p = replace(p, sign="+")
        if kind in _IN_THE_PAYMENT:
            planted = self._in_the_payment(kind, p, last_clean)
            return None if planted is None else (kind, payment_codec(self.s.form).encode(planted))
        return kind, self._in_the_line(kind, p)

    def _in_the_payment(
        self, kind: str, p: G68Payment, last_clean: G68Payment | None
    ) -> G68Payment | None:
        """The payment with an error its codec writes as it is (a rule the record breaks),
        or None if none fits."""
        rng = self.rng
        if kind == "duplicate_payment":
            if last_clean is None:
                return None
            q = last_clean
            return replace(
                p,
                paying_unit=q.paying_unit,
                payment_ident=q.payment_ident,
                beneficiary=q.beneficiary,
                payment_date=q.payment_date,
                amount=q.amount,
                sign=q.sign,
                ident_code=q.ident_code,
                transaction_type=q.transaction_type,
            )
        if kind == "cpr_bad_date":
            return replace(
                p,
                ident_code="02",
                transaction_type="01",
                beneficiary=f"0000{rng.randint(32, 39)}{rng.randint(1, 12):02d}"
                f"{rng.randrange(10**6):06d}",
            )
        if kind == "cvr_check_digit":
            good = _cvr(rng)
            bad = good[:7] + str((int(good[7]) + 1) % 10)
            return replace(p, ident_code="11", transaction_type="01", beneficiary="000000" + bad)
        if kind == "type10_not_account":
            return replace(
                p, ident_code="02", transaction_type="10", beneficiary="0000" + _cpr(rng)
            )
        if kind == "zero_amount":
            return replace(p, amount=0)
        if kind == "date_too_old":
            old = self.today - dt.timedelta(days=self.s.max_age_days + rng.randint(1, 400))
            return replace(p, payment_date=old)
        assert kind == "pnumber_dagpenge", kind
        if not self.s.dagpenge_units:
            return None
        return replace(
            p,
            ident_code="12",
            transaction_type="01",
            beneficiary=f"00001{rng.randrange(10**9):09d}",
            paying_unit=rng.choice(sorted(self.s.dagpenge_units)),
        )

    def _in_the_line(self, kind: str, p: G68Payment) -> str:
        """The payment's line with an error no codec would write (a layout the line breaks)."""
        rng, form = self.rng, self.s.form
        line = payment_codec(form).encode(p)
        if kind == "amount_not_digits":
            letter = rng.choice("AOlx ")
            pos = rng.randrange(11)
            return _mutate_value(line, form, "amount", lambda v: v[:pos] + letter + v[pos + 1 :])
        if kind == "forbidden_char":
            bad = rng.choice("!\\")
            pos = rng.randrange(len(p.texts[0]))
            return _mutate_value(line, form, "text_01", lambda v: v[:pos] + bad + v[pos + 1 :])
        if kind == "date_invalid":
            return _mutate_value(
                line, form, "payment_date", lambda v: v[:4] + rng.choice(("0230", "1332", "0431"))
            )
        if kind == "required_blank":
            return _mutate_value(line, form, "posting_reference", lambda v: " " * len(v))
        if kind == "tag_out_of_order":
            a0, a1 = _tag_span(line, "08")
            b0, b1 = _tag_span(line, "09")
            return line[:a0] + line[b0:b1] + line[a0:a1] + line[b1:]
        if kind == "tag_missing":
            a0, a1 = _tag_span(line, rng.choice(("07", "11", "16")))
            return line[:a0] + line[a1:]
        if kind == "tag_unknown":
            a0, _a1 = _tag_span(line, "16")
            return line[:a0] + f"&{rng.choice(('13', '20', '33'))}X" + line[a0:]
        if kind == "tag_width":
            return _mutate_value(line, form, "amount", lambda v: v[1:])
        raise AssertionError(kind)


#: The kinds of planted error :meth:`_Planter._in_the_payment` makes (the others are made in
#: the written line).
_IN_THE_PAYMENT = frozenset(
    {
        "duplicate_payment",
        "cpr_bad_date",
        "cvr_check_digit",
        "type10_not_account",
        "zero_amount",
        "date_too_old",
        "pnumber_dagpenge",
    }
)


def generate_lines(
    settings: GeneratorSettings, on_planted: Callable[[Planted], None] | None = None
) -> Iterator[str]:
    """The lines (without line ends) of one delivery: Z300, the G68 records, SLUTD."""
    s = settings
    if not 0 <= s.count <= MAX_PAYMENTS:
        raise UsageError(
            f"a G68 delivery holds at most {MAX_PAYMENTS:,} payments (5-digit sequence "
            f"number); asked for {s.count:,}",
            hint="use --split to write several deliveries",
        )
    if not 0.0 <= s.error_rate <= 1.0:
        raise UsageError(f"the error rate must be between 0 and 1, not {s.error_rate}")
    rng = random.Random(f"g68:{s.seed}:{s.delivery_number}")
    today = s.today or danish_today()
    created = s.created or dt.datetime.combine(today, dt.time(6, 0, 0))
    header = G68Header(s.supplier_id, created.date(), created.time(), s.delivery_number, s.form)
    yield encode_header(header)
    codec = payment_codec(s.form)
    payments = _Payments(s, rng, today)
    planter = _Planter(s, rng, today)
    net = 0
    last_clean: G68Payment | None = None
    for seq in range(1, s.count + 1):
        p = payments.make(seq)
        planted = None
        if s.error_rate and rng.random() < s.error_rate:
            planted = planter.plant(p, last_clean)
        if planted is None:
            line = codec.encode(p)
            last_clean = p
            net += p.signed_amount
        else:
            kind, line = planted
            # SLUTD carries the sum the sender meant: for a record made unreadable, the amount
            # it was generated with (planted records are all '+').
            decoded = codec.decode(line)
            net += p.amount if decoded is None else decoded.signed_amount
            if on_planted is not None:
                on_planted(Planted(seq + 1, ERROR_KINDS[kind], kind))
        yield line
    yield encode_trailer(G68Trailer(s.supplier_id, s.count, net), s.form)


def manifest_path(path: Path) -> Path:
    """Where the list of planted errors of ``path`` is written."""
    return path.with_name(path.name + ".planted.json")


def write_delivery(path: Path, settings: GeneratorSettings) -> GenerationSummary:
    """Write one delivery (CRLF, ISO-8859-1) and its manifest of planted errors beside it."""
    if settings.today is None:  # the day read once: the manifest's is the delivery's
        settings = replace(settings, today=danish_today())
    mpath = manifest_path(path)
    planted = 0
    net = 0
    head = {
        "file": path.name,
        "seed": settings.seed,
        "form": settings.form.name.lower(),
        "count": settings.count,
        "delivery_number": settings.delivery_number,
        "today": str(settings.today),
        "error_rate": settings.error_rate,
    }
    with path.open("wb") as out, mpath.open("w", encoding="utf-8") as manifest:
        manifest.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "planted": [')

        def record(p: Planted) -> None:
            nonlocal planted
            manifest.write(
                ("," if planted else "")
                + "\n  "
                + json.dumps({"line": p.line, "code": p.code, "kind": p.kind})
            )
            planted += 1

        last = ""
        for chunk in write_lines(generate_lines(settings, record)):
            out.write(chunk)
            last = chunk.decode("iso-8859-1")
        manifest.write("\n]}\n")
        net = int(last[20:35]) * (-1 if last[35] == "-" else 1)
    return GenerationSummary(path, mpath, settings.count, planted, net, settings.delivery_number)


def write_deliveries(
    path: Path,
    settings: GeneratorSettings,
    *,
    split: bool = False,
    per_delivery: int = MAX_PAYMENTS,
) -> list[GenerationSummary]:
    """``settings.count`` payments as one delivery, or with ``split`` as several numbered
    files of at most ``per_delivery`` payments each, with consecutive delivery numbers."""
    if not 1 <= per_delivery <= MAX_PAYMENTS:
        raise UsageError(f"a delivery holds 1 to {MAX_PAYMENTS:,} payments, not {per_delivery}")
    if not split:
        if settings.count > MAX_PAYMENTS:
            raise UsageError(
                f"a G68 delivery holds at most {MAX_PAYMENTS:,} payments (5-digit sequence "
                f"number); asked for {settings.count:,}",
                hint="add --split to write several numbered deliveries",
            )
        return [write_delivery(path, settings)]
    out: list[GenerationSummary] = []
    remaining = settings.count
    part = 0
    while remaining or not out:
        n = min(remaining, per_delivery)
        part += 1
        target = path.with_name(f"{path.stem}-{part:03d}{path.suffix}")
        out.append(
            write_delivery(
                target,
                replace(settings, count=n, delivery_number=settings.delivery_number + part - 1),
            )
        )
        remaining -= n
    return out
