"""The ERP simulator reads voucher files as strictly as the schema says and answers each
voucher: booked once, rejected for an unbalanced voucher, an unknown account or a closed
period, and a duplicate voucher id answered again without booking it twice."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from toekgw.formats.oir import (
    BATCH_TAIL,
    Account,
    BatchHeader,
    Posting,
    Side,
    Voucher,
    VoucherStatus,
    batch_head,
    read_status,
    voucher_xml,
)
from toekgw.formats.serviceplatform import FileDescriptor, FileMetadata, build_metadata
from toekgw.simulators.erp import ErpFaults, ErpLedger, ErpSimulator

DAY = dt.date(2026, 12, 4)
EXPENSE, INTERMEDIATE = Account.parse("5.57.72/1/5.2"), Account.parse("9.52.59/0/9.1")


def _voucher(n: int, amount: int = 500, day: dt.date = DAY) -> Voucher:
    return Voucher(
        f"00000000-0000-4000-8000-{n:012d}",
        f"V{n}",
        day,
        [
            Posting(f"{n}-1", day, amount, Side.DEBIT, EXPENSE, business_key=f"k{n}"),
            Posting(f"{n}-2", day, amount, Side.CREDIT, INTERMEDIATE, business_key=f"k{n}"),
        ],
    )


def _deliver(home: Path, name: str, vouchers: list[bytes]) -> None:
    data = batch_head(
        BatchHeader(str(uuid.uuid4()), dt.datetime(2026, 12, 4, tzinfo=dt.UTC),
                    str(uuid.uuid4()), "29189846")
    ) + b"".join(vouchers) + BATCH_TAIL  # fmt: skip
    (home / "IN" / name).write_bytes(data)
    meta = FileMetadata(str(uuid.uuid4()), FileDescriptor(name, len(data), "toek", ("erp",)))
    (home / "IN" / f"{name}.metadata").write_bytes(build_metadata(meta))


def _answers(home: Path) -> dict[str, tuple[VoucherStatus, tuple[str, ...]]]:
    found = {}
    for path in sorted((home / "OUT").glob("*.xml")):
        for a in read_status(path.read_bytes()).answers:
            found[a.voucher_id] = (a.status, tuple(e.code for e in a.errors))
    return found


def test_books_once_and_rejects_what_it_cannot_book(tmp_path: Path) -> None:
    home = tmp_path / "erp"
    ledger = ErpLedger(tmp_path / "ledger.sqlite")
    faults = ErpFaults(unknown_accounts={"9.99.99/0/9.1"}, closed_until=dt.date(2026, 11, 30))
    sim = ErpSimulator(home, ledger, party="erp", faults=faults)
    unbalanced = _voucher(2)
    unbalanced.postings[1].amount_ore = 499
    unknown = _voucher(3)
    unknown.postings[1].account = Account.parse("9.99.99/0/9.1")
    closed = _voucher(4, day=dt.date(2026, 11, 30))
    # voucher_xml refuses to write an unbalanced voucher: write it as a counterpart might.
    raw = voucher_xml(_voucher(2)).replace(b"<Beloeb>5.00</Beloeb><DebetKredit>K",
                                           b"<Beloeb>4.99</Beloeb><DebetKredit>K")  # fmt: skip
    _deliver(home, "A.xml", [voucher_xml(_voucher(1)), raw, voucher_xml(unknown),
                             voucher_xml(closed)])  # fmt: skip
    assert sim.scan_once() == 1
    answers = _answers(home)
    assert answers[_voucher(1).voucher_id] == (VoucherStatus.ACCEPTED, ())
    assert answers[unbalanced.voucher_id] == (VoucherStatus.REJECTED, ("UBALANCE",))
    assert answers[unknown.voucher_id] == (VoucherStatus.REJECTED, ("KONTO",))
    assert answers[closed.voucher_id][1] == ("PERIODE", "PERIODE")
    assert ledger.balances() == {EXPENSE.code: 500, INTERMEDIATE.code: -500}
    # The same voucher again (a re-send): answered again, booked once.
    _deliver(home, "B.xml", [voucher_xml(_voucher(1))])
    assert sim.scan_once() == 1
    assert ledger.balances() == {EXPENSE.code: 500, INTERMEDIATE.code: -500}
    assert ledger.booked(VoucherStatus.ACCEPTED) == [_voucher(1).voucher_id]
    assert len(list((home / "OUT").glob("*.trigger"))) == 2
    ledger.close()
