"""Manual vouchers (solution description 1.5.1): an operator's correcting voucher.

A manual voucher comes from a CSV file, one posting per line::

    date,account,side,amount,text
    2026-12-04,5.57.72/1/5.2,D,125.00,Correction of case 4711
    2026-12-04,9.52.59/0/9.1,K,125.00,Correction of case 4711

(``side`` ``D`` or ``K``, ``amount`` in kroner with at most two decimals, every line the same
date). It is refused whole, with every reason, unless it balances and every account is a class
of TØK's sortiment valid on its date; and only a member of ``[oir] manual_group`` may add one
(an OS group, checked for the acting identity of :mod:`toekgw.gateway.identity`, until the
gateway has its own access control).

The voucher's id follows from its municipality and lines, so adding the same file again (after
a crash that hid whether it was kept) finds the voucher and adds nothing: a voucher is booked
once. Two identical corrections are two files whose texts differ.
"""

from __future__ import annotations

import csv
import datetime as dt
import grp
import hashlib
import os
import pwd
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from toekgw.adapters.oir.chart import Chart, current_chart
from toekgw.adapters.oir.model import OIR_NAMESPACE
from toekgw.adapters.oir.plan import voucher_of
from toekgw.adapters.oir.settings import OirSettings
from toekgw.adapters.oir.store import BooksJournal
from toekgw.formats.findings import Finding
from toekgw.formats.oir import Account, OirFormatError, UnbalancedVoucher, parse_amount
from toekgw.gateway.errors import GatewayError, InputError, os_problem
from toekgw.gateway.faults import crash_point
from toekgw.gateway.identity import acting_identity
from toekgw.gateway.journal.books import PostingRow, VoucherRow

__all__ = ["ManualLine", "VoucherRefused", "add_manual_voucher", "read_manual_file"]

_COLUMNS = ["date", "account", "side", "amount", "text"]


class VoucherRefused(GatewayError):
    """A voucher that must not be built (unbalanced, an invalid account, not allowed)."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class ManualLine:
    line: int
    day: dt.date
    account: Account
    side: str
    amount_ore: int
    text: str


def _rows(path: Path) -> Iterator[list[str]]:
    """The CSV rows of ``path``; an :class:`InputError` when it cannot be read or is not
    UTF-8 text (a binary file, UTF-16, Latin-1)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            yield from csv.reader(handle)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02X}); expected a CSV "
            f"file in UTF-8 with the header {','.join(_COLUMNS)}"
        ) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {os_problem(path, exc)}") from None


