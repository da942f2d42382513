"""Report each effectuated payment to SF1490's benefit index once.

A payment is effectuated when the bank has paid it (NemKonto's Retursvar 8: ``at-bank``, and
the states that follow from there without a failure, :data:`EFFECTUATED_STATES`). Each one is
reported in its own SOAP call, which is a transmission of the journal:

1. **claimed**: in one durable commit the report becomes an outbound transmission (ref
   ``sf1490:<payment key>``, unique) carrying one item (the payment's key, unique per
   counterpart) with everything the call sends. Two runs cannot both claim a payment (the
   flow's lock, and the journal's UNIQUE constraints behind it); a crash after the claim
   leaves it claimed.
2. **the call**: the effectuation with a token for the municipality's CVR, tried
   ``attempts`` times with backoff on transport faults only (``tenacity``); a refused token
   is fetched again once.
3. **reported** when the index says 20; **refused** with a finding on the error list when it
   answers a SOAP fault or another ``StatusKode``. Unreachable: it stays claimed, and the next
   run sends it again, first.

A payment whose recipient retention has already replaced by a pseudonym (it was paid longer
ago than its period and never reported) is not sent: the index would get a made-up person. It
is claimed and refused at once, on the error list once (``ydelsesindeks.pseudonymised``).

The same payment is always the same index object (UUIDv5 of its key), so a call repeated
after a crash or a lost answer is a repeat the index recognises, not a second report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from toekgw.adapters.g68.payments import PaymentInstruction
from toekgw.adapters.kombit.tokens import TokenClient, TokenError
from toekgw.adapters.oir.model import EFFECTUATED_STATES, PAYMENT_KINDS
from toekgw.adapters.ydelsesindeks.client import IndexClient, IndexRefused, IndexUnavailable
from toekgw.adapters.ydelsesindeks.settings import YdelsesindeksSettings
from toekgw.formats.findings import Finding, Severity, mask_cpr_in_text
from toekgw.formats.ydelsesindeks import Effektuering, effektuering_id
from toekgw.gateway.danish_time import danish_date_of
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal import (
    Direction,
    Item,
    Journal,
    KindSpec,
    Lifecycle,
    NewItem,
    NewTransmission,
)
from toekgw.gateway.kinds import register_kind
from toekgw.gateway.privacy import PersonalData, is_pseudonym, register_personal_data

__all__ = ["REPORT_KIND", "ReportRun", "report_effectuated"]

_STATES = Lifecycle(
    ("claimed",),
    {"claimed": ("reported", "refused")},
    {
        "claimed": "journaled before the call; sent again by the next run until answered",
        "reported": "the benefit index took it (StatusKode 20)",
        "refused": "the benefit index refused it (on the error list)",
    },
)
REPORT_KIND = KindSpec("sf1490-report", Direction.OUT, transmission=_STATES, item=_STATES)
register_kind(REPORT_KIND)


def _reported_cpr(data: Mapping[str, Any]) -> list[str]:
    """The citizen a report is about: its recipient's CPR number (or its pseudonym)."""
    recipient = data.get("recipient")
    if not isinstance(recipient, str):
        return []
    if is_pseudonym(recipient):
        return [recipient]
    scheme, _, number = recipient.rpartition(":")
    return [number] if scheme == "urn:oio:cpr-nr" else []


#: A report's payload names its recipient (``urn:oio:cpr-nr:…``): personal data, replaced by
#: a pseudonym once the report is answered and older than ``[retention.kinds]`` says.
register_personal_data(
    REPORT_KIND.name,
    PersonalData(
        fields=("recipient",), subjects=_reported_cpr, settled=frozenset({"reported", "refused"})
    ),
)
_BATCH = 500
# The G68 ident codes the index has a URN for, and the digits at the end of the field.
_URNS = {"02": ("cpr-nr", 10), "11": ("cvr-nr", 8)}


