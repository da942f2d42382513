"""Commands outside the month-end path that list or walk the whole journal hold one page of
it at a time, not all of it: each peak (tracemalloc) over ten times the rows stays about
where it was. Every command is called with its output going to /dev/null, so that what is
measured is the command's own memory, not the captured output's."""

from __future__ import annotations

import contextlib
import os
import tracemalloc
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.nemkonto_flow_data import instruction
from tests.test_payments_cli import payments_config
from toekgw.cli.main import cli
from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.danish_time import danish_today
from toekgw.gateway.journal import (
    SqliteJournal,
    _sqlite_errors,
    _sqlite_reads,
    _sqlite_retention,
    open_journal,
)
from toekgw.gateway.privacy import pseudonym


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
        args = ("errors", "--format", fmt, "--config", str(config))
        peaks.append(_peak(lambda args=args: _invoke(*args)))
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
        args = ("audit", "reads", "--month", month, "--config", str(config))
        args += ("--json",) if as_json else ()
        peaks.append(_peak(lambda args=args: _invoke(*args)))
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
