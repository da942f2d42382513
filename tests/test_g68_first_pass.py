"""The receiver's first pass reads clean records column-wise: what it finds must be exactly
what reading every record as an object finds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from toekgw.adapters.g68 import G68Processor
from toekgw.adapters.g68.inbound import _FirstPass, _peek_header
from toekgw.adapters.g68.reader import G68Config, G68Reader
from toekgw.adapters.serviceplatform import ReceiveSettings
from toekgw.formats.g68 import G68Form
from toekgw.formats.g68.layouts import G68_FAST
from toekgw.gateway.journal import open_journal
from toekgw.simulators.ksd import GeneratorSettings, write_delivery

TODAY = dt.date(2026, 11, 23)


def _both_ways(tmp_path: Path, path: Path) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """The first pass's outcome read record by record, and read column-wise."""
    journal = open_journal(tmp_path / "journal.sqlite")
    processor = G68Processor(ReceiveSettings("g68", ("ksd",), "ksd"), today=TODAY)

    def first_pass(column_wise: bool) -> tuple[object, ...]:
        scan = _FirstPass(processor, journal, _peek_header(path))
        config = G68Config(today=TODAY, recall_known=scan.recall_known)
        reader = G68Reader(path, config, on_clean=scan.clean if column_wise else None)
        scan.run(reader)
        # controlled: every payment's duplicate-control key, so each key's text is compared
        return (
            scan.excluded, scan.findings, scan.recalls, scan.paid, scan.controlled,
            reader.result(),
        )  # fmt: skip

    return first_pass(column_wise=False), first_pass(column_wise=True)


@pytest.mark.parametrize("form", [G68Form.FAST, G68Form.FLOATING])
def test_the_first_pass_finds_the_same_column_wise_as_record_by_record(
    tmp_path: Path, form: G68Form
) -> None:
    path = tmp_path / "delivery.g68"
    write_delivery(
        path, GeneratorSettings(count=3000, seed=7, form=form, error_rate=0.05, today=TODAY)
    )
    exact, columns = _both_ways(tmp_path, path)
    assert columns == exact
    excluded, findings, _, paid, controlled, result = exact
    # the comparison is of something: errors, reused idents and (unmatched) recalls were planted
    codes = {f.code for f in [*findings, *result.findings]}  # type: ignore[attr-defined]
    assert excluded and {"g68.payment.ident_reused", "g68.recall.unmatched"} <= codes
    assert len(paid) > 2500 and len(controlled) > 2500  # type: ignore[arg-type]


def test_a_record_of_other_bytes_among_clean_ones_goes_the_exact_way(tmp_path: Path) -> None:
    path = tmp_path / "delivery.g68"
    write_delivery(path, GeneratorSettings(count=50, seed=3, today=TODAY))
    lines = path.read_bytes().split(b"\n")
    for name in ("payment_ident", "beneficiary", "paying_unit"):
        field = G68_FAST.by_name[name]
        record = bytearray(lines[5])
        record[field.start - 1 : field.end] = b"\xe6" * field.length  # 'æ' in ISO-8859-1
        lines[5] = bytes(record)
    path.write_bytes(b"\n".join(lines))
    exact, columns = _both_ways(tmp_path, path)
    assert columns == exact
    excluded = exact[0]
    assert 6 in excluded  # type: ignore[operator]
