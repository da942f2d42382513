"""The hash chain's rows written as JSON by SQLite (``json_array``) are the bytes the chain's
own encoder writes: the links sealed either way are the same, and a SQLite that writes the
probe otherwise is not used (its links would not verify anywhere else)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_hash_chain import _filled
from toekgw.gateway.journal import _sqlite_chain, open_journal
from toekgw.gateway.journal._sql import Dialect

_VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(st.characters(blacklist_categories=["Cs"])),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_VALUES, min_size=1, max_size=8))
def test_sqlite_json_array_is_the_chain_encoding(row: list[object]) -> None:
    db = sqlite3.connect(":memory:")
    sql = Dialect().json_row(", ".join("?" * len(row)))
    assert db.execute(f"SELECT {sql}", row).fetchone()[0] == _sqlite_chain._encode(row)
    db.close()


def _verified(path: Path) -> int:
    journal = open_journal(path)
    report = journal.verify_chain()
    journal.close()
    assert report.problems == []
    return report.links


def test_links_are_the_same_whoever_writes_the_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sealed with SQLite's JSON, verified with ours, and the other way round."""
    used: list[bool] = []
    real = _sqlite_chain._writes_like_us

    def spy(*args: object) -> bool:
        used.append(real(*args))  # type: ignore[arg-type]
        return used[-1]

    monkeypatch.setattr(_sqlite_chain, "_writes_like_us", spy)
    by_sqlite = tmp_path / "sqlite.sqlite"
    _filled(by_sqlite)
    assert used and all(used)
    by_python = tmp_path / "python.sqlite"
    with monkeypatch.context() as m:
        # A database writing the probe otherwise (here: upper case) is not asked.
        m.setattr(Dialect, "json_row", lambda self, c: f"upper(json_array({c}))")
        m.setattr(_sqlite_chain, "_LIKE_US", {})  # probed afresh: another database library
        used.clear()
        _filled(by_python)
        assert used and not any(used)
        assert _verified(by_sqlite) >= 3  # verified with Python's JSON
    used.clear()
    assert _verified(by_python) >= 3  # verified with SQLite's
    assert used and all(used)