def read_manual_file(path: Path) -> list[ManualLine]:
    """The lines of a manual-voucher CSV; :class:`VoucherRefused` names every bad line."""
    lines: list[ManualLine] = []
    problems: list[str] = []
    reader = _rows(path)
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != _COLUMNS:
        raise VoucherRefused(f"{path}:1: expected the header {','.join(_COLUMNS)}")
    for number, row in enumerate(reader, 2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            if len(row) != len(_COLUMNS):
                raise ValueError(f"expected {len(_COLUMNS)} columns, found {len(row)}")
            side = row[2].strip().upper()
            if side not in ("D", "K"):
                raise ValueError(f"side: expected D or K, found {row[2]!r}")
            amount = parse_amount(row[3])
            if amount <= 0:
                raise ValueError("amount: expected more than 0")
            lines.append(
                ManualLine(
                    number,
                    _date(row[0]),
                    Account.parse(row[1]),
                    side,
                    amount,
                    row[4].strip(),
                )
            )
        except (ValueError, OirFormatError) as exc:
            problems.append(f"{path}:{number}: {exc}")
    if problems:
        raise VoucherRefused("; ".join(problems))
    if not lines:
        raise VoucherRefused(f"{path}: no postings")
    return lines


def _date(cell: str) -> dt.date:
    """A line's date column, YYYY-MM-DD; a :class:`ValueError` naming the column."""
    try:
        return dt.date.fromisoformat(cell.strip())
    except ValueError:
        raise ValueError(f"date: expected a date, YYYY-MM-DD, found {cell!r}") from None


def _in_group(user: str, group: str) -> bool:
    """Whether ``user`` is a member of the OS group ``group`` (listed in it, or its primary
    group; the process's own groups when ``user`` is the process's user)."""
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return False
    if user in entry.gr_mem:
        return True
    try:
        if pwd.getpwnam(user).pw_gid == entry.gr_gid:
            return True
    except KeyError:
        return False
    own = pwd.getpwuid(os.getuid()).pw_name
    return user == own and entry.gr_gid in {os.getgid(), *os.getgroups()}


def _manual_id(municipality: str, lines: list[ManualLine]) -> str:
    content = "\n".join(f"{x.day}|{x.account.code}|{x.side}|{x.amount_ore}|{x.text}" for x in lines)
    digest = hashlib.sha256(content.encode()).hexdigest()
    return str(uuid.uuid5(OIR_NAMESPACE, f"manual|{municipality}|{digest}"))


def add_manual_voucher(
    journal: BooksJournal, settings: OirSettings, municipality: str, lines: list[ManualLine]
) -> tuple[VoucherRow, bool]:
    """Check and keep a manual voucher for ``municipality`` (``built``: sent with the rest);
    the voucher and whether it is new (False: these lines were added before)."""
    user = acting_identity()
    day = _check_request(user, settings, municipality, lines)
    rows, problems = _postings(current_chart(journal, settings.sortiment), lines, day)
    voucher_id = _manual_id(municipality, lines)
    earlier = journal.voucher(voucher_id)
    if earlier is not None:
        return earlier, False
    voucher = voucher_of(voucher_id, day, f"TOEK-MAN-{municipality}-{day:%Y%m%d}", rows)
    try:
        voucher.require_balanced()
    except UnbalancedVoucher as exc:
        problems.insert(0, str(exc))
    if problems:
        raise VoucherRefused("manual voucher refused: " + "; ".join(problems))
    with journal.transaction(durable=True):
        journal.add_voucher(
            voucher_id=voucher_id,
            group=municipality,
            day=day,
            kind="manual",
            state="built",
            postings=rows,
            reason=f"manual voucher by {user}",
        )
        crash_point("oir.manual.before_commit")
    crash_point("oir.manual.after_commit")
    found_row = journal.voucher(voucher_id)
    assert found_row is not None
    return found_row, True


def _check_request(
    user: str, settings: OirSettings, municipality: str, lines: list[ManualLine]
) -> dt.date:
    """The voucher's one date, once ``user`` may add it for ``municipality``."""
    group = settings.manual_group
    if group is not None and not _in_group(user, group):
        raise VoucherRefused(
            f"user {user} is not in the group {group} ([oir] manual_group) that may add "
            "manual vouchers"
        )
    if municipality not in settings.municipalities:
        raise VoucherRefused(f"municipality {municipality} has no [oir.municipalities] table")
    days = {line.day for line in lines}
    if len(days) != 1:
        raise VoucherRefused(
            f"a voucher has one date; the file has {', '.join(sorted(map(str, days)))}"
        )
    (day,) = days
    return day


def _postings(
    chart: Chart, lines: list[ManualLine], day: dt.date
) -> tuple[list[PostingRow], list[str]]:
    """The lines as postings, each account's class from the sortiment of ``day``; a problem
    per account the sortiment does not allow."""
    rows: list[PostingRow] = []
    problems: list[str] = []
    for seq, line in enumerate(lines, 1):
        found = chart.find(line.account, day)
        if isinstance(found, Finding):
            problems.append(f"line {line.line}: {found.message}")
            class_id = None
        else:
            class_id = found.class_id
        rows.append(
            PostingRow(
                seq,
                line.side,
                line.amount_ore,
                line.account.code,
                class_id,
                line.text or None,
                None,
                None,
                None,
                None,
            )
        )
    return rows, problems
