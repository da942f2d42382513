"""The simulator's ledger: which bundles NemKonto received and which payments it paid.

A durable SQLite file of its own (WAL, ``synchronous=FULL``). Recording a bundle is one
transaction and idempotent by bundle id, so the simulator may be killed anywhere and handed the
same bundle again: it then answers from the ledger and pays nothing twice. ``paid`` has the
payment id as its primary key - the proof that no payment is paid twice.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from toekgw.formats.nemkonto import PaymentBundle, PaymentOrder, PaymentState, StopRequest
from toekgw.gateway.sqlite import connect, write

__all__ = ["Decision", "Ledger", "PaymentOutcome", "RecordedBundle", "StopOutcome"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bundle (
    bundle_id   TEXT PRIMARY KEY,
    received_at REAL NOT NULL,
    payments    INTEGER NOT NULL,
    control_sum INTEGER NOT NULL,
    deliveries  INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS outcome (
    bundle_id         TEXT NOT NULL,
    seq               INTEGER NOT NULL,
    payment_id        TEXT NOT NULL,
    amount_ore        INTEGER NOT NULL,
    control_status    TEXT NOT NULL,
    control_code      TEXT,
    control_text      TEXT,
    completion_status TEXT,
    completion_code   TEXT,
    completion_text   TEXT,
    PRIMARY KEY (bundle_id, seq)
);
CREATE TABLE IF NOT EXISTS paid (
    payment_id    TEXT PRIMARY KEY,
    bundle_id     TEXT NOT NULL,
    amount_ore    INTEGER NOT NULL,
    status        TEXT NOT NULL,
    bank_due      REAL,
    bank_answered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS paid_bank ON paid (bank_answered, bank_due);
CREATE TABLE IF NOT EXISTS disposition (
    bundle_id        TEXT PRIMARY KEY,
    disposition_date TEXT NOT NULL
);
-- One row per payment of a stop request, idempotent by its stop id.
CREATE TABLE IF NOT EXISTS stop (
    stop_id    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    payment_id TEXT NOT NULL,
    stopped    INTEGER NOT NULL,
    text       TEXT NOT NULL,
    PRIMARY KEY (stop_id, seq)
);
"""

# Outcomes after which money has left: to the recipient's bank, as a cheque, or to the
# municipality's error account.
_PAID_STATES = frozenset({PaymentState.ACCEPTED, PaymentState.CHEQUE, PaymentState.ERROR_ACCOUNT})


@dataclass(frozen=True, slots=True)
class Decision:
    """What NemKonto does with one payment: receive control (Retursvar 2) and, for an
    accepted payment, a failed completion (Retursvar 7) or none."""

    control: PaymentState
    control_code: str | None = None
    control_text: str | None = None
    completion: PaymentState | None = None
    completion_code: str | None = None
    completion_text: str | None = None

    @property
    def final(self) -> PaymentState:
        return self.completion or self.control


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    payment_id: str
    amount_ore: int
    decision: Decision


@dataclass(frozen=True, slots=True)
class RecordedBundle:
    bundle_id: str
    outcomes: tuple[PaymentOutcome, ...]
    duplicate: bool


@dataclass(frozen=True, slots=True)
class StopOutcome:
    """What NemKonto did with one payment of a stop request, and why."""

    payment_id: str
    stopped: bool
    text: str


_DUPLICATE = Decision(
    PaymentState.REJECTED, "DUPLICATE_PAYMENT", "the payment id was paid in an earlier bundle"
)
_LOOKUP_CHUNK = 500  # payment ids per IN (...): well under SQLite's bound on parameters


def _paid_among(db: sqlite3.Connection, payment_ids: Sequence[str]) -> set[str]:
    """Those of ``payment_ids`` paid already."""
    paid: set[str] = set()
    for start in range(0, len(payment_ids), _LOOKUP_CHUNK):
        chunk = payment_ids[start : start + _LOOKUP_CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT payment_id FROM paid WHERE payment_id IN ({marks})",  # noqa: S608 (only ?s)
            chunk,
        )
        paid.update(r[0] for r in rows)
    return paid


