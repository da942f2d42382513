"""The journal's floor of ``bench/receive_floor.py``: it inserts exactly the rows the receive
journaled, into the journal as it was before, and nothing else."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from bench import month_end, receive_floor


def _rows(journal: Path, after_id: int) -> list[tuple[object, ...]]:
    db = sqlite3.connect(journal)
    try:
        return db.execute("SELECT * FROM items WHERE id > ? ORDER BY id", (after_id,)).fetchall()
    finally:
        db.close()


def test_the_floor_inserts_the_rows_the_receive_journaled(tmp_path: Path) -> None:
    month, last = receive_floor.prepare(tmp_path, 2, 1_500)
    assert not list((month / "ksd").glob("*.g68"))  # only the last delivery is left to send
    before = _rows(month / "journal.sqlite", 0)
    assert len(before) > 2_800  # two deliveries, less the generator's planted errors

    where = tmp_path / "run"
    shutil.copytree(month, where)
    shutil.copy(last, where / "ksd" / last.name)
    shutil.copy(month / "journal.sqlite", where / "floor.sqlite")
    month_end.stage_send(where)
    month_end.run("receive g68", where)
    received = _rows(where / "journal.sqlite", len(before))
    assert len(received) > 1_400

    floor = receive_floor.journal_floor(where / "floor.sqlite", where / "journal.sqlite")
    assert floor["count"] == len(received)
    assert floor["wall_s"] >= floor["insert_s"] + floor["commit_s"]
    # The same rows, ids and all, on top of the same journal: nothing else was written.
    assert _rows(where / "floor.sqlite", 0) == before + received

    # Narrow: the same rows but for each payload, which holds the same values in their order.
    shutil.copy(month / "journal.sqlite", where / "narrow.sqlite")
    narrow = receive_floor.journal_floor(
        where / "narrow.sqlite", where / "journal.sqlite", narrow=True
    )
    assert narrow["count"] == len(received)
    data = [r[0] for r in sqlite3.connect(where / "journal.sqlite").execute(
        "SELECT name FROM pragma_table_info('items')")].index("data")  # fmt: skip
    narrowed = _rows(where / "narrow.sqlite", len(before))
    assert [r[:data] + r[data + 1 :] for r in narrowed] == [
        r[:data] + r[data + 1 :] for r in received
    ]
    for wide, slim in zip(received, narrowed, strict=True):
        assert json.loads(slim[data]) == list(json.loads(wide[data]).values())
        assert len(slim[data]) < len(wide[data]) / 2


def test_one_run_measures_the_same_delivery_three_ways(tmp_path: Path) -> None:
    month, last = receive_floor.prepare(tmp_path, 1, 1_000)
    figures = receive_floor.one_run(month, last, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    assert figures["receive g68"]["count"] == figures["journal floor"]["count"] > 900
    assert figures["narrow floor"]["count"] == figures["journal floor"]["count"]
    assert figures["bare slicing"]["count"] == figures["bare sqlite"]["count"] == 1_000
    assert set(receive_floor._ratios(figures, "wall_s")) == {
        "floor_share_of_receive",
        "bare_vs_receive",
        "bare_vs_journal_floor",
        "bare_vs_narrow_floor",
    }
