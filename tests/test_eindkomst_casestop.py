"""A closed case (TØK's effectuation interface) stops the citizen's tax-card subscription: a 2101
with the employment end, through the ordinary send; the case system is told."""

from __future__ import annotations

import datetime as dt
import io
import signal
from pathlib import Path

from tests.eik_config import toekgw, write_config
from tests.eik_flow_helpers import rig
from tests.eik_helpers import SE, cpr
from tests.tok_helpers import PLACES, Names, clock, header, send, statuses
from toekgw.adapters.config import load_settings
from toekgw.adapters.eindkomst import COUNTERPART, DELIVERY
from toekgw.adapters.eindkomst.casestop import stop_closed_cases
from toekgw.adapters.eindkomst.runtime import open_eindkomst
from toekgw.adapters.tok import Intake, StatusPublisher
from toekgw.formats.eindkomst import TaxCardOrder
from toekgw.formats.eindkomst.codec import decode_records
from toekgw.formats.eindkomst.records import TaxCardOrderRecord
from toekgw.formats.tok import CaseEvent, CaseReport, Party, PartyKind
from toekgw.gateway.journal import Journal, open_journal
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker

START = dt.date(2026, 10, 1)


def _case(case_id: str, person: str, on: dt.date, event: CaseEvent = CaseEvent.CLOSED) -> object:
    return CaseReport(header(sender="KY"), case_id, Party(PartyKind.CPR, person), event, on)


def _report_cases(journal: Journal, broker: SqliteBroker, names: Names, *cases: object) -> None:
    for case in cases:
        send(broker, names.effectuations, case)
    intake = Intake(journal, broker, registration_places=PLACES, now=clock, queues=names.queues)
    assert intake.take().taken == len(cases)


def _stops_sent(journal: Journal) -> list[TaxCardOrderRecord]:
    found = []
    for tx in journal.transmissions(counterpart=COUNTERPART, kind=DELIVERY.name):
        body = Path(str(tx.local_path)).read_bytes()
        for entry in decode_records(io.BytesIO(body)):
            rec = entry.record
            if isinstance(rec, TaxCardOrderRecord) and rec.employment_end is not None:
                found.append(rec)
    return found


def test_a_closed_case_ends_the_tax_card_order_and_the_case_system_is_told(
    tmp_path: Path,
) -> None:
    ordered, unordered, early = cpr(1), cpr(2), cpr(3)
    names = Names()
    with rig(tmp_path) as r, SqliteBroker(tmp_path / "broker.sqlite") as broker:
        r.gateway.send(orders=[TaxCardOrder(SE, p, START, "1", START) for p in (ordered, early)])
        r.round_trip()
        closed_on = dt.date(2026, 11, 30)
        _report_cases(
            r.journal,
            broker,
            names,
            _case("S-1", ordered, closed_on),
            _case("S-2", unordered, closed_on, CaseEvent.DELETED),
            _case("S-3", early, dt.date(2026, 9, 1)),  # before the order's employment start
        )
        result = stop_closed_cases(r.gateway)
        assert (result.stopped, result.nothing_to_stop, result.rejected) == (1, 1, 1)
        (stop,) = _stops_sent(r.journal)
        assert (stop.cpr, stop.employment_start, stop.employment_end) == (ordered, START, closed_on)
        assert (stop.order_type, stop.valid_from) == ("1", START)
        r.round_trip()  # SKAT takes the stop (and answers the order with the card as it ends)
        # Nothing left to do, however often it runs; the order now ends.
        again = stop_closed_cases(r.gateway)
        assert (again.stopped, again.nothing_to_stop, again.rejected) == (0, 0, 0)
        publisher = StatusPublisher(
            r.journal, r.journal, broker, now=clock, reply_queue=names.reply
        )
        publisher.publish_due()
        told = {s.business_key: s.state for s in statuses(broker, names.reply_of("KY"))}
        assert told == {"S-1": "applied", "S-2": "applied", "S-3": "rejected"}
        (late,) = r.journal.items_by_lookup("tok", "KY:case:S-3")
        reasons = " ".join(e.reason or "" for e in r.journal.item_history(late.id).events)
        assert "before the tax-card order's start" in reasons
        assert early not in reasons  # no CPR in clear in the reasons


def test_killed_between_the_stop_and_the_case_item_sends_no_second_stop(tmp_path: Path) -> None:
    person = cpr(4)
    config = write_config(tmp_path)
    settings = load_settings(config)
    names = Names()
    with open_eindkomst(settings) as gw:
        gw.send(orders=[TaxCardOrder(SE, person, START, "1", START)])
        with SqliteBroker(tmp_path / "broker.sqlite") as broker:
            _report_cases(gw.journal, broker, names, _case("S-9", person, dt.date(2026, 11, 30)))
    killed = toekgw(
        "eindkomst", "stop-cases", "--config", str(config), crash_at="eindkomst.casestop.after_send"
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with open_eindkomst(load_settings(config)) as gw:
        after = stop_closed_cases(gw)
        assert (after.stopped, after.nothing_to_stop) == (0, 1)  # the order already ends
        assert len(_stops_sent(gw.journal)) == 1
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    try:
        (case,) = [i for i in journal.items_of_kind("tok-effectuations", "applied")]
        assert case.business_key.startswith("KY:case:S-9")
    finally:
        journal.close()