def _outcome_row(
    bundle_id: str, seq: int, p: PaymentOrder, decision: Decision
) -> tuple[object, ...]:
    return (
        bundle_id,
        seq,
        p.payment_id,
        p.amount_ore,
        decision.control.value,
        decision.control_code,
        decision.control_text,
        decision.completion.value if decision.completion else None,
        decision.completion_code,
        decision.completion_text,
    )


class Ledger:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._db = connect(path, _SCHEMA)

    def close(self) -> None:
        self._db.close()

    def record(
        self,
        bundle: PaymentBundle,
        decide: Callable[[PaymentOrder], Decision],
        *,
        now: float,
        bank_delay: float,
    ) -> RecordedBundle:
        """Record ``bundle`` once: a bundle id seen before returns its first outcomes."""
        with write(self._db) as db:
            if db.execute(
                "UPDATE bundle SET deliveries = deliveries + 1 WHERE bundle_id = ?",
                (bundle.bundle_id,),
            ).rowcount:
                return RecordedBundle(bundle.bundle_id, self._outcomes(bundle.bundle_id), True)
            db.execute(
                "INSERT INTO bundle (bundle_id, received_at, payments, control_sum)"
                " VALUES (?, ?, ?, ?)",
                (bundle.bundle_id, now, bundle.number_of_payments, bundle.control_sum_ore),
            )
            db.execute(
                "INSERT INTO disposition VALUES (?, ?)",
                (bundle.bundle_id, bundle.disposition_date.isoformat()),
            )
            # Set-wise: which of the bundle's payments were paid before, then one insert of
            # its outcomes and one of its paid payments. A payment id twice in the bundle is
            # paid once: the second is a duplicate of the first, as of an earlier bundle.
            paid = _paid_among(db, [p.payment_id for p in bundle.payments])
            outcomes = []
            rows = []
            paid_rows = []
            for seq, p in enumerate(bundle.payments):
                decision = _DUPLICATE if p.payment_id in paid else decide(p)
                outcomes.append(PaymentOutcome(p.payment_id, p.amount_ore, decision))
                rows.append(_outcome_row(bundle.bundle_id, seq, p, decision))
                if decision.final in _PAID_STATES:
                    paid.add(p.payment_id)
                    # Only a payment that reached a bank gets Retursvar 8.
                    due = now + bank_delay if decision.final is PaymentState.ACCEPTED else None
                    paid_rows.append(
                        (p.payment_id, bundle.bundle_id, p.amount_ore, decision.final.value, due)
                    )
            db.executemany("INSERT INTO outcome VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.executemany(
                "INSERT INTO paid (payment_id, bundle_id, amount_ore, status, bank_due)"
                " VALUES (?, ?, ?, ?, ?)",
                paid_rows,
            )
            return RecordedBundle(bundle.bundle_id, tuple(outcomes), False)

    def _outcomes(self, bundle_id: str) -> tuple[PaymentOutcome, ...]:
        rows = self._db.execute(
            "SELECT payment_id, amount_ore, control_status, control_code, control_text,"
            " completion_status, completion_code, completion_text"
            " FROM outcome WHERE bundle_id = ? ORDER BY seq",
            (bundle_id,),
        ).fetchall()
        return tuple(
            PaymentOutcome(
                r[0],
                r[1],
                Decision(
                    PaymentState(r[2]),
                    r[3],
                    r[4],
                    PaymentState(r[5]) if r[5] else None,
                    r[6],
                    r[7],
                ),
            )
            for r in rows
        )

    def bank_due(self, now: float) -> dict[str, list[str]]:
        """Payments at the bank whose Retursvar 8 is due, per bundle, in payment id order."""
        rows = self._db.execute(
            "SELECT bundle_id, payment_id FROM paid WHERE bank_answered = 0"
            " AND bank_due IS NOT NULL AND bank_due <= ? ORDER BY bundle_id, payment_id",
            (now,),
        ).fetchall()
        out: dict[str, list[str]] = {}
        for bundle_id, payment_id in rows:
            out.setdefault(bundle_id, []).append(payment_id)
        return out

    def mark_bank_answered(self, bundle_id: str, now: float) -> None:
        """Mark the payments of ``bundle_id`` that :meth:`bank_due` gave for ``now`` (the same
        condition, in one statement: nothing else writes the ledger between the two)."""
        with write(self._db) as db:
            db.execute(
                "UPDATE paid SET bank_answered = 1 WHERE bundle_id = ? AND bank_answered = 0"
                " AND bank_due IS NOT NULL AND bank_due <= ?",
                (bundle_id, now),
            )

    def stop(self, request: StopRequest, today: dt.date) -> tuple[StopOutcome, ...]:
        """Stop the payments of ``request`` that are not paid out yet: accepted, not at the
        bank, for the amount named, and ``today`` before their disposition date. Once per
        stop id: a request seen before gets its first outcomes."""
        with write(self._db) as db:
            rows = db.execute(
                "SELECT payment_id, stopped, text FROM stop WHERE stop_id = ? ORDER BY seq",
                (request.stop_id,),
            ).fetchall()
            if rows:
                return tuple(StopOutcome(r[0], bool(r[1]), r[2]) for r in rows)
            outcomes = []
            for seq, (payment_id, amount) in enumerate(request.payments):
                outcome = self._stop_one(db, request.bundle_id, payment_id, amount, today)
                db.execute(
                    "INSERT INTO stop VALUES (?, ?, ?, ?, ?)",
                    (request.stop_id, seq, payment_id, outcome.stopped, outcome.text),
                )
                outcomes.append(outcome)
            return tuple(outcomes)

    @staticmethod
    def _stop_one(
        db: sqlite3.Connection, bundle_id: str, payment_id: str, amount: int, today: dt.date
    ) -> StopOutcome:
        row = db.execute(
            "SELECT p.amount_ore, p.status, p.bank_answered, d.disposition_date FROM paid p"
            " LEFT JOIN disposition d ON d.bundle_id = p.bundle_id"
            " WHERE p.payment_id = ? AND p.bundle_id = ?",
            (payment_id, bundle_id),
        ).fetchone()
        if row is None:
            return StopOutcome(payment_id, False, "no such payment paid in the bundle")
        paid_amount, status, at_bank, day = row
        if paid_amount != amount:
            return StopOutcome(payment_id, False, f"the amount is not the payment's ({amount})")
        if status != PaymentState.ACCEPTED.value or at_bank:
            return StopOutcome(payment_id, False, f"too late: already {status.lower()}")
        if day is None or today >= dt.date.fromisoformat(day):
            return StopOutcome(payment_id, False, f"too late: the disposition date is {day}")
        db.execute(
            "UPDATE paid SET status = ?, bank_due = NULL WHERE payment_id = ?",
            (PaymentState.STOPPED.value, payment_id),
        )
        return StopOutcome(payment_id, True, "BETALING STANDSET")

    # -- for tests and operators ---------------------------------------------------------

    def paid(self) -> dict[str, tuple[int, str]]:
        """payment id -> (amount in øre, status) of every payment that was paid out (not
        stopped)."""
        rows = self._db.execute(
            "SELECT payment_id, amount_ore, status FROM paid WHERE status != ?",
            (PaymentState.STOPPED.value,),
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def deliveries(self) -> dict[str, int]:
        """bundle id -> how many times the bundle was delivered (duplicates included)."""
        rows = self._db.execute("SELECT bundle_id, deliveries FROM bundle").fetchall()
        return {r[0]: r[1] for r in rows}
