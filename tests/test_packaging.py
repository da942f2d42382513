"""``pip install toek-gateway`` puts exactly one top-level package into site-packages: ``toekgw``.

The wheel is built the way pip builds it for a user (an isolated build of this checkout); its
entries show what lands in site-packages. The schemas must travel with it (package data).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_holds_one_top_level_package_with_its_schemas(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("toek_gateway-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"toekgw"}
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT" in text
    assert any(n.startswith("toekgw/xsd/nemkonto/") and n.endswith(".xsd") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "toekgw = toekgw.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
