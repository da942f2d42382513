"""The design's import rules are checked by import-linter (``make lint``), and the check bites.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``): the layers cli > adapters >
gateway > formats > xsd, the core naming no counterpart, pure codecs, simulators apart. These
tests run ``lint-imports`` on the real tree (it must pass) and on a copy with one forbidden
import planted in each protected package (it must fail, naming the contract and the import).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tmp_path: Path, package_root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(tmp_path, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        (
            "gateway/_planted.py",
            "import toekgw.formats.serviceplatform\n",
            "The core imports no counterpart's format",
        ),
        (
            "gateway/_planted.py",
            "from toekgw.adapters.nemkonto import settings\n",
            "The core names no counterpart",
        ),
        ("formats/_planted.py", "import toekgw.gateway.journal\n", "Codecs are pure"),
        ("simulators/_planted.py", "import toekgw.adapters.g68\n", "Simulators use formats"),
        ("adapters/_planted.py", "import toekgw.cli.main\n", "Layers"),
    ],
)
def test_a_planted_forbidden_import_breaks_the_check(
    tmp_path: Path, module: str, planted: str, contract: str
) -> None:
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "toekgw", copy / "toekgw", ignore=shutil.ignore_patterns("__pycache__")
    )
    (copy / "toekgw" / module).write_text(f'"""Planted by a test."""\n\n{planted}')
    result = _lint(tmp_path, copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(line.startswith(contract) for line in broken), result.stdout
    assert f"toekgw.{module[:-3].replace('/', '.')}" in result.stdout
