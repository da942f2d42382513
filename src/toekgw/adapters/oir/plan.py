"""From booking events to vouchers, as a stream (memory flat in the number of events).

Events arrive ordered by municipality, posting date and event (:meth:`Books.open_events`);
each run of equal ``(municipality, day, event)`` becomes one voucher, split into parts of at
most ``max_postings_per_voucher`` postings at event boundaries. Every event adds its rule's
debit and credit of the same amount, so a voucher balances by construction — and
:meth:`~toekgw.formats.oir.Voucher.require_balanced` checks it again before it is kept.
Each posting's account must be a class of the sortiment valid on the posting date; where one
is not, the voucher is still made (whole and balanced) but carries findings, and is held
back from sending.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from toekgw.adapters.oir.chart import Chart
from toekgw.adapters.oir.model import OIR_NAMESPACE, RULES
from toekgw.adapters.oir.settings import OirSettings
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.oir import Account, Posting, Side, Voucher
from toekgw.gateway.journal.books import BookingEvent, ClassRow, PostingRow

__all__ = ["PlannedVoucher", "plan_vouchers", "postings_for", "voucher_of"]

_account = functools.lru_cache(maxsize=4096)(Account.parse)
#: Stands for an account the configuration does not name, on a voucher held for it.
UNKNOWN_ACCOUNT = Account("0.00.00", "0", "0")


@dataclass(slots=True)
class PlannedVoucher:
    voucher: Voucher
    group: str
    kind: str
    rows: list[PostingRow]
    findings: list[Finding] = field(default_factory=list)


def postings_for(
    event: BookingEvent,
    day: dt.date,
    settings: OirSettings,
    chart: Chart,
    seq: int,
    findings: list[Finding],
) -> tuple[PostingRow, PostingRow]:
    """The debit and credit rows of one event (``seq`` numbers the first)."""
    rule = RULES[event.event]
    rows = []
    for n, (side, role) in enumerate(((Side.DEBIT, rule.debit), (Side.CREDIT, rule.credit))):
        account = settings.account(role, event.group, event.category)
        if account is None:
            found: ClassRow | Finding = Finding(
                "oir.account.missing",
                Severity.ERROR,
                f"a {event.event} event posts to the {role} account, and [oir.accounts] "
                f"names no {role}",
                field=role,
                expected=f'[oir.accounts] {role} = "<funktion>/<dranst>/<art>"',
            )
            account = UNKNOWN_ACCOUNT
        else:
            found = chart.find(account, day)
        class_id = None
        if isinstance(found, Finding):
            if found not in findings:
                findings.append(found)
        else:
            class_id = found.class_id
        rows.append(
            PostingRow(
                seq + n,
                side.value,
                event.amount_ore,
                account.code,
                class_id,
                rule.text,
                event.bundle_ref,
                event.member_key,
                event.business_key,
                event.id,
            )
        )
    return rows[0], rows[1]


def voucher_of(voucher_id: str, day: dt.date, number: str, rows: Sequence[PostingRow]) -> Voucher:
    """The format's voucher for stored (or planned) rows."""
    return Voucher(
        voucher_id=voucher_id,
        number=number,
        date=day,
        postings=[
            Posting(
                posting_id=f"{voucher_id[:8]}-{r.seq}",
                date=day,
                amount_ore=r.amount_ore,
                side=Side(r.side),
                account=_account(r.account),
                class_id=r.class_id,
                text=r.text,
                bundle_id=r.bundle_ref,
                payment_id=r.member_key,
                business_key=r.business_key,
            )
            for r in rows
        ],
    )


def voucher_number(kind: str, group: str, day: dt.date, first_event: int) -> str:
    return f"TOEK-{kind[:3].upper()}-{group}-{day:%Y%m%d}-{first_event}"


def plan_vouchers(
    events: Iterable[BookingEvent], settings: OirSettings, chart: Chart
) -> Iterator[PlannedVoucher]:
    """One voucher per municipality, posting date and event (in parts of at most
    ``max_postings_per_voucher`` postings), streamed."""
    per_voucher = max(1, settings.max_postings_per_voucher // 2)
    key: tuple[str, dt.date, str] | None = None
    rows: list[PostingRow] = []
    findings: list[Finding] = []
    first = 0
    for event in events:
        this = (event.group, event.day, event.event)
        if rows and (this != key or len(rows) >= 2 * per_voucher):
            assert key is not None
            yield _planned(key, first, rows, findings)
            rows, findings = [], []
        if not rows:
            key, first = this, event.id
        rows.extend(postings_for(event, event.day, settings, chart, len(rows) + 1, findings))
    if rows:
        assert key is not None
        yield _planned(key, first, rows, findings)


def _planned(
    key: tuple[str, dt.date, str], first: int, rows: list[PostingRow], findings: list[Finding]
) -> PlannedVoucher:
    group, day, kind = key
    voucher_id = str(uuid.uuid5(OIR_NAMESPACE, f"{group}|{day}|{kind}|{first}"))
    voucher = voucher_of(voucher_id, day, voucher_number(kind, group, day, first), rows)
    voucher.require_balanced()
    return PlannedVoucher(voucher, group, kind, rows, findings)
