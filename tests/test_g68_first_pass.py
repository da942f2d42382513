"""The receiver's first pass reads clean records column-wise, and its second pass cuts them at
their positions: what each finds must be exactly what reading every record as an object finds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.g68_helpers import CVR, delivery_lines, payment
from toekgw.adapters.g68 import G68Processor
from toekgw.adapters.g68.first_pass import FirstPass
from toekgw.adapters.g68.inbound import Journaled, _peek_header
from toekgw.adapters.g68.payments import received_item
from toekgw.adapters.g68.reader import G68Config, G68Reader, G68Validation
from toekgw.adapters.serviceplatform import ReceiveSettings
from toekgw.formats.fixed import iter_lines
from toekgw.formats.g68 import G68Form, payment_codec
from toekgw.formats.g68.layouts import G68_FAST
from toekgw.gateway.journal import Journal, NewItem, open_journal
from toekgw.simulators.ksd import GeneratorSettings, write_delivery

TODAY = dt.date(2026, 11, 23)


PROCESSOR = G68Processor(ReceiveSettings("g68", ("ksd",), "ksd"), today=TODAY)


def _first_pass(
    journal: Journal, path: Path, *, column_wise: bool = True
) -> tuple[FirstPass, G68Validation]:
    """The receiver's first pass over ``path``: its findings and the reader's result."""
    scan = FirstPass(PROCESSOR.counterpart, journal, _peek_header(path))
    config = G68Config(today=TODAY, recall_known=scan.recall_known)
    reader = G68Reader(path, config, on_clean=scan.clean if column_wise else None)
    scan.run(reader)
    return scan, reader.result()


def _both_ways(tmp_path: Path, path: Path) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """The first pass's outcome read record by record, and read column-wise."""
    journal = open_journal(tmp_path / "journal.sqlite")

    def outcome(column_wise: bool) -> tuple[object, ...]:
        scan, result = _first_pass(journal, path, column_wise=column_wise)
        # controlled: every payment's duplicate-control key, so each key's text is compared
        return scan.excluded, scan.findings, scan.recalls, scan.paid, scan.controlled, result

    return outcome(column_wise=False), outcome(column_wise=True)


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


Passes = dict[bool, list[NewItem]]  # recalls or not -> the items


def _second_pass_and_exact(tmp_path: Path, path: Path, form: G68Form) -> tuple[Passes, Passes]:
    """The second pass's items (payments, recalls) and those of every journaled record decoded
    the exact way."""
    scan, result = _first_pass(open_journal(tmp_path / "journal.sqlite"), path)
    assert result.header is not None and not result.refused
    lines = Journaled(scan.excluded, scan.clean_lines(result.count + 1))
    second = {
        recalls: list(PROCESSOR._items(path, result, lines, recalls=recalls))
        for recalls in (False, True)
    }
    codec = payment_codec(form)
    exact: Passes = {False: [], True: []}
    with path.open("rb") as handle:
        for number, text, _ in iter_lines(handle):
            if 1 < number <= result.count + 1 and number not in scan.excluded:
                p = codec.decode(text) or codec.diagnose(text, number)[0]
                assert p is not None
                exact[p.is_recall].append(
                    received_item(p, result.header, number, straks=result.is_straks)
                )
    return second, exact


@pytest.mark.parametrize("form", [G68Form.FAST, G68Form.FLOATING])
def test_the_second_pass_makes_the_items_of_the_exact_decoder(
    tmp_path: Path, form: G68Form
) -> None:
    """The second pass cuts each fast-form record the first pass's screen passed at its
    positions: its items are those of every journaled record decoded the exact way."""
    path = tmp_path / "delivery.g68"
    write_delivery(
        path, GeneratorSettings(count=3000, seed=11, form=form, error_rate=0.05, today=TODAY)
    )
    second, exact = _second_pass_and_exact(tmp_path, path, form)
    assert second == exact
    # of something: most records journaled, not all (the generator's recalls: unmatched)
    assert 2500 < len(exact[False]) < 3000


@pytest.mark.parametrize("form", [G68Form.FAST, G68Form.FLOATING])
def test_the_second_pass_makes_the_recalls_and_odd_payments_of_the_exact_decoder(
    tmp_path: Path, form: G68Form
) -> None:
    """Recalls of payments earlier in the delivery are journaled (in a pass of their own), and
    a record's rarer shapes cut as they decode: an ident code's letter alias, no paying unit,
    no date, a blank first text line before a second, no texts at all."""
    payments = [payment(seq) for seq in range(1, 41)]
    payments[4] = payment(5, ident_code="C", beneficiary=CVR)
    payments[5] = payment(6, paying_unit=None, payment_date=None)
    payments[6] = payment(7, texts=("", "anden linje"))
    payments[7] = payment(8, texts=())
    for seq, recalled in ((41, 3), (42, 9)):
        ident = payments[recalled - 1].payment_ident
        payments.append(payment(seq, sign="-", payment_ident=ident))
    path = tmp_path / "delivery.g68"
    path.write_text("\r\n".join(delivery_lines(form, payments)) + "\r\n", encoding="latin-1")
    second, exact = _second_pass_and_exact(tmp_path, path, form)
    assert second == exact
    assert len(exact[False]) == 40 and len(exact[True]) == 2


def test_the_second_pass_decodes_the_exact_way_what_the_screen_did_not_pass(
    tmp_path: Path,
) -> None:
    """Records the screen does not pass: a text with a Windows-1252 byte (the exact way
    takes it, with a warning on the file) is decoded the exact way by the second pass too;
    a blank optional number padded with a no-break space (cut at its positions, the paying
    unit would be the padding) is refused by the exact way, so never reaches it."""
    lines = delivery_lines(G68Form.FAST, [payment(seq) for seq in range(1, 6)])
    unit, kind = G68_FAST.by_name["paying_unit"], G68_FAST.by_name["organisation_type"]
    text = G68_FAST.by_name["text_01"]
    lines[2] = lines[2][: unit.start - 1] + "\xa0   " + lines[2][unit.end :]
    lines[3] = lines[3][: kind.start - 1] + "\xa0 " + lines[3][kind.end :]
    lines[4] = lines[4][: text.start - 1] + "Hj\x96lp" + lines[4][text.start + 4 :]
    path = tmp_path / "delivery.g68"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="latin-1")
    second, exact = _second_pass_and_exact(tmp_path, path, G68Form.FAST)
    assert second == exact
    journaled = [str(item.payload) for item in exact[False]]
    assert len(journaled) == 3 and '"texts": ["Hj\x96lp' in journaled[1]
