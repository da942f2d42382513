"""Backing up and restoring the embedded (SQLite) journal while the gateway runs.

A backup is taken with SQLite's online backup API (:meth:`sqlite3.Connection.backup`): the copy
is one consistent snapshot of the journal, committed transactions only, taken page by page
while other processes keep writing (WAL mode). A file copy of a live journal is not: it can
miss the write-ahead log or catch a page half-written.

Both directions check the copy with ``PRAGMA quick_check`` and refuse to overwrite an existing
file, so a backup never replaces a journal by mistake; ``restore`` with ``force`` replaces it.

A new file (a backup; a restore where no journal is) is written under a hidden temporary name
beside it (``.<name>.partial``), checked, and only then linked to its name: a copy that is
interrupted, killed or fails its check leaves nothing at the name (its leftover is removed by
the next copy), so no half copy passes for a backup and the same command can simply be run
again. A write-ahead log or rollback journal left at the new name by a journal no longer there
is refused, not replayed into the copy. A restore over an existing journal copies into it in
place, in one SQLite transaction.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from toekgw.formats.findings import first_and_more
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal._in_use import journal_to_itself
from toekgw.gateway.journal._sqlite_connection import quick_check
from toekgw.gateway.journal.model import JournalError

# SQLite's files beside a database: its logs (which it replays into the database when it
# opens it) and the WAL's shared-memory index.
_LOGS = ("-wal", "-journal")
_SIDE_FILES = (*_LOGS, "-shm")


def backup_journal(journal: Path, target: Path) -> int:
    """Write a consistent copy of ``journal`` to ``target`` (which must not exist).

    Returns the copy's schema version. Raises :class:`JournalError` for a missing journal, an
    existing target, or a copy that fails its integrity check (the copy is then removed)."""
    if not journal.is_file():
        raise JournalError(f"the journal {journal} does not exist; nothing was backed up")
    _refuse_existing(target, "the backup")
    return _copy(journal, target, what=f"the backup {target}")


def restore_journal(backup: Path, journal: Path, *, force: bool = False) -> int:
    """Put the journal backup ``backup`` in place at ``journal``; returns its schema version.

    Refuses to replace an existing journal unless ``force``, and refuses while any process has
    the journal open (:func:`~toekgw.gateway.journal._in_use.journal_to_itself`, held while it
    copies: no connection opens meanwhile)."""
    if not backup.is_file():
        raise JournalError(f"the backup {backup} does not exist; nothing was restored")
    _check(backup, what=f"the backup {backup}")
    if not force:
        _refuse_existing(journal, "the journal")
    with journal_to_itself(journal, "a restore"):
        return _copy(backup, journal, what=f"the restored journal {journal}")


def _refuse_existing(path: Path, what: str) -> None:
    if path.exists():
        raise JournalError(
            f"{what} {path} already exists; nothing was written",
            hint="choose a new file name" if what == "the backup" else "pass --force to replace it",
        )


def _copy(source: Path, target: Path, *, what: str) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():  # a restore with force: in place, in one transaction of the target
        _backup(source, target)
        return _check(target, what=what)
    _refuse_orphaned_log(target)
    partial = target.with_name(f".{target.name}.partial")
    _remove(partial)  # what a copy killed before left
    try:
        _backup(source, partial, shown=target)
        version = _check(partial, what=what)
        _put_in_place(partial, target)
        return version
    finally:
        _remove(partial)


def _refuse_orphaned_log(target: Path) -> None:
    """Refuse a write-ahead log or rollback journal left beside ``target``, which does not
    exist: SQLite takes such a log for the file's own and replays it into whatever next
    appears at that name, so a copy put there would silently become the old journal's state
    (its integrity check still passing)."""
    for suffix in _LOGS:
        log = target.with_name(target.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            if log.stat().st_size > 0:
                raise JournalError(
                    f"{log} lies beside {target}, which does not exist: a log a journal no "
                    "longer there left, which SQLite would replay into the copy; nothing was "
                    "written",
                    hint="move it away (it may hold that journal's last transactions), then "
                    "run the command again",
                )


def _put_in_place(partial: Path, target: Path) -> None:
    """``partial`` as ``target``, never over a file that appeared there meanwhile."""
    exists = JournalError(f"{target} already exists; nothing was written")
    try:
        os.link(partial, target)
        return
    except FileExistsError:
        raise exists from None
    except OSError:  # a file system without hard links (some network mounts): look, then rename
        if target.exists():
            raise exists from None
    try:
        partial.rename(target)
    except OSError as exc:
        raise JournalError(
            f"cannot put the copy in place as {target}: {exc.strerror or exc}; nothing was written"
        ) from exc


def _backup(source: Path, target: Path, *, shown: Path | None = None) -> None:
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(str(target))
            try:
                src.backup(dst, progress=lambda *_: crash_point("journal.backup.copied"))
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.DatabaseError as exc:
        raise JournalError(
            f"copying {source} to {shown or target} failed: {exc}; nothing usable was written"
        ) from exc


def _remove(partial: Path) -> None:
    for path in (
        partial,
        *(partial.with_name(partial.name + s) for s in _SIDE_FILES),
    ):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _check(path: Path, *, what: str) -> int:
    """The schema version of the journal file at ``path``, after ``PRAGMA quick_check``."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            problems = quick_check(db)
            if problems:
                raise JournalError(f"{what} fails its integrity check: {first_and_more(problems)}")
            version = db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"{what} is not a toekgw journal: {exc}") from exc
    if version is None:
        raise JournalError(f"{what} is not a toekgw journal: it holds no schema version")
    return int(version)
