"""Retention: personal data is kept in clear for its period, then replaced by pseudonyms.

For every kind in ``[retention.kinds]`` (:mod:`toekgw.gateway.retention_config`), one run:

1. **items**: an item of the kind in a settled state (its adapter says which:
   :class:`toekgw.gateway.privacy.PersonalData`), last changed longer ago than the period,
   has its personal fields replaced by keyed pseudonyms, in its payload and wherever the same
   values stand in its lookup and fingerprint keys; amounts, dates, states, ids stay. One
   event per transmission says how many and why;
2. **staging copies**: a transmission of the kind in a final state, last changed longer ago
   than the period, has its staging copy (the file as received or sent) deleted; an event
   says so;
3. **metadata**: such a transmission (final, past the period) has the personal fields of its
   ``meta`` its adapter names (:attr:`~toekgw.gateway.privacy.PersonalData.meta_fields`: a
   debtor's CPR number in a call to the debtor system, an operator's reason for a stop)
   replaced by keyed pseudonyms; an event says so;
4. **the read log**: reads older than ``reads`` days name their citizens by pseudonym.

A kind with a period but no registered description of its personal data keeps its payloads
(the run says so); its staging copies are still deleted. The run pages through the items a
thousand at a time (memory stays flat), overwrites what it replaces (``secure_delete``) and
empties the write-ahead log afterwards, so the CPR numbers are gone from the files, not only
from the tables. It never touches what the hash chain hashes, so the chain verifies after it
(see :mod:`toekgw.gateway.journal._sqlite_chain`). Running it twice changes nothing more;
killed at any step (crash points ``retention.after_delete``, ``retention.after_page``,
``retention.after_meta_page``), the next run finishes the work: a page of items, or of
transmissions' metadata, is one transaction, and a staging copy is deleted before the journal
says so (a copy already gone is forgotten by the next run). Flows run beside it: an item a flow
moves on after retention read it (``retention.page_read``; a payment at the bank reported
failed, to be paid again) is written only if it is still settled and unchanged, so it stays in
clear; a transmission's metadata likewise only if the transmission is unchanged since.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toekgw.gateway.config import Settings
from toekgw.gateway.faults import crash_point
from toekgw.gateway.flowlock import flow_lock, lock_path
from toekgw.gateway.journal import JournalError, Lifecycle, SqliteJournal, open_journal
from toekgw.gateway.journal._sqlite_retention import ExpiredItem
from toekgw.gateway.privacy import PersonalData, is_pseudonym, personal_data, pseudonym
from toekgw.gateway.retention_config import RETENTION_SECTION, RetentionSettings

__all__ = ["RETENTION_FLOW", "RetentionReport", "retention_flow", "run_retention"]

#: The lock name: one retention run at a time, whoever starts it (the command, the service).
RETENTION_FLOW = "retention"

_PAGE = 1_000


@dataclass(slots=True)
class RetentionReport:
    items: int = 0
    staging_copies: int = 0
    meta: int = 0
    reads: int = 0
    undescribed: list[str] = field(default_factory=list)
    log_emptied: bool = True

    def summary(self) -> str:
        text = (
            f"{self.items} items pseudonymised, {self.staging_copies} staging copies deleted, "
            f"{self.meta} transmissions' metadata pseudonymised, "
            f"{self.reads} read-log subjects pseudonymised"
        )
        if self.undescribed:
            text += "; payloads kept (no description of their personal data): " + ", ".join(
                self.undescribed
            )
        if not self.log_emptied:
            text += "; the write-ahead log was in use and is emptied by the next run"
        return text


def retention_flow(settings: Settings, now: dt.datetime) -> RetentionReport:
    """One run for the configuration, single-flight, on a journal that passes its check."""
    retention = settings.require(RETENTION_SECTION)
    with (
        flow_lock(
            lock_path(settings.staging, RETENTION_FLOW), "retention", journal=settings.journal
        ),
        closing(open_journal(settings.journal, verify=True)) as journal,
    ):
        return run_retention(journal, retention, now)


def run_retention(
    journal: SqliteJournal, settings: RetentionSettings, now: dt.datetime
) -> RetentionReport:
    """One retention run as of ``now`` (see the module's description)."""
    key = settings.key()
    report = RetentionReport()

    def masked(value: str) -> str:
        return pseudonym(key, value)

    with journal.scrubbing():
        for kind, days in sorted(settings.kinds.items()):
            before = (now - dt.timedelta(days=days)).isoformat()
            try:
                spec = journal.kind(kind)
            except JournalError:
                continue  # nothing of this kind journaled yet
            final = _final_states(spec.transmission)
            report.staging_copies += _delete_staging(journal, kind, before, final)
            described = personal_data(kind)
            if described is None:
                report.undescribed.append(kind)
                continue
            report.items += _pseudonymise(journal, kind, before, described, masked, days)
            if described.meta_fields:
                report.meta += _pseudonymise_meta(
                    journal, kind, before, final, described.meta_fields, masked, days
                )
        if settings.reads_days is not None:
            before = (now - dt.timedelta(days=settings.reads_days)).isoformat()
            report.reads = journal.pseudonymise_reads(before, masked)
    report.log_emptied = journal.truncate_log()
    return report


def _pseudonymise(
    journal: SqliteJournal,
    kind: str,
    before: str,
    described: PersonalData,
    masked: Callable[[str], str],
    days: int,
) -> int:
    done, after = 0, 0
    while page := journal.expired_items(kind, before, described.settled, after=after, limit=_PAGE):
        after = page[-1][0]
        changed = [r for row in page if (r := _replaced(row, described, masked)) is not None]
        crash_point("retention.page_read")
        done += journal.pseudonymise_items(
            changed,
            lambda n: (
                f"retention: personal data of {n} items replaced by pseudonyms (older "
                f"than {days} days)"
            ),
            before=before,
            states=described.settled,
        )
        crash_point("retention.after_page")
    return done


def _pseudonymise_meta(
    journal: SqliteJournal,
    kind: str,
    before: str,
    final: list[str],
    fields: tuple[str, ...],
    masked: Callable[[str], str],
    days: int,
) -> int:
    """The personal fields of the metadata of the kind's final transmissions past the period
    replaced, a page of transmissions per transaction; how many transmissions changed."""
    done, after = 0, 0
    note = (
        f"retention: personal data in its metadata replaced by pseudonyms (older than {days} days)"
    )
    while page := journal.expired_meta(kind, before, final, after=after, limit=_PAGE):
        after = page[-1][0]
        changed: list[tuple[int, str | None]] = []
        for transmission_id, text in page:
            meta: dict[str, Any] = json.loads(text)
            originals = _replace_fields(meta, fields, masked)
            clear = any(not is_pseudonym(value) for value in originals)
            changed.append((transmission_id, json.dumps(meta, sort_keys=True) if clear else None))
        done += journal.pseudonymise_meta(changed, note, before=before, states=final)
        crash_point("retention.after_meta_page")
    return done


def _replaced(
    row: ExpiredItem, described: PersonalData, masked: Callable[[str], str]
) -> tuple[int, int, str | None, str | None, str | None] | None:
    """The row with its personal fields replaced; None when its payload is still needed
    (:attr:`~toekgw.gateway.privacy.PersonalData.needed`): it stays in clear."""
    item_id, tx, data_text, lookup, fingerprint = row
    if data_text is None:
        return item_id, tx, None, lookup, fingerprint
    data: dict[str, Any] = json.loads(data_text)
    if described.needed(data):
        return None
    originals = _replace_fields(data, described.fields, masked)
    # The same values in the search keys (longest first, so a value inside another goes last).
    for value in sorted(set(originals), key=len, reverse=True):
        lookup = lookup.replace(value, masked(value)) if lookup else lookup
        fingerprint = fingerprint.replace(value, masked(value)) if fingerprint else fingerprint
    return item_id, tx, json.dumps(data, ensure_ascii=False), lookup, fingerprint


def _replace_fields(data: Any, paths: Iterable[str], masked: Callable[[str], str]) -> list[str]:
    """Replace, in place, the values at each of ``paths`` in ``data`` (the dotted paths of
    :class:`~toekgw.gateway.privacy.PersonalData`); the values found there (each string, also
    one already a pseudonym)."""
    originals: list[str] = []
    for path in paths:
        _replace_at(data, path.split("."), originals, masked)
    return originals


def _replace_at(
    container: Any, steps: list[str], originals: list[str], masked: Callable[[str], str]
) -> None:
    step, rest = steps[0], steps[1:]
    for at in _places(container, step):
        if rest:
            _replace_at(container[at], rest, originals, masked)
        else:
            _mask(container, at, originals, masked)


def _places(container: Any, step: str) -> list[Any]:
    """Where one step of a path leads in ``container``: a key of an object, an index of a
    list, or with ``*`` each of them (none when it leads nowhere)."""
    if isinstance(container, dict):
        return list(container) if step == "*" else [step] if step in container else []
    if isinstance(container, list):
        if step == "*":
            return list(range(len(container)))
        if step.isdigit() and int(step) < len(container):
            return [int(step)]
    return []


def _mask(
    container: Any, at: str | int, originals: list[str], masked: Callable[[str], str]
) -> None:
    """Replace the string (or each string of the list) at ``container[at]``."""
    value = container[at]
    if isinstance(value, str) and value:
        originals.append(value)
        container[at] = masked(value)
    elif isinstance(value, list):
        originals.extend(v for v in value if isinstance(v, str) and v)
        container[at] = [masked(v) if isinstance(v, str) and v else v for v in value]


def _delete_staging(journal: SqliteJournal, kind: str, before: str, final: list[str]) -> int:
    deleted = 0
    for transmission_id, local in journal.expired_staging_copies(kind, before, final):
        path = Path(local)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise JournalError(
                f"retention: cannot delete the staging copy {path}: {exc.strerror or exc}"
            ) from exc
        crash_point("retention.after_delete")
        journal.forget_staging_copy(
            transmission_id, f"retention: staging copy {path.name} deleted (past its period)"
        )
        deleted += 1
    return deleted


def _final_states(lifecycle: Lifecycle) -> list[str]:
    states = set(lifecycle.initial) | set(lifecycle.transitions)
    states |= {t for targets in lifecycle.transitions.values() for t in targets}
    return sorted(s for s in states if not lifecycle.transitions.get(s))