@dataclasses.dataclass(slots=True)
class ReportRun:
    reported: int = 0
    refused: int = 0
    unreachable: int = 0
    #: "key: why" of each payment not reportable, and why the index could not be reached:
    #: printed, so masked when made (a payment's key can hold a CPR number)
    skipped: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)

    def text(self) -> str:
        left = (
            f", {self.unreachable} left for the next run ({self.problems[0]})"
            if self.unreachable
            else ""
        )
        skipped = f", {len(self.skipped)} not reportable" if self.skipped else ""
        return f"{self.reported} reported, {self.refused} refused{left}{skipped}"


def _effektuering(
    payment: Item, cvr_of: Mapping[str, str], settings: YdelsesindeksSettings
) -> Effektuering:
    p = PaymentInstruction.from_data(payment.data or {})
    cvr = cvr_of.get(p.municipality)
    if cvr is None:
        raise KeyError(f"no CVR for municipality {p.municipality} in [nemkonto.authorities]")
    day = p.disposition_date or danish_date_of(payment.updated_at)
    return Effektuering(
        object_id=effektuering_id(payment.business_key),
        key=payment.business_key[-50:],
        municipality_cvr=cvr,
        recipient=_recipient(p),
        disposition_date=day,
        period_start=day,
        period_end=day,
        amount_ore=payment.amount_ore,
        paying_unit=p.paying_unit or p.municipality,
        benefit=p.transaction_type,
        system_uuid=settings.system_uuid,
    )


class _Pseudonymised(Exception):
    """The payment's recipient was replaced by a pseudonym (retention) before it was reported."""


def _recipient(p: PaymentInstruction) -> str | None:
    """The recipient as the index names a party (a CPR or CVR number); None otherwise."""
    if p.ident_code not in _URNS:
        return None
    if is_pseudonym(p.beneficiary):
        raise _Pseudonymised(
            "its recipient was replaced by a pseudonym (retention) before it was reported: "
            "not sent, the index would get a made-up person"
        )
    scheme, digits = _URNS[p.ident_code]
    return f"urn:oio:{scheme}:{p.beneficiary[-digits:]}"


def _as_data(e: Effektuering) -> dict[str, object]:
    data = dataclasses.asdict(e)
    for name in ("disposition_date", "period_start", "period_end"):
        data[name] = data[name].isoformat()
    return data


def _from_data(data: Mapping[str, object]) -> Effektuering:
    values = dict(data)
    for name in ("disposition_date", "period_start", "period_end"):
        values[name] = dt.date.fromisoformat(str(values[name]))
    return Effektuering(**values)  # type: ignore[arg-type]


def _effectuated(journal: Journal) -> Iterator[Item]:
    for kind, state in itertools.product(PAYMENT_KINDS, EFFECTUATED_STATES):
        yield from journal.items_of_kind(kind, state)


def _batches(items: Iterable[Item]) -> Iterator[list[Item]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, _BATCH)):
        yield batch


def _claim(journal: Journal, counterpart: str, payment: Item, e: Effektuering | None) -> int | None:
    """The claimed report's transmission id, or None when it was claimed before (``e``: what
    the call sends; ``None`` for a payment that is not sent)."""
    with journal.transaction(durable=True):
        if journal.find_transmission(ref=f"sf1490:{payment.business_key}") is not None:
            return None
        tx = journal.create_transmission(
            NewTransmission(
                counterpart=counterpart,
                kind=REPORT_KIND.name,
                state="claimed",
                ref=f"sf1490:{payment.business_key}",
                meta={"payment_item": payment.id},
                reason="claimed: an effectuated payment to report",
            )
        )
        journal.add_items(
            tx.id,
            [
                NewItem(
                    payment.business_key,
                    payment.amount_ore,
                    seq=1,
                    data=None if e is None else _as_data(e),
                )
            ],
            state="claimed",
            reason="claimed",
        )
    return tx.id


