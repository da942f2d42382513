"""The KSD generator: deterministic, streaming, and the validator finds exactly what it planted."""

from __future__ import annotations

import json
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from tests.g68_helpers import CONFIG, TODAY
from toekgw.adapters.g68 import read_delivery
from toekgw.formats.g68 import G68Form
from toekgw.simulators.ksd import ERROR_KINDS, GeneratorSettings, generate_lines, write_deliveries
from toekgw.simulators.ksd.g68 import manifest_path, write_delivery


@pytest.mark.parametrize("form", [G68Form.FAST, G68Form.FLOATING])
def test_validate_finds_exactly_the_planted_errors(tmp_path: Path, form: G68Form) -> None:
    path = tmp_path / "d.g68"
    settings = GeneratorSettings(count=4000, seed=11, form=form, error_rate=0.08, today=TODAY)
    summary = write_delivery(path, settings)
    manifest = json.loads(manifest_path(path).read_text(encoding="utf-8"))
    planted = {(p["line"], p["code"]) for p in manifest["planted"]}
    assert len(planted) == summary.planted > 200
    kinds = Counter(p["kind"] for p in manifest["planted"])
    expected_kinds = {k for k in ERROR_KINDS if form is G68Form.FLOATING or "tag" not in k}
    if form is G68Form.FLOATING:
        expected_kinds.discard("required_blank")
    assert set(kinds) == expected_kinds  # a variety of errors, every kind of the form

    result = read_delivery(path, CONFIG)
    found = [(f.line, f.code) for f in result.findings]
    assert len(found) == len(set(found))  # one finding per planted error
    assert set(found) == planted
    assert not result.refused and result.count == 4000
    assert result.trailer is not None and result.trailer.net_sum == summary.net_sum


def test_a_clean_delivery_is_realistic_and_valid(tmp_path: Path) -> None:
    path = tmp_path / "clean.g68"
    write_delivery(path, GeneratorSettings(count=3000, seed=3, today=TODAY))
    result = read_delivery(path, CONFIG)
    assert result.findings == [] and result.ok
    data = path.read_bytes()
    assert b"\r\n" in data and "æ".encode("iso-8859-1") in data
    straks = tmp_path / "straks.g68"
    write_delivery(straks, GeneratorSettings(count=50, seed=3, today=TODAY, straks=True))
    assert read_delivery(straks, CONFIG).is_straks


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    s = GeneratorSettings(count=500, seed=5, form=G68Form.FLOATING, error_rate=0.1, today=TODAY)
    write_delivery(a, s)
    write_delivery(b, s)
    write_delivery(c, GeneratorSettings(count=500, seed=6, today=TODAY))
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_split_writes_numbered_deliveries_with_consecutive_numbers(tmp_path: Path) -> None:
    s = GeneratorSettings(count=25, seed=1, today=TODAY, delivery_number=41)
    out = write_deliveries(tmp_path / "big.g68", s, split=True, per_delivery=10)
    assert [p.path.name for p in out] == ["big-001.g68", "big-002.g68", "big-003.g68"]
    results = [read_delivery(p.path, CONFIG) for p in out]
    assert [r.count for r in results] == [10, 10, 5]
    assert [r.header.delivery_number for r in results if r.header] == [41, 42, 43]
    assert all(r.ok for r in results)


def test_more_than_99999_without_split_is_refused(tmp_path: Path) -> None:
    from toekgw.gateway.errors import UsageError

    with pytest.raises(UsageError, match="at most 99,999"):
        write_deliveries(tmp_path / "x", GeneratorSettings(count=100_000, seed=1))
    assert not (tmp_path / "x").exists()


def test_generating_streams(tmp_path: Path) -> None:
    def peak(count: int) -> int:
        tracemalloc.start()
        for _ in generate_lines(GeneratorSettings(count, seed=1, error_rate=0.05, today=TODAY)):
            pass
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(200), peak(2_000)
    assert large < small * 1.5 + 50_000
