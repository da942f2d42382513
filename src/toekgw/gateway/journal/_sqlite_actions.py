"""The reconciliation's action plan: one entry per difference that needs one, kept from month
to month until it is done.

The reconciliation guidance requires an action plan for every difference of 1,000 kr gross or
more: what the difference is, its cause, who owns it, by when, and how far it has come. An
entry is raised in a month and stays on every later month's report until its status is
``done``; each change records who made it (the acting identity) and when. Its texts are
typed by people: what could be a CPR number in them is masked before it is kept (and when an
entry kept before is read), so the list and the month's reports never show one in clear.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.danish_time import danish_stamp
from toekgw.gateway.journal._sqlite_connection import JournalConnection, now
from toekgw.gateway.journal.model import JournalError

__all__ = ["ACTION_STATUSES", "ActionEntry", "ActionPlan"]

ACTION_STATUSES = ("open", "in-progress", "done")

_COLUMNS = (
    "id, month, difference, amount_oere, cause, owner, deadline, status, "
    "created_at, created_by, updated_at, updated_by"
)


@dataclass(frozen=True, slots=True)
class ActionEntry:
    id: int
    month: str
    difference: str
    amount_oere: int
    cause: str
    owner: str
    deadline: dt.date
    status: str
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str


def _entry(row: tuple[object, ...]) -> ActionEntry:
    values = list(row)
    values[6] = dt.date.fromisoformat(str(values[6]))
    for text in (2, 4, 5):  # difference, cause, owner
        values[text] = mask_cpr_in_text(str(values[text]))
    return ActionEntry(*values)  # type: ignore[arg-type]


def _masked(text: str | None) -> str | None:
    return None if text is None else mask_cpr_in_text(text)


class ActionPlan(JournalConnection):
    """The action plan: the part of :class:`~toekgw.gateway.journal.sqlite.SqliteJournal`."""

    def add_action(
        self,
        *,
        month: str,
        difference: str,
        amount_oere: int,
        cause: str,
        owner: str,
        deadline: dt.date,
        by: str,
    ) -> int:
        stamp = now()
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO action_plan(month, difference, amount_oere, cause, owner, deadline, "
                "status, created_at, created_by, updated_at, updated_by) "
                "VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)",
                (month, _masked(difference), amount_oere, _masked(cause), _masked(owner),
                 deadline.isoformat(), stamp, by, stamp, by),
            )  # fmt: skip
        return int(cur.lastrowid or 0)

    def update_action(
        self,
        entry_id: int,
        *,
        by: str,
        status: str | None = None,
        cause: str | None = None,
        owner: str | None = None,
        deadline: dt.date | None = None,
    ) -> ActionEntry:
        if status is not None and status not in ACTION_STATUSES:
            raise JournalError(f"status {status!r}: expected one of {', '.join(ACTION_STATUSES)}")
        with self.transaction():
            old = self.action(entry_id)
            self._db.execute(
                "UPDATE action_plan SET status = ?, cause = ?, owner = ?, deadline = ?, "
                "updated_at = ?, updated_by = ? WHERE id = ?",
                (
                    status or old.status,
                    _masked(cause) or old.cause,
                    _masked(owner) or old.owner,
                    (deadline or old.deadline).isoformat(),
                    now(),
                    by,
                    entry_id,
                ),
            )
        return self.action(entry_id)

    def action(self, entry_id: int) -> ActionEntry:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM action_plan WHERE id = ?", (entry_id,)
        ).fetchone()
        if row is None:
            raise JournalError(f"no action-plan entry #{entry_id}")
        return _entry(row)

    def actions(self, *, month: str | None = None) -> list[ActionEntry]:
        """With ``month`` (``YYYY-MM``), the entries raised up to that month that are not
        done, or were raised in it, or were last changed in it or later (a Danish month: from
        its first midnight in Denmark); without ``month`` every entry."""
        if month is None:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM action_plan ORDER BY id")
        else:
            begins = danish_stamp(dt.date.fromisoformat(f"{month}-01"))
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM action_plan WHERE month <= ? "
                "AND (status != 'done' OR month = ? OR updated_at >= ?) "
                "ORDER BY id",
                (month, month, begins),
            )
        return [_entry(r) for r in rows.fetchall()]
