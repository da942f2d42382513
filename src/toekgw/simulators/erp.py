"""The municipality's ERP behind SF1590_A, on a Serviceplatformen party's directories.

It takes the voucher files (``FinansbilagBatch``) that the platform delivers to its ``IN/``,
reads them as strictly as the schema says, books each voucher in its own ledger (a SQLite file:
accounts and balances, and every voucher id it booked), and answers each file with a
``FinansbilagStatus`` put in its ``OUT/`` with a trigger to the sender, so that the platform
delivers it. A voucher is rejected when it does not balance, names an account the ERP does not
know, or is dated in a closed period. A voucher id already booked is not booked again: it is
answered again with its first answer (so a re-send after a crash is harmless).

Scripted faults (:class:`ErpFaults`): unknown accounts, a closed period, a delay before
answering.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from toekgw.formats.oir import (
    OirDocumentError,
    Side,
    Voucher,
    VoucherAnswer,
    VoucherError,
    VoucherStatus,
    build_status,
    read_batch,
    read_batch_header,
)
from toekgw.formats.serviceplatform import METADATA_SUFFIX, XmlDocumentError, parse_metadata
from toekgw.simulators._upload import upload

__all__ = ["ErpFaults", "ErpLedger", "ErpSimulator"]


@dataclass(slots=True)
class ErpFaults:
    """``unknown_accounts``: account codes (``5.57.72/1/5.2``) the ERP does not know;
    ``closed_until``: postings dated on or before it are in a closed period; ``delay``:
    seconds before each answer."""

    unknown_accounts: set[str] = field(default_factory=set)
    closed_until: dt.date | None = None
    delay: float = 0.0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS booked (
    voucher_id TEXT PRIMARY KEY, status TEXT NOT NULL, reasons TEXT NOT NULL,
    batch_id TEXT NOT NULL, day TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lines (
    voucher_id TEXT NOT NULL, account TEXT NOT NULL, signed_ore INTEGER NOT NULL,
    business_key TEXT
);
CREATE INDEX IF NOT EXISTS lines_account ON lines(account);
"""


class ErpLedger:
    """The ERP's books: what it booked, and the balance of every account."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def answer_of(self, voucher_id: str) -> VoucherAnswer | None:
        row = self._db.execute(
            "SELECT status, reasons FROM booked WHERE voucher_id = ?", (voucher_id,)
        ).fetchone()
        if row is None:
            return None
        errors = tuple(
            VoucherError(*part.split("\x1f", 1)) for part in row[1].split("\x1e") if part
        )
        return VoucherAnswer(voucher_id, VoucherStatus(row[0]), errors)

    def record(self, batch_id: str, voucher: Voucher, answer: VoucherAnswer) -> None:
        reasons = "\x1e".join(f"{e.code}\x1f{e.text}" for e in answer.errors)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "INSERT INTO booked(voucher_id, status, reasons, batch_id, day) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    voucher.voucher_id,
                    answer.status.value,
                    reasons,
                    batch_id,
                    voucher.date.isoformat(),
                ),
            )
            if answer.status is VoucherStatus.ACCEPTED:
                self._db.executemany(
                    "INSERT INTO lines(voucher_id, account, signed_ore, business_key) "
                    "VALUES (?, ?, ?, ?)",
                    [
                        (
                            voucher.voucher_id,
                            p.account.code,
                            p.amount_ore if p.side is Side.DEBIT else -p.amount_ore,
                            p.business_key,
                        )
                        for p in voucher.postings
                    ],
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def balances(self) -> dict[str, int]:
        """Account code -> balance in øre (debit positive)."""
        return dict(
            self._db.execute(
                "SELECT account, sum(signed_ore) FROM lines GROUP BY account ORDER BY account"
            ).fetchall()
        )

    def booked(self, status: VoucherStatus | None = None) -> list[str]:
        sql = "SELECT voucher_id FROM booked"
        args: tuple[str, ...] = ()
        if status is not None:
            sql += " WHERE status = ?"
            args = (status.value,)
        return [r[0] for r in self._db.execute(sql + " ORDER BY voucher_id", args)]

    def lines_per_business_key(self, account: str) -> dict[str, int]:
        return dict(
            self._db.execute(
                "SELECT business_key, sum(signed_ore) FROM lines WHERE account = ? "
                "GROUP BY business_key",
                (account,),
            ).fetchall()
        )


class ErpSimulator:
    """The ERP as party ``party`` with home ``home`` (its ``IN/`` and ``OUT/``)."""

    def __init__(
        self, home: Path, ledger: ErpLedger, *, party: str, faults: ErpFaults | None = None
    ) -> None:
        self.home, self.ledger, self.party = Path(home), ledger, party
        self.faults = faults or ErpFaults()
        for sub in ("IN", "OUT", "done"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)

    def scan_once(self) -> int:
        """Answer every complete voucher file in IN/; how many were answered."""
        handled = 0
        inbox = self.home / "IN"
        for meta in sorted(inbox.glob(f"*{METADATA_SUFFIX}")):
            name = meta.name[: -len(METADATA_SUFFIX)]
            payload = inbox / name
            if not payload.is_file():
                continue
            try:
                metadata = parse_metadata(meta.read_bytes(), name=meta.name)
            except XmlDocumentError:
                continue
            if self._answer(payload, metadata.file.sender):
                handled += 1
            payload.replace(self.home / "done" / name)
            meta.unlink()
        return handled

    def _answer(self, payload: Path, sender: str) -> bool:
        try:
            header = read_batch_header(payload)
            answers = [self._book(header.batch_id, v) for v in read_batch(payload)]
        except (OirDocumentError, KeyError, ValueError):
            return False  # unreadable: the real ERP would raise an incident; nothing to answer
        if self.faults.delay:
            time.sleep(self.faults.delay)
        data = build_status(header.batch_id, answers)
        name = f"FINANSBILAGSTATUS_{header.batch_id}_{int(time.time() * 1e6)}.xml"
        upload(self.home / "OUT", name, data, sender=self.party, recipients=(sender,))
        return True

    def _book(self, batch_id: str, voucher: Voucher) -> VoucherAnswer:
        earlier = self.ledger.answer_of(voucher.voucher_id)
        if earlier is not None:
            return earlier  # a duplicate voucher id: ignored, answered again
        errors = list(self._check(voucher))
        answer = VoucherAnswer(
            voucher.voucher_id,
            VoucherStatus.REJECTED if errors else VoucherStatus.ACCEPTED,
            tuple(errors),
        )
        self.ledger.record(batch_id, voucher, answer)
        return answer

    def _check(self, voucher: Voucher) -> Iterable[VoucherError]:
        if voucher.imbalance() != 0:
            yield VoucherError("UBALANCE", f"debet og kredit afviger med {voucher.imbalance()} øre")
        for p in voucher.postings:
            if p.account.code in self.faults.unknown_accounts:
                yield VoucherError("KONTO", f"ukendt konto {p.account.code}", p.posting_id)
            closed = self.faults.closed_until
            if closed is not None and p.date <= closed:
                yield VoucherError(
                    "PERIODE", f"perioden er lukket til og med {closed}", p.posting_id
                )