def _refuse_unsent(journal: Journal, counterpart: str, payment: Item, reason: str) -> bool:
    """Journal a payment that cannot be reported as claimed and refused at once, and list
    it (once: a later run finds it journaled); False when it was claimed before."""
    with journal.transaction(durable=True):
        tid = _claim(journal, counterpart, payment, None)
        if tid is None:
            return False
        journal.set_state(tid, "refused", expect="claimed", reason=f"not sent: {reason}")
        journal.move_items(tid, "claimed", "refused", reason=f"not sent: {reason}")
        journal.add_error(
            counterpart=counterpart,
            subject="sf1490-refused",
            findings=[Finding("ydelsesindeks.pseudonymised", Severity.ERROR, reason)],
            transmission_id=tid,
            business_key=payment.business_key,
        )
    return True


def report_effectuated(
    journal: Journal,
    client: IndexClient,
    tokens: TokenClient,
    settings: YdelsesindeksSettings,
    cvr_of: Mapping[str, str],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> ReportRun:
    """Send what an earlier run claimed and left, then claim and send every effectuated
    payment not reported yet. The caller holds the flow's lock."""
    journal.define_kind(REPORT_KIND)
    run = ReportRun()
    send = _Sender(journal, client, tokens, settings, run, sleep)
    for tx in journal.transmissions(
        counterpart=settings.counterpart, kind=REPORT_KIND.name, states=("claimed",)
    ):
        send(tx.id)
    for batch in _batches(_effectuated(journal)):
        known = journal.existing_items(settings.counterpart, (p.business_key for p in batch))
        for payment in batch:
            if payment.business_key in known:
                continue
            try:
                e = _effektuering(payment, cvr_of, settings)
            except KeyError as exc:
                # masked when made, as the ØiR intake's lines are: a key can hold a CPR number
                run.skipped.append(mask_cpr_in_text(f"{payment.business_key}: {exc.args[0]}"))
                continue
            except _Pseudonymised as exc:
                if _refuse_unsent(journal, settings.counterpart, payment, str(exc)):
                    run.refused += 1
                continue
            tid = _claim(journal, settings.counterpart, payment, e)
            if tid is not None:
                crash_point("ydelsesindeks.claimed")
                send(tid)
    return run


@dataclasses.dataclass
class _Sender:
    journal: Journal
    client: IndexClient
    tokens: TokenClient
    settings: YdelsesindeksSettings
    run: ReportRun
    sleep: Callable[[float], None]

    def __call__(self, tid: int) -> None:
        item = next(self.journal.items(tid))
        e = _from_data(item.data or {})
        try:
            self._call(e)
        except IndexRefused as exc:
            self._record(tid, "refused", f"refused: {exc.code}: {exc.text}")
            self.journal.add_error(
                counterpart=self.settings.counterpart,
                subject="sf1490-refused",
                findings=[
                    Finding(f"ydelsesindeks.{exc.code}", Severity.ERROR, exc.text or exc.code)
                ],
                transmission_id=tid,
                business_key=item.business_key,
            )
            self.run.refused += 1
            return
        except (IndexUnavailable, TokenError) as exc:
            # No answer, or no token for the municipality: claimed, sent again next run.
            self.journal.note(tid, f"not answered: {exc}")
            self.run.unreachable += 1
            self.run.problems.append(mask_cpr_in_text(str(exc)))
            return
        crash_point("ydelsesindeks.answered")
        self._record(tid, "reported", "the benefit index took it (StatusKode 20)")
        self.run.reported += 1

    def _call(self, e: Effektuering) -> None:
        retrying = Retrying(
            retry=retry_if_exception_type(IndexUnavailable),
            stop=stop_after_attempt(self.settings.attempts),
            wait=wait_exponential(multiplier=self.settings.backoff_seconds, max=60),
            reraise=True,
            sleep=self.sleep,
        )
        for attempt in retrying:
            with attempt:
                self.tokens.call_with_token(
                    self.settings.service,
                    e.municipality_cvr,
                    lambda assertion: self.client.report(e, assertion),
                )

    def _record(self, tid: int, state: str, reason: str) -> None:
        with self.journal.transaction(durable=True):
            self.journal.set_state(tid, state, expect="claimed", reason=reason)
            self.journal.move_items(tid, "claimed", state, reason=reason)
