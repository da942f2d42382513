"""The journal figures ``/metrics`` shows, read by the service's ``journal-figures`` job.

- ``items{kind,state}``: payments (and every other item kind of a present flow) per state;
- ``overdue_items{counterpart}``: NemKonto payments with no answer within ``overdue_hours``;
- ``error_list_entries{counterpart}``: unresolved entries on the error list;
- ``category3_bundles``, ``category3_differences``, ``category3_differences_oere`` and
  ``reconciliation_category`` ``{counterpart}``: NemKonto's reconciliation as of now (the
  bundles not reconciled, their differences that cannot be specified, and the whole's
  category 1/2/3);
- ``queue_depth{queue}``: messages waiting on the embedded queue's request and reply queues
  (a queue manager's own depths are its monitoring's: ``pymqi`` inquiry is not wired here).

One pass over the journal per run (the job's interval, default one minute): a scrape only
reads the latest figures, however often Prometheus asks.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from contextlib import closing

from toekgw.adapters.eindkomst.settings import EINDKOMST_SECTION
from toekgw.adapters.nemkonto import (
    NEMKONTO_SECTION,
    flow_settings,
    overdue_payments,
    reconcile_bundles,
)
from toekgw.adapters.nemkonto.reconcile import BundleReconciliation
from toekgw.gateway.config import Settings
from toekgw.gateway.danish_time import danish_date
from toekgw.gateway.journal import JournalReader, open_journal
from toekgw.gateway.metrics import Figure
from toekgw.gateway.transport.config import MqSettings, open_queue
from toekgw.gateway.transport.mq import SqliteQueue

__all__ = ["journal_figures"]


def journal_figures(settings: Settings, now: dt.datetime) -> list[Figure]:
    with closing(open_journal(settings.journal)) as journal:
        figures = list(_items(journal))
        figures.extend(_errors(journal))
        if settings.section(NEMKONTO_SECTION) is not None:
            flow = flow_settings(settings)
            late = overdue_payments(journal, flow, now)
            figures.append(
                Figure(
                    "overdue_items",
                    "Items with no answer within their counterpart's overdue time.",
                    len(late),
                    {"counterpart": "nemkonto"},
                )
            )
            figures.extend(_category3(reconcile_bundles(journal, flow, danish_date(now), now=now)))
    figures.extend(_queues(settings))
    return figures


def _items(journal: JournalReader) -> Iterator[Figure]:
    """Counted by the store per kind and state (no item is loaded)."""
    for kind in sorted({tx.kind for tx in journal.transmissions()}):
        for total in journal.state_totals(kind):
            labels = {"kind": kind, "state": total.state}
            yield Figure("items", "Journaled items per kind and state.", total.count, labels)


def _category3(rec: BundleReconciliation) -> Iterator[Figure]:
    """The bundles in category 3 (not reconciled) and their differences that cannot be
    specified, in count and gross øre (the reconciliation guidance's action-plan matter)."""
    where = {"counterpart": "nemkonto"}
    worst = [
        b.reconciliation
        for b in rec.bundles
        if b.reconciliation is not None and int(b.reconciliation.category) == 3
    ]
    unexplained = [d for r in worst for d in r.unexplained]
    total = rec.total.reconciliation
    yield Figure("category3_bundles", "Bundles not reconciled (category 3).", len(worst), where)
    yield Figure(
        "category3_differences",
        "Differences that cannot be specified (category 3), plus answers about payments no "
        "bundle carried.",
        len(unexplained) + len(rec.unexplained),
        where,
    )
    yield Figure(
        "category3_differences_oere",
        "The gross amount of the category-3 differences, in øre.",
        sum(abs(d.amount_oere) for d in unexplained),
        where,
    )
    yield Figure(
        "reconciliation_category",
        "The whole reconciliation's category as of now: 1, 2 or 3 (0: nothing sent).",
        int(total.category) if total else 0,
        where,
    )


def _errors(journal: JournalReader) -> Iterator[Figure]:
    counts = Counter(entry.counterpart for entry in journal.iter_errors())
    for counterpart, n in sorted(counts.items()):
        yield Figure(
            "error_list_entries",
            "Unresolved entries on the error list.",
            n,
            {"counterpart": counterpart},
        )


def _queues(settings: Settings) -> Iterator[Figure]:
    wanted: dict[tuple[str, str], MqSettings] = {}
    nemkonto = settings.section(NEMKONTO_SECTION)
    if nemkonto is not None:
        for name in (nemkonto.request_queue, nemkonto.reply_queue):
            wanted.setdefault((str(nemkonto.mq.queue_db), name), nemkonto.mq)
    eindkomst = settings.section(EINDKOMST_SECTION)
    if eindkomst is not None:
        for name in (eindkomst.request_queue, eindkomst.reply_queue):
            wanted.setdefault((str(eindkomst.mq.queue_db), name), eindkomst.mq)
    for (_db, name), mq in wanted.items():
        if mq.transport != "sqlite":
            continue
        with closing(open_queue(mq)) as queue:
            assert isinstance(queue, SqliteQueue)
            depth = queue.depth(name)
        yield Figure("queue_depth", "Messages waiting on a queue.", depth, {"queue": name})
