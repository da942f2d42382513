"""``pip install toek-gateway`` puts exactly one top-level package into site-packages: ``toekgw``.

The wheel is built the way pip builds it for a user (an isolated build of this checkout); its
entries show what lands in site-packages. The schemas must travel with it (package data), the
license text too, and the PEP 561 marker that lets a project embedding the adapters type-check
its calls against ours.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of a copy of the sources (a checkout's ``build/`` from an earlier build would
    put files into it that the sources no longer have)."""
    where, tree = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(where), str(tree)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = where.glob("toek_gateway-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_holds_one_top_level_package_with_its_schemas(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"toekgw"}
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT" in text
    assert any(n.startswith("toekgw/xsd/nemkonto/") and n.endswith(".xsd") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "toekgw = toekgw.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "toek_gateway-0.1.0.dist-info/licenses/LICENSE" in names
    assert (
        "MIT License"
        in zipfile.ZipFile(wheel).read("toek_gateway-0.1.0.dist-info/licenses/LICENSE").decode()
    )


#: A project's code that calls ours: one call as typed, one assignment that is wrong.
_EMBEDDING = """\
from toekgw.formats.g68 import decode_header

header, findings = decode_header("", "fast", 1)
wrong: int = findings
"""


@pytest.mark.slow
def test_a_project_installing_the_wheel_type_checks_against_its_hints(
    wheel: Path, tmp_path: Path
) -> None:
    """mypy, in a project whose environment has the wheel installed (nothing else of ours on
    its path), reads our hints: it finds the wrong assignment, and does not skip the package
    as untyped (which it does for a package without ``py.typed``)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    project = tmp_path / "project"
    project.mkdir()
    (project / "use.py").write_text(_EMBEDDING, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--python-executable", str(python),
         "use.py"],
        cwd=project, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "missing library stubs or py.typed marker" not in done.stdout, done.stdout
    wrong = 'use.py:4: error: Incompatible types in assignment (expression has type "list[Finding]"'
    assert wrong in done.stdout, done.stdout
    assert done.stdout.count("error:") == 1, done.stdout
