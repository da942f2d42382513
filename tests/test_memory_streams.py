"""Commands outside the month-end path that list or walk the whole journal hold one page of
it at a time, not all of it: each peak (tracemalloc) over ten times the rows stays about
where it was. Every command is called with its output going to /dev/null, so that what is
measured is the command's own memory, not the captured output's."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.eik_helpers import SE as EIK_SE
from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import G68_KIND, instruction, journal_delivery
from tests.oir_data import EXPENSE, INTERMEDIATE
from tests.oir_data import settings as oir_settings
from tests.test_payments_cli import payments_config
from toekgw.adapters.eindkomst import EindkomstGateway, MqRoute, collect
from toekgw.adapters.eindkomst.collect import report_paid
from toekgw.adapters.oir import send as oir_send
from toekgw.adapters.oir.settings import MunicipalityBooks
from toekgw.cli.main import cli
from toekgw.formats.eindkomst import Sender
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.idents import cpr_problem
from toekgw.gateway.danish_time import danish_today
from toekgw.gateway.journal import (
    SqliteJournal,
    _item_rows,
    _sqlite_chain,
    _sqlite_errors,
    _sqlite_items,
    _sqlite_reads,
    _sqlite_retention,
    open_journal,
)
from toekgw.gateway.journal.books import PostingRow
from toekgw.gateway.privacy import pseudonym
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.eindkomst import DEFAULT_REPLY_QUEUE, DEFAULT_REQUEST_QUEUE


@contextlib.contextmanager
def _to_devnull() -> Iterator[None]:
    with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        yield


def _invoke(*args: str) -> None:
    with _to_devnull(), contextlib.suppress(SystemExit):
        cli.main(list(args), prog_name="toekgw", standalone_mode=False)


def _peak(run: Callable[[], None]) -> int:
    run()  # once untraced: what a first run allocates once (imports, statements, caches)
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def _flat(peaks: list[int]) -> None:
    """Ten times the rows, not more memory: the slack is the collector's (cyclic garbage a
    collection leaves for a later one, more of it in a longer run), a fraction of what one
    held list of the rows would add."""
    small, large = peaks
    assert large < small * 1.25 + 100_000, peaks


def _fast(journal: SqliteJournal) -> SqliteJournal:
    journal._db.execute("PRAGMA synchronous = OFF")  # filling the journal, not its durability
    return journal


def _findings(n: int) -> list[Finding]:
    return [
        Finding(code="E123", severity=Severity.ERROR, message=f"finding {k} of entry {n}",
                line=n, field="amount", expected="digits", found="12x4", file=f"f{n}.g68")
        for k in range(3)
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", ["text", "json", "csv"])
def test_the_error_list_is_printed_a_page_at_a_time(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sqlite_errors, "_ENTRIES_PAGE", 50, raising=False)
    peaks = []
    for n in (300, 3_000):
        where = tmp_path / str(n)
        where.mkdir()
        config, _ = payments_config(where, [instruction(1)])
        journal = _fast(open_journal(where / "var" / "journal.sqlite"))
        with journal.transaction():
            for i in range(n):
                journal.add_error(counterpart="ksd", subject="record", file_name=f"f{i}.g68",
                                  business_key=f"k{i}", findings=_findings(i))  # fmt: skip
        journal.close()
        peaks.append(_peak(partial(_invoke, "errors", "--format", fmt, "--config", str(config))))
    _flat(peaks)


@pytest.mark.parametrize("as_json", [False, True])
def test_audit_reads_prints_the_months_reads_a_page_at_a_time(
    tmp_path: Path, as_json: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sqlite_reads, "_READS_PAGE", 50, raising=False)
    month = danish_today().strftime("%Y-%m")
    peaks = []
    for n in (300, 3_000):
        where = tmp_path / str(n)
        where.mkdir()
        config, _ = payments_config(where, [instruction(1)])
        journal = _fast(open_journal(where / "var" / "journal.sqlite"))
        for i in range(n):
            journal.record_read("status --item", f"item K{i} of a busy month", ("0101701234",))
        journal.close()
        args: tuple[str, ...] = ("audit", "reads", "--month", month, "--config", str(config))
        args += ("--json",) if as_json else ()
        peaks.append(_peak(partial(_invoke, *args)))
    _flat(peaks)


def test_retention_pseudonymises_the_read_log_a_page_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sqlite_retention, "_SUBJECTS_PAGE", 50, raising=False)
    peaks = []
    for n in (300, 3_000):
        journal = _fast(open_journal(tmp_path / f"{n}.sqlite"))
        for i in range(n):
            journal.record_read("payments find", f"search {i}", (f"{i % 28 + 1:02d}0170{i:04d}",))
        masked = partial(pseudonym, b"a key")
        assert journal.pseudonymise_reads("0000", masked) == 0  # untraced: statements, caches
        tracemalloc.start()
        done = journal.pseudonymise_reads("9999", masked)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        journal.close()
        assert done == n
    _flat(peaks)


def _built_vouchers(journal: SqliteJournal, n: int) -> None:
    """``n`` built vouchers of two municipalities, each a balanced pair of postings."""
    with journal.transaction():
        for i in range(n):
            group = ("101", "102")[i % 2]
            rows = [
                PostingRow(seq, side, 10_000 + i, account, None, f"bilag {i}", None, None,
                           f"k{i}", None)
                for seq, side, account in ((1, "D", EXPENSE), (2, "K", INTERMEDIATE))
            ]  # fmt: skip
            journal.add_voucher(
                voucher_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"voucher:{i}")),
                group=group,
                day=dt.date(2026, 11, 2 + i % 20),
                kind="journaled",
                state="built",
                postings=rows,
            )


def test_oir_claims_its_batches_a_page_of_vouchers_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(oir_send, "_PAGE", 50, raising=False)
    conf = oir_settings(
        max_vouchers_per_file=20,
        municipalities={g: MunicipalityBooks(g, "29189846") for g in ("101", "102")},
    )
    warm = _fast(open_journal(tmp_path / "warm.sqlite"))
    _built_vouchers(warm, 60)
    oir_send.claim_batches(warm, conf)  # untraced: statements, caches, imports
    warm.close()
    peaks = []
    for n in (300, 3_000):
        journal = _fast(open_journal(tmp_path / f"{n}.sqlite"))
        _built_vouchers(journal, n)
        tracemalloc.start()
        claimed = oir_send.claim_batches(journal, conf)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert len(claimed) == 2 * -(-n // 40)  # two municipalities, 20 vouchers a file
        assert not journal.vouchers(states=["built"])
        journal.close()
    _flat(peaks)


def _paid(journal: SqliteJournal, n: int) -> None:
    """``n`` payments at the bank in November over two disposition dates, each to a citizen
    of its own but every hundredth: a second payment the same day (one recipient, the sum)."""
    payments = [
        instruction(i, date=dt.date(2026, 11, 2 + i % 2), beneficiary=cpr(i - 10 * (i % 100 == 99)))
        for i in range(n)
    ]
    journal_delivery(journal, payments)
    with journal.transaction():  # at the bank (the moves there are not what is measured)
        journal._db.execute("UPDATE items SET state = 'at-bank' WHERE counterpart = 'ksd'")


def _report_paid(where: Path, n: int) -> tuple[int, int]:
    """The peak of ``report_paid`` over ``n`` payments (and the payments it reported)."""
    where.mkdir()
    journal = _fast(open_journal(where / "journal.sqlite"))
    _paid(journal, n)
    for i in range(n):  # the birth dates' cache (bounded: each date once) filled untraced
        cpr_problem(cpr(i), dt.date(2026, 12, 1))
    queue = SqliteQueue(where / "queues.sqlite")
    gw = EindkomstGateway(
        journal,
        MqRoute(queue, DEFAULT_REQUEST_QUEUE, DEFAULT_REPLY_QUEUE),
        sender=Sender(se=EIK_SE, cvr=EIK_SE),
        outbox=where / "outbox",
        # A delivery and a 5000 group are bounded by this: 300 payments fill them already.
        max_message_bytes=20_000,
        clock=lambda: dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC),
    )
    try:
        tracemalloc.start()
        run = report_paid(gw, (G68_KIND.name,), before=dt.date(2026, 12, 1))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        queue.close()
        journal.close()
    return peak, run.payments


def test_eindkomst_reports_the_payments_at_the_bank_a_page_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect, "_PAGE", 50, raising=False)
    monkeypatch.setattr(_sqlite_items, "BATCH", 50)  # items_of_kind's page
    monkeypatch.setattr(_item_rows, "BATCH", 50)  # the marks journaled a batch at a time
    monkeypatch.setattr(_sqlite_chain, "_PAGE", 50)  # the rows hashed at the commit
    _report_paid(tmp_path / "warm", 60)  # untraced: statements, caches, imports
    peaks = []
    for n in (300, 3_000):
        peak, reported = _report_paid(tmp_path / str(n), n)
        assert reported == n
        peaks.append(peak)
    _flat(peaks)
