"""Manual vouchers (`toekgw oir manual`): refused whole unless they balance, use only accounts
of the sortiment valid on their date, and come from a member of [oir] manual_group."""

from __future__ import annotations

import datetime as dt
import grp
import os
from pathlib import Path

import pytest

from tests.oir_data import EXPENSE, INTERMEDIATE
from tests.oir_rig import OirRig

HEADER = "date,account,side,amount,text\n"


def _rig(tmp_path: Path) -> OirRig:
    rig = OirRig(tmp_path)
    rig.publish_sortiment()
    assert rig.run("sortiment", "receive").exit_code == 0
    return rig


def _file(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "manual.csv"
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return str(path)


def test_a_balanced_manual_voucher_is_built_and_sent_with_the_rest(tmp_path: Path) -> None:
    rig = _rig(tmp_path)
    day = dt.date.today().isoformat()
    csv = _file(tmp_path, f"{day},{EXPENSE},D,125.50,Rettelse sag 4711",
                f"{day},{INTERMEDIATE},K,125.50,Rettelse sag 4711")  # fmt: skip
    result = rig.run("oir", "manual", csv, "--municipality", "101")
    assert result.exit_code == 0, result.output
    rig.run("oir", "send")
    rig.exchange()
    rig.run("oir", "send")
    assert rig.run("oir", "receive").exit_code == 0
    assert rig.ledger.balances() == {EXPENSE: 12_550, INTERMEDIATE: -12_550}


def test_an_unbalanced_or_invalid_manual_voucher_is_refused_with_every_reason(
    tmp_path: Path,
) -> None:
    rig = _rig(tmp_path)
    day = dt.date.today().isoformat()
    csv = _file(tmp_path, f"{day},{EXPENSE},D,100.00,x", f"{day},1.11.11/1/1,K,99.99,y")
    result = rig.run("oir", "manual", csv, "--municipality", "101")
    assert result.exit_code == 1
    assert "debit 10000 øre, credit 9999 øre" in result.output
    assert "line 3: account 1.11.11/1/1: not in sortiment" in result.output
    bad = _file(tmp_path, f"{day},{EXPENSE},X,1,x")
    result = rig.run("oir", "manual", bad, "--municipality", "101")
    assert result.exit_code == 1 and "manual.csv:2: side: expected D or K" in result.output
    bad = _file(tmp_path, f"2026-13-01,{EXPENSE},D,1,x", f"1.12.2026,{EXPENSE},K,1,x")
    result = rig.run("oir", "manual", bad, "--municipality", "101")
    assert result.exit_code == 1
    assert "manual.csv:2: date: expected a date, YYYY-MM-DD, found '2026-13-01'" in result.output
    assert "manual.csv:3: date: expected a date, YYYY-MM-DD, found '1.12.2026'" in result.output
    journal = rig.journal()
    assert journal.vouchers() == []
    journal.close()


def test_only_the_configured_group_may_add_one(tmp_path: Path) -> None:
    rig = _rig(tmp_path)
    mine = grp.getgrgid(os.getgid()).gr_name
    text = rig.config.read_text().replace(
        "[oir.accounts]", 'manual_group = "no-such-group-x"\n\n[oir.accounts]'
    )
    rig.config.write_text(text)
    day = dt.date.today().isoformat()
    csv = _file(tmp_path, f"{day},{EXPENSE},D,1,x", f"{day},{INTERMEDIATE},K,1,x")
    result = rig.run("oir", "manual", csv, "--municipality", "101")
    assert result.exit_code == 1 and "is not in the group no-such-group-x" in result.output
    rig.config.write_text(text.replace("no-such-group-x", mine))
    assert rig.run("oir", "manual", csv, "--municipality", "101").exit_code == 0


@pytest.mark.parametrize(
    ("content", "byte"),
    [
        (bytes(range(128, 256)) * 3, "0x80"),
        (HEADER.encode("utf-16"), "0xFF"),
        ((HEADER + "2026-12-04,5.57.72/1/5.2,D,125.00,Rettelse æøå\n").encode("latin-1"), "0xE6"),
    ],
    ids=["binary", "utf-16", "latin-1"],
)
def test_a_file_that_is_not_utf8_is_one_line_naming_it(
    tmp_path: Path, content: bytes, byte: str
) -> None:
    rig = OirRig(tmp_path)
    path = tmp_path / "manual.csv"
    path.write_bytes(content)
    result = rig.run("oir", "manual", str(path), "--municipality", "101")
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    assert result.stderr.strip() == (
        f"toekgw: error: {path}: not UTF-8 text (byte {byte}); expected a CSV file in UTF-8 "
        "with the header date,account,side,amount,text"
    )
